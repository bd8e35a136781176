package csvio_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/gocarina/gocsv"

	"github.com/inv-cli/inv/internal/csvio"
	"github.com/inv-cli/inv/internal/inventory"
)

// nilv is how a field the file does not set shows in a product view.
const nilv = "nil"

// product is a CatalogueRecord flattened for comparison: every pointer of
// ProductFields as its value, or "nil".
type product struct {
	Row                                                 int
	SKU, FieldsSKU, Title, Price, CompareAt, Barcode    string
	Stock, LowStock, Track, Backorder, Status, Descript string
	Problems                                            []inventory.Problem
}

func str(p *string) string {
	if p == nil {
		return nilv
	}
	return *p
}

func view(r inventory.CatalogueRecord) product {
	f := r.Fields
	v := product{
		Row: r.Row, SKU: r.SKU, FieldsSKU: str(f.SKU), Title: str(f.Title), Price: str(f.Price),
		Barcode: str(f.Barcode), Status: str(f.Status), Descript: str(f.Description),
		CompareAt: nilv, Stock: nilv, LowStock: nilv, Track: nilv, Backorder: nilv,
		Problems: r.Problems,
	}
	if f.CompareAtPrice != nil {
		v.CompareAt = str(*f.CompareAtPrice)
	}
	if f.Stock != nil {
		v.Stock = fmt.Sprint(*f.Stock)
	}
	if f.LowStockThreshold != nil {
		if *f.LowStockThreshold == nil {
			v.LowStock = "cleared"
		} else {
			v.LowStock = fmt.Sprint(**f.LowStockThreshold)
		}
	}
	if f.TrackStock != nil {
		v.Track = fmt.Sprint(*f.TrackStock)
	}
	if f.AllowBackorder != nil {
		v.Backorder = fmt.Sprint(*f.AllowBackorder)
	}
	return v
}

// readCatalogue reads every record of in; it fails the test on an error.
func readCatalogue(t *testing.T, in []byte, opts csvio.CatalogueOptions) ([]product, int) {
	t.Helper()
	r, err := csvio.NewCatalogueReader(bytes.NewReader(in), opts)
	if err != nil {
		t.Fatal(err)
	}
	var out []product
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out, r.SkippedNoSKU()
		}
		if err != nil {
			t.Fatalf("Next after %d records: %v", len(out), err)
		}
		out = append(out, view(rec))
	}
}

func checkProducts(t *testing.T, got, want []product) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d records, want %d:\n%s", len(got), len(want), dump(got))
	}
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func dump(ps []product) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "  %+v\n", p)
	}
	return b.String()
}

func TestCatalogueWooCommerce(t *testing.T) {
	got, skipped := readCatalogue(t, sample(t, "woocommerce-products.csv"), csvio.CatalogueOptions{})
	checkProducts(t, got, []product{
		{
			// Quoted comma in the name, quoted newline and doubled quotes in
			// the description; the record spans lines 2-3.
			Row: 2, SKU: "Tea-Tin-250", FieldsSKU: "Tea-Tin-250", Title: "Tea Tin, 250 g", Price: "12.00",
			CompareAt: nilv, Barcode: nilv, Stock: "42", LowStock: nilv, Track: "true", Backorder: "false",
			Status: "published", Descript: "Food-safe tin with \"snap\" lid.\nHolds 250 g.",
		},
		{
			// Line 4, after the two-line record. Empty Stock: not managed.
			Row: 4, SKU: "woo-apron", FieldsSKU: "woo-apron", Title: "Apron", Price: nilv,
			CompareAt: nilv, Barcode: nilv, Stock: nilv, LowStock: nilv, Track: "false", Backorder: "false",
			Status: "published", Descript: nilv,
		},
		{
			// Negative stock is kept (the engine decides); "notify" allows backorders.
			Row: 5, SKU: "Woo-Apron-Charcoal", FieldsSKU: "Woo-Apron-Charcoal", Title: "Apron - Charcoal", Price: "29.00",
			CompareAt: nilv, Barcode: nilv, Stock: "-3", LowStock: nilv, Track: "true", Backorder: "true",
			Status: "published", Descript: nilv,
		},
		{
			Row: 6, SKU: "woo-gift-card", FieldsSKU: "woo-gift-card", Title: "Gift Card", Price: "25.00",
			CompareAt: nilv, Barcode: nilv, Stock: nilv, LowStock: nilv, Track: "false", Backorder: "false",
			Status: "published", Descript: nilv,
		},
	})
	if skipped != 0 {
		t.Errorf("SkippedNoSKU = %d, want 0", skipped)
	}
}

func TestCatalogueShopify(t *testing.T) {
	got, skipped := readCatalogue(t, sample(t, "shopify-products.csv"), csvio.CatalogueOptions{})
	desc := "<p>Washed linen, one size</p>"
	checkProducts(t, got, []product{
		{
			Row: 2, SKU: "APR-SND", FieldsSKU: "APR-SND", Title: "Linen Apron - Sand", Price: "29.00",
			CompareAt: nilv, Barcode: "0012345678905", Stock: "14", LowStock: nilv, Track: "true", Backorder: "false",
			Status: "published", Descript: desc,
		},
		{
			// A variant row: title, status and description come from the
			// product's first row; "continue" sells past zero.
			Row: 3, SKU: "APR-CHR", FieldsSKU: "APR-CHR", Title: "Linen Apron - Charcoal", Price: "29.00",
			CompareAt: nilv, Barcode: "4006381333931", Stock: "0", LowStock: nilv, Track: "true", Backorder: "true",
			Status: "published", Descript: desc,
		},
		// Line 4 is an image row: no SKU, skipped.
		{
			// "Default Title" adds nothing to the title; no inventory
			// tracker means not tracked.
			Row: 5, SKU: "GC-25", FieldsSKU: "GC-25", Title: "Gift Card", Price: "25.00",
			CompareAt: nilv, Barcode: nilv, Stock: "0", LowStock: nilv, Track: "false", Backorder: "false",
			Status: "published", Descript: nilv,
		},
	})
	if skipped != 1 {
		t.Errorf("SkippedNoSKU = %d, want 1 (the image row)", skipped)
	}
}

func TestCataloguePlain(t *testing.T) {
	in := "\uFEFF\"Name\";\"SKU\";\"Price\";\"Compare-at price\";\"EAN\";\"Stock\";\"Low stock threshold\";\"Track stock\";\"Allow backorder\";\"Status\";\"Description\";\"Colour\"\r\n" +
		"Mug;  MUG-1 ;19.9;24.5;4006381333931;7.0;2;yes;no;Draft;Blue mug, 350 ml;blue\r\n" +
		"Plate;PL-1;;;;;;0;;;;\r\n" +
		"Bowl;bowl-1;5;;;3;0;;1;ARCHIVED;;\r\n"
	got, _ := readCatalogue(t, []byte(in), csvio.CatalogueOptions{})
	checkProducts(t, got, []product{
		{
			Row: 2, SKU: "MUG-1", FieldsSKU: "MUG-1", Title: "Mug", Price: "19.90", CompareAt: "24.50",
			Barcode: "4006381333931", Stock: "7", LowStock: "2", Track: "true", Backorder: "false",
			Status: "draft", Descript: "Blue mug, 350 ml",
		},
		{
			// Empty cells leave fields alone; an explicit track column
			// wins over "no stock given".
			Row: 3, SKU: "PL-1", FieldsSKU: "PL-1", Title: "Plate", Price: nilv, CompareAt: nilv,
			Barcode: nilv, Stock: nilv, LowStock: nilv, Track: "false", Backorder: nilv,
			Status: nilv, Descript: nilv,
		},
		{
			// No track cell: a stock level means tracked.
			Row: 4, SKU: "bowl-1", FieldsSKU: "bowl-1", Title: "Bowl", Price: "5.00", CompareAt: nilv,
			Barcode: nilv, Stock: "3", LowStock: "0", Track: "true", Backorder: "true",
			Status: "archived", Descript: nilv,
		},
	})
}

func TestCatalogueTracking(t *testing.T) {
	tests := []struct {
		name   string
		header string
		row    string
		want   string // "nil", "true" or "false"
	}{
		{"stock given", "sku,title,stock", "A,a,5", "true"},
		{"stock empty", "sku,title,stock", "A,a,", "false"},
		{"no stock column", "sku,title,price", "A,a,5", nilv},
		{"manage stock wins over stock", "sku,title,stock,manage stock", "A,a,5,no", "false"},
		{"empty manage stock falls through", "sku,title,stock,manage stock", "A,a,5,", "true"},
		{"shopify tracker", "Variant SKU,Title,Variant Inventory Tracker,Variant Inventory Qty", "A,a,shopify,", "true"},
		{"no tracker wins over stock", "Variant SKU,Title,Variant Inventory Tracker,Variant Inventory Qty", "A,a,,5", "false"},
		{"track stock wins over tracker", "Variant SKU,Title,Variant Inventory Tracker,Track Stock", "A,a,,TRUE", "true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := readCatalogue(t, []byte(tt.header+"\n"+tt.row+"\n"), csvio.CatalogueOptions{})
			if len(got) != 1 || got[0].Track != tt.want || len(got[0].Problems) != 0 {
				t.Errorf("got %+v, want TrackStock %s", got, tt.want)
			}
		})
	}
}

func TestCatalogueBackorder(t *testing.T) {
	tests := []struct {
		header, row, want string
	}{
		{"sku,title,allow backorder", "A,a,yes", "true"},
		{"sku,title,allow backorder", "A,a,", nilv},
		{"Variant SKU,Title,Variant Inventory Policy", "A,a,continue", "true"},
		{"Variant SKU,Title,Variant Inventory Policy", "A,a,deny", "false"},
		{"SKU,Name,Backorders allowed?", "A,a,notify", "true"},
		{"SKU,Name,Backorders allowed?", "A,a,1", "true"},
		{"SKU,Name,Backorders allowed?", "A,a,0", "false"},
		{"sku,title,allow backorder,variant inventory policy", "A,a,0,continue", "false"},
	}
	for _, tt := range tests {
		got, _ := readCatalogue(t, []byte(tt.header+"\n"+tt.row+"\n"), csvio.CatalogueOptions{})
		if len(got) != 1 || got[0].Backorder != tt.want || len(got[0].Problems) != 0 {
			t.Errorf("%s / %s: got %+v, want AllowBackorder %s", tt.header, tt.row, got, tt.want)
		}
	}
}

func TestCatalogueStatus(t *testing.T) {
	tests := []struct {
		header, row, want string
	}{
		{"sku,title,status", "A,a,active", "published"},
		{"sku,title,status", "A,a,Published", "published"},
		{"sku,title,status", "A,a,draft", "draft"},
		{"sku,title,status", "A,a,archived", "archived"},
		{"sku,title,status", "A,a,", nilv},
		{"SKU,Name,Published", "A,a,1", "published"},
		{"SKU,Name,Published", "A,a,0", "draft"},
		{"SKU,Name,Published", "A,a,-1", "draft"},
		{"SKU,Name,Published,Status", "A,a,0,active", "published"}, // Status wins
	}
	for _, tt := range tests {
		got, _ := readCatalogue(t, []byte(tt.header+"\n"+tt.row+"\n"), csvio.CatalogueOptions{})
		if len(got) != 1 || got[0].Status != tt.want || len(got[0].Problems) != 0 {
			t.Errorf("%s / %s: got %+v, want Status %s", tt.header, tt.row, got, tt.want)
		}
	}
}

func TestCatalogueTitles(t *testing.T) {
	in := "Handle,Title,Option1 Value,Option2 Value,Option3 Value,Variant SKU\n" +
		"tee,Tee,Red,S,,TEE-R-S\n" +
		"tee,,Red,M,,TEE-R-M\n" +
		"tee,,,,,\n" + // image row
		"tee,,Blue,L,Cotton,TEE-B-L\n" +
		"cap,Cap,Default Title,,,CAP\n" +
		"other,,,,,ORPHAN\n" + // no titled row with this handle
		",,,,,NOHANDLE\n"
	got, skipped := readCatalogue(t, []byte(in), csvio.CatalogueOptions{})
	want := []struct {
		row   int
		title string
		bad   bool
	}{
		{2, "Tee - Red / S", false},
		{3, "Tee - Red / M", false},
		{5, "Tee - Blue / L / Cotton", false},
		{6, "Cap", false},
		{7, nilv, true},
		{8, nilv, true},
	}
	if len(got) != len(want) || skipped != 1 {
		t.Fatalf("%d records, %d skipped:\n%s", len(got), skipped, dump(got))
	}
	for i, w := range want {
		g := got[i]
		if g.Row != w.row || g.Title != w.title || (len(g.Problems) > 0) != w.bad {
			t.Errorf("record %d: row %d title %q problems %v; want row %d title %q problem %v", i, g.Row, g.Title, g.Problems, w.row, w.title, w.bad)
		}
		if w.bad && (g.Problems[0].Column != "Title" || g.Problems[0].Row != w.row) {
			t.Errorf("record %d: problem %+v, want one on column Title, row %d", i, g.Problems[0], w.row)
		}
	}
}

func TestCatalogueProblems(t *testing.T) {
	tests := []struct {
		name   string
		header string
		row    string
		want   []inventory.Problem // Reason is checked for containing the wanted text
	}{
		{"thousands separator in stock", "SKU,Title,Stock", "A,a,\"1,200\"", []inventory.Problem{{Row: 2, Column: "Stock", Value: "1,200", Reason: "thousands separators"}}},
		{"fraction in stock", "SKU,Title,Variant Inventory Qty", "A,a,7.5", []inventory.Problem{{Row: 2, Column: "Variant Inventory Qty", Value: "7.5", Reason: "fraction"}}},
		{"price with a currency sign", "SKU,Title,Regular price", "A,a,$5", []inventory.Problem{{Row: 2, Column: "Regular price", Value: "$5", Reason: "not a decimal number"}}},
		{"decimal comma in compare-at", "SKU,Title,Compare at price", "A,a,\"5,50\"", []inventory.Problem{{Row: 2, Column: "Compare at price", Value: "5,50", Reason: "not a decimal number"}}},
		{"barcode check digit", "SKU,Title,GTIN", "A,a,4006381333932", []inventory.Problem{{Row: 2, Column: "GTIN", Value: "4006381333932", Reason: "check digit"}}},
		{"barcode length", "SKU,Title,UPC", "A,a,12345", []inventory.Problem{{Row: 2, Column: "UPC", Value: "12345", Reason: "8, 12, 13 or 14"}}},
		{"status", "SKU,Title,Status", "A,a,live", []inventory.Problem{{Row: 2, Column: "Status", Value: "live", Reason: "draft, published, archived"}}},
		{"published", "SKU,Name,Published", "A,a,maybe", []inventory.Problem{{Row: 2, Column: "Published", Value: "maybe", Reason: "must be 1"}}},
		{"negative threshold", "SKU,Title,Low stock amount", "A,a,-1", []inventory.Problem{{Row: 2, Column: "Low stock amount", Value: "-1", Reason: "0 or more"}}},
		{"bad threshold", "SKU,Title,Low stock threshold", "A,a,two", []inventory.Problem{{Row: 2, Column: "Low stock threshold", Value: "two", Reason: "not a whole number"}}},
		{"track stock", "SKU,Title,Manage stock", "A,a,sometimes", []inventory.Problem{{Row: 2, Column: "Manage stock", Value: "sometimes", Reason: "true/false"}}},
		{"allow backorder", "SKU,Title,Allow backorder", "A,a,perhaps", []inventory.Problem{{Row: 2, Column: "Allow backorder", Value: "perhaps", Reason: "true/false"}}},
		{"inventory policy", "Variant SKU,Title,Variant Inventory Policy", "A,a,always", []inventory.Problem{{Row: 2, Column: "Variant Inventory Policy", Value: "always", Reason: "continue"}}},
		{"woo backorders", "SKU,Name,Backorders allowed?", "A,a,2", []inventory.Problem{{Row: 2, Column: "Backorders allowed?", Value: "2", Reason: "notify"}}},
		{"empty title", "SKU,Title", "A, ", []inventory.Problem{{Row: 2, Column: "Title", Value: " ", Reason: "title"}}},
		{"control character in SKU", "SKU,Title", "\"A\tB\",a", []inventory.Problem{{Row: 2, Column: "SKU", Value: "A\tB", Reason: "control character"}}},
		{"title too long", "SKU,Title", "A," + strings.Repeat("x", 256), []inventory.Problem{{Row: 2, Column: "Title", Value: strings.Repeat("x", 256), Reason: "at most 255"}}},
		{
			"every problem of a row", "SKU,Title,Price,Stock,Status", "A,,abc,1e3,gone",
			[]inventory.Problem{
				{Row: 2, Column: "Title", Value: "", Reason: "title"},
				{Row: 2, Column: "Price", Value: "abc", Reason: "decimal"},
				{Row: 2, Column: "Stock", Value: "1e3", Reason: "exponents"},
				{Row: 2, Column: "Status", Value: "gone", Reason: "draft"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := readCatalogue(t, []byte(tt.header+"\n"+tt.row+"\n"), csvio.CatalogueOptions{})
			if len(got) != 1 {
				t.Fatalf("%d records, want 1", len(got))
			}
			ps := got[0].Problems
			if len(ps) != len(tt.want) {
				t.Fatalf("problems %+v, want %+v", ps, tt.want)
			}
			for i, w := range tt.want {
				p := ps[i]
				if p.Row != w.Row || p.Column != w.Column || p.Value != w.Value || !strings.Contains(p.Reason, w.Reason) {
					t.Errorf("problem %d = %+v, want %+v (reason containing %q)", i, p, w, w.Reason)
				}
			}
		})
	}
}

func TestCatalogueHeaderErrors(t *testing.T) {
	_, err := csvio.NewCatalogueReader(strings.NewReader("Handle;Price;Stock\nx;1;2\n"), csvio.CatalogueOptions{})
	if !errors.Is(err, inventory.ErrInvalid) {
		t.Fatalf("err = %v, want invalid input", err)
	}
	for _, s := range []string{`"Handle", "Price", "Stock"`, `"title"`, `"variant sku"`, "--delimiter"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %s", err, s)
		}
	}
	if _, err := csvio.NewCatalogueReader(strings.NewReader(""), csvio.CatalogueOptions{}); !errors.Is(err, inventory.ErrInvalid) {
		t.Errorf("empty file: err = %v, want invalid input", err)
	}

	// A title-only file is refused: products are matched by SKU, and a file
	// that can import nothing must not look like a successful import.
	_, err = csvio.NewCatalogueReader(strings.NewReader("Title\nMug\nPlate\n"), csvio.CatalogueOptions{})
	if !errors.Is(err, inventory.ErrInvalid) || !strings.Contains(err.Error(), "no SKU column") {
		t.Errorf("title-only file: err = %v, want invalid input naming the missing SKU column", err)
	}
}

func TestCatalogueSyntaxError(t *testing.T) {
	r, err := csvio.NewCatalogueReader(strings.NewReader("sku,title\nA,a\nB,a \"b\" c\n"), csvio.CatalogueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	_, err = r.Next()
	if !errors.Is(err, inventory.ErrInvalid) || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("err = %v, want invalid input on line 3", err)
	}
	if _, again := r.Next(); again != err {
		t.Errorf("the error is not sticky: then %v", again)
	}
}

func TestCatalogueDelimiterOption(t *testing.T) {
	in := []byte("sku|title|price\nA|Mug, blue; big|5\n")
	got, _ := readCatalogue(t, in, csvio.CatalogueOptions{Delimiter: '|'})
	if len(got) != 1 || got[0].Title != "Mug, blue; big" || got[0].Price != "5.00" {
		t.Errorf("got %+v", got)
	}
}

func TestCatalogueLongAndShortRows(t *testing.T) {
	// Non-empty cells past the header mean an unquoted delimiter: the row is
	// refused, not read with every value shifted. Trailing empty cells are
	// fine, and cells past the header never land in columns the file lacks.
	in := []byte("sku,title\nA,Mug,extra,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23\nB\nC,Cup,,\n")
	got, _ := readCatalogue(t, in, csvio.CatalogueOptions{})
	if len(got) != 3 {
		t.Fatalf("got %+v", got)
	}
	if len(got[0].Problems) != 1 || !strings.Contains(got[0].Problems[0].Reason, "must be quoted") {
		t.Errorf("long row: %+v", got[0])
	}
	if got[2].Title != "Cup" || got[2].Price != nilv || got[2].Stock != nilv || len(got[2].Problems) != 0 {
		t.Errorf("row with trailing empty cells: %+v", got[2])
	}
	if got[1].Title != nilv || len(got[1].Problems) != 1 || got[1].Problems[0].Column != "title" {
		t.Errorf("short row: %+v", got[1])
	}
}

// gocsv's configuration is process-wide; whatever another package sets,
// the catalogue reader reads the same records.
func TestCatalogueGocsvGlobals(t *testing.T) {
	want, _ := readCatalogue(t, sample(t, "shopify-products.csv"), csvio.CatalogueOptions{})

	failUnmatched, failDouble := gocsv.FailIfUnmatchedStructTags, gocsv.FailIfDoubleHeaderNames
	t.Cleanup(func() {
		gocsv.FailIfUnmatchedStructTags, gocsv.FailIfDoubleHeaderNames = failUnmatched, failDouble
		gocsv.SetHeaderNormalizer(gocsv.DefaultNameNormalizer())
	})
	gocsv.FailIfUnmatchedStructTags = true
	gocsv.FailIfDoubleHeaderNames = true
	gocsv.SetHeaderNormalizer(strings.ToUpper)

	for _, name := range []string{"shopify-products.csv", "woocommerce-products.csv"} {
		got, _ := readCatalogue(t, sample(t, name), csvio.CatalogueOptions{})
		if name == "shopify-products.csv" && !reflect.DeepEqual(got, want) {
			t.Errorf("%s with other gocsv settings:\n%s\nwant\n%s", name, dump(got), dump(want))
		}
		if len(got) == 0 {
			t.Errorf("%s: no records", name)
		}
	}
	// A file with one column only: all the others are missing.
	got, _ := readCatalogue(t, []byte("SKU\nA\n"), csvio.CatalogueOptions{})
	if len(got) != 1 || got[0].SKU != "A" {
		t.Errorf("got %+v", got)
	}
}
