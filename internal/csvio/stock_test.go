package csvio_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/inv-cli/inv/internal/csvio"
	"github.com/inv-cli/inv/internal/inventory"
)

// sample reads a file of testdata/samples (copies of the shared samples).
func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "samples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readStock reads every row, failing the test on any error but io.EOF.
func readStock(t *testing.T, r *csvio.StockReader) []inventory.StockRecord {
	t.Helper()
	var out []inventory.StockRecord
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("Next after %d rows: %v", len(out), err)
		}
		out = append(out, rec)
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestStockSamples(t *testing.T) {
	tests := []struct {
		file          string
		skuCol        string
		qtyCol        string
		blankNoChange bool
		delim         rune
		want          []inventory.StockRecord
	}{
		{
			// Shopify inventory export: "On hand (new)" is the quantity to set,
			// an empty cell means no change; "Available (not editable)" and
			// "On hand (current)" are not the quantity.
			file: "shopify-inventory.csv", skuCol: "SKU", qtyCol: "On hand (new)", blankNoChange: true, delim: ',',
			want: []inventory.StockRecord{
				{Row: 2, SKU: "SNK-LE-001", Qty: "62"},
				{Row: 3, SKU: "SNK-LE-002", Qty: "12"},
				{Row: 4, SKU: "MUG-BLU", Qty: ""},
				{Row: 5, SKU: "MUG-SND", Qty: "24"},
				{Row: 6, SKU: "0451200", Qty: "0"}, // leading zero kept
			},
		},
		{
			// Magento: quoted header, a 0 that must be applied.
			file: "magento-stock.csv", skuCol: "sku", qtyCol: "qty", delim: ',',
			want: []inventory.StockRecord{
				{Row: 2, SKU: "WB-01", Qty: "12"},
				{Row: 3, SKU: "WB-02", Qty: "0"},
				{Row: 4, SKU: "WB-03", Qty: "88"},
			},
		},
		{
			// 3PL report: BOM, ";" delimiter, a quoted ";" inside a cell,
			// "Available" wins over "On Hand".
			file: "warehouse-3pl.csv", skuCol: "Item Number", qtyCol: "Available", delim: ';',
			want: []inventory.StockRecord{
				{Row: 2, SKU: "SNK-LE-001", Qty: "62"},
				{Row: 3, SKU: "MUG-BLU", Qty: "31"},
				{Row: 4, SKU: "MUG-SND", Qty: "24"},
				{Row: 5, SKU: "0451200", Qty: "0"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data := sample(t, tt.file)
			r, err := csvio.NewStockReader(bytes.NewReader(data), csvio.StockOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if r.SKUColumn() != tt.skuCol || r.QtyColumn() != tt.qtyCol {
				t.Errorf("columns = %q, %q; want %q, %q", r.SKUColumn(), r.QtyColumn(), tt.skuCol, tt.qtyCol)
			}
			if r.BlankMeansNoChange() != tt.blankNoChange {
				t.Errorf("BlankMeansNoChange = %v, want %v", r.BlankMeansNoChange(), tt.blankNoChange)
			}
			if r.Delimiter() != tt.delim {
				t.Errorf("Delimiter = %q, want %q", r.Delimiter(), tt.delim)
			}
			got := readStock(t, r)
			if !slices.Equal(got, tt.want) {
				t.Errorf("records:\n got %+v\nwant %+v", got, tt.want)
			}
			if h := r.Hash(); h != sha(data) {
				t.Errorf("Hash = %s, want the SHA-256 of the file %s", h, sha(data))
			}
		})
	}
}

func TestStockFormats(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []inventory.StockRecord
	}{
		{
			name: "BOM before a quoted header",
			in:   "\uFEFF\"sku\",\"qty\"\n\"A-1\",5\n",
			want: []inventory.StockRecord{{Row: 2, SKU: "A-1", Qty: "5"}},
		},
		{
			name: "BOM before an unquoted header",
			in:   "\uFEFFSKU;Stock\nA-1;5\n",
			want: []inventory.StockRecord{{Row: 2, SKU: "A-1", Qty: "5"}},
		},
		{
			name: "CRLF throughout",
			in:   "sku,qty\r\nA-1,5\r\nB-2,7\r\n",
			want: []inventory.StockRecord{{Row: 2, SKU: "A-1", Qty: "5"}, {Row: 3, SKU: "B-2", Qty: "7"}},
		},
		{
			name: "CRLF header, LF rows, no final newline",
			in:   "sku,qty\r\nA-1,5\nB-2,7",
			want: []inventory.StockRecord{{Row: 2, SKU: "A-1", Qty: "5"}, {Row: 3, SKU: "B-2", Qty: "7"}},
		},
		{
			name: "quoted newlines: rows are numbered by the line they start on",
			in:   "sku,note,qty\nA-1,\"two\nlines\",5\nB-2,\"three\r\nlines\r\nhere\",6\nC-3,,7\n",
			want: []inventory.StockRecord{
				{Row: 2, SKU: "A-1", Qty: "5"},
				{Row: 4, SKU: "B-2", Qty: "6"},
				{Row: 7, SKU: "C-3", Qty: "7"},
			},
		},
		{
			name: "doubled quotes and quoted delimiters",
			in:   "sku,name,qty\n\"A-1\",\"12\"\" pipe, steel\",\"5\"\n",
			want: []inventory.StockRecord{{Row: 2, SKU: "A-1", Qty: "5"}},
		},
		{
			name: "blank lines are skipped but still counted",
			in:   "sku,qty\n\nA-1,5\n\n\nB-2,7\n",
			want: []inventory.StockRecord{{Row: 3, SKU: "A-1", Qty: "5"}, {Row: 6, SKU: "B-2", Qty: "7"}},
		},
		{
			name: "short rows give empty cells",
			in:   "qty,note,sku\n5\n6,x\n7,y,C-3\n",
			want: []inventory.StockRecord{{Row: 2, SKU: "", Qty: "5"}, {Row: 3, SKU: "", Qty: "6"}, {Row: 4, SKU: "C-3", Qty: "7"}},
		},
		{
			name: "trailing empty cells are fine",
			in:   "sku,qty\nA-1,5,,\n",
			want: []inventory.StockRecord{{Row: 2, SKU: "A-1", Qty: "5"}},
		},
		{
			name: "cells past the header are a problem: an unquoted 1,200",
			in:   "sku,qty\nA-1,1,200\n",
			want: []inventory.StockRecord{{Row: 2, SKU: "A-1", Qty: "1",
				Problem: `the row has 3 cells but the header has 2: a value containing the delimiter "," must be quoted (1,200 would be read as 1)`}},
		},
		{
			name: "SKU trimmed, quantity as written",
			in:   "sku,qty\n  A-1 \t, 7.0 \n",
			want: []inventory.StockRecord{{Row: 2, SKU: "A-1", Qty: " 7.0 "}},
		},
		{
			name: "rows with an empty SKU are returned for the caller to count",
			in:   "sku,qty\n,5\n   ,6\n",
			want: []inventory.StockRecord{{Row: 2, SKU: "", Qty: "5"}, {Row: 3, SKU: "", Qty: "6"}},
		},
		{
			name: "header names ignore case, spaces, _ and -",
			in:   "ITEM_SKU,Quantity-On Stock\nA-1,5\n",
			want: []inventory.StockRecord{{Row: 2, SKU: "A-1", Qty: "5"}},
		},
		{
			name: "non-ASCII cells",
			in:   "Article Number|Inventory\nKÄSE-ø|3\n",
			want: []inventory.StockRecord{{Row: 2, SKU: "KÄSE-ø", Qty: "3"}},
		},
		{
			name: "header only",
			in:   "sku,qty\n",
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := csvio.NewStockReader(strings.NewReader(tt.in), csvio.StockOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got := readStock(t, r)
			if !slices.Equal(got, tt.want) {
				t.Errorf("records:\n got %+v\nwant %+v", got, tt.want)
			}
			// io.EOF is sticky.
			if _, err := r.Next(); err != io.EOF {
				t.Errorf("Next after EOF = %v, want io.EOF", err)
			}
		})
	}
}

func TestStockSniffDelimiter(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		delim rune
		want  []inventory.StockRecord
	}{
		{"comma", "sku,name,qty\nA-1,Mug,5\n", ',', []inventory.StockRecord{{Row: 2, SKU: "A-1", Qty: "5"}}},
		{"semicolon", "sku;name;qty\nA-1;Mug, blue;5\n", ';', []inventory.StockRecord{{Row: 2, SKU: "A-1", Qty: "5"}}},
		{"tab", "sku\tname\tqty\nA-1\tMug; blue, big\t5\n", '\t', []inventory.StockRecord{{Row: 2, SKU: "A-1", Qty: "5"}}},
		{"pipe", "sku|name|qty\nA-1|Mug, blue|5\n", '|', []inventory.StockRecord{{Row: 2, SKU: "A-1", Qty: "5"}}},
		{"delimiters inside quotes do not count", "\"sku;a;b;c\",qty\n\"x\",1\n", ',', nil},
		{"most frequent wins", "sku;qty;\"a,b\";c,d\nA-1;5;x;y\n", ';', []inventory.StockRecord{{Row: 2, SKU: "A-1", Qty: "5"}}},
		{"a tie gives comma", "sku;qty,x\nA-1;5,y\n", ',', nil},
		{"only the header line is looked at", "sku|qty\nA;1|2\n", '|', []inventory.StockRecord{{Row: 2, SKU: "A;1", Qty: "2"}}},
		{"quoted newline in the header", "\"sku\n;;;\"|qty\nA|1\n", '|', nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := csvio.NewStockReader(strings.NewReader(tt.in), csvio.StockOptions{})
			if tt.want == nil {
				// The sniffed delimiter leaves no usable SKU/quantity pair;
				// what matters is which delimiter the message reports.
				if err == nil {
					if r.Delimiter() != tt.delim {
						t.Errorf("Delimiter = %q, want %q", r.Delimiter(), tt.delim)
					}
					return
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("delimiter %q", tt.delim)) {
					t.Errorf("error %q does not report delimiter %q", err, tt.delim)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Delimiter() != tt.delim {
				t.Errorf("Delimiter = %q, want %q", r.Delimiter(), tt.delim)
			}
			if got := readStock(t, r); !slices.Equal(got, tt.want) {
				t.Errorf("records:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestStockDelimiterOption(t *testing.T) {
	// Given explicitly, the delimiter is not sniffed: a ";" file read as ","
	// is one column.
	_, err := csvio.NewStockReader(strings.NewReader("sku;qty\nA;1\n"), csvio.StockOptions{Delimiter: ','})
	if !errors.Is(err, inventory.ErrInvalid) || !strings.Contains(err.Error(), `"sku;qty"`) {
		t.Errorf("err = %v; want invalid input listing the single column \"sku;qty\"", err)
	}
	// And it splits on what sniffing would not have chosen (a tie of "|"
	// and "," sniffs as ",").
	r, err := csvio.NewStockReader(strings.NewReader("sku|qty|a,b,c\nA|1,5|x,y\n"), csvio.StockOptions{Delimiter: '|'})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := readStock(t, r), []inventory.StockRecord{{Row: 2, SKU: "A", Qty: "1,5"}}; !slices.Equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for _, d := range []rune{'"', '\n', '\r', 0x01, 0xFFFD} {
		_, err := csvio.NewStockReader(strings.NewReader("sku,qty\n"), csvio.StockOptions{Delimiter: d})
		if !errors.Is(err, inventory.ErrInvalid) {
			t.Errorf("delimiter %q: err = %v, want invalid input", d, err)
		}
	}
}

func TestStockQuantityColumnPriority(t *testing.T) {
	tests := []struct {
		header string
		want   string
		blank  bool
	}{
		{"SKU,On hand (current),On hand (new)", "On hand (new)", true},
		{"SKU,On Hand,Allocated,Available", "Available", false},
		{"SKU,Available (not editable),On hand (current),On hand", "On hand", false},
		{"sku,qty,stock", "stock", false},
		{"sku,inventory,quantity", "quantity", false},
		{"sku,Variant Inventory Qty,Inventory Quantity", "Inventory Quantity", false},
		{"sku,ON_HAND-(NEW),available", "ON_HAND-(NEW)", true},
		{"sku,Quantity on stock", "Quantity on stock", false},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			r, err := csvio.NewStockReader(strings.NewReader(tt.header+"\n"), csvio.StockOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if r.QtyColumn() != tt.want || r.BlankMeansNoChange() != tt.blank {
				t.Errorf("QtyColumn = %q (blank means no change: %v), want %q (%v)", r.QtyColumn(), r.BlankMeansNoChange(), tt.want, tt.blank)
			}
		})
	}
}

func TestStockSKUColumnPriority(t *testing.T) {
	tests := []struct{ header, want string }{
		{"Article Number,Item Number,Product SKU,Item SKU,Variant SKU,SKU,qty", "SKU"},
		{"Article Number,Item Number,Product SKU,Item SKU,Variant SKU,qty", "Variant SKU"},
		{"Article Number,Item Number,qty", "Item Number"},
		{"article-number,qty", "article-number"},
	}
	for _, tt := range tests {
		r, err := csvio.NewStockReader(strings.NewReader(tt.header+"\n"), csvio.StockOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if r.SKUColumn() != tt.want {
			t.Errorf("%s: SKUColumn = %q, want %q", tt.header, r.SKUColumn(), tt.want)
		}
	}
}

func TestStockOverrides(t *testing.T) {
	data := sample(t, "shopify-inventory.csv")
	r, err := csvio.NewStockReader(bytes.NewReader(data), csvio.StockOptions{SKUColumn: "handle", QtyColumn: "ON HAND (CURRENT)"})
	if err != nil {
		t.Fatal(err)
	}
	if r.SKUColumn() != "Handle" || r.QtyColumn() != "On hand (current)" || r.BlankMeansNoChange() {
		t.Errorf("columns %q, %q, blank %v", r.SKUColumn(), r.QtyColumn(), r.BlankMeansNoChange())
	}
	got := readStock(t, r)
	if len(got) != 5 || got[2] != (inventory.StockRecord{Row: 4, SKU: "ceramic-mug", Qty: "10"}) {
		t.Errorf("records %+v", got)
	}

	// A quantity override that is a SKU alias: the SKU is then looked for
	// among the other columns.
	r, err = csvio.NewStockReader(strings.NewReader("Item Number,SKU\nA,5\n"), csvio.StockOptions{QtyColumn: "sku"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := readStock(t, r), []inventory.StockRecord{{Row: 2, SKU: "A", Qty: "5"}}; !slices.Equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}

	tests := []struct {
		name     string
		opts     csvio.StockOptions
		contains []string
	}{
		{"absent SKU column", csvio.StockOptions{SKUColumn: "Code"}, []string{"--sku-column", `"Code"`, `"On hand (new)"`, `"Handle"`}},
		{"absent quantity column", csvio.StockOptions{QtyColumn: "On hand"}, []string{"--qty-column", `"On hand"`, `"On hand (current)"`}},
		{"same column twice", csvio.StockOptions{SKUColumn: "SKU", QtyColumn: "sku"}, []string{"same column"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := csvio.NewStockReader(bytes.NewReader(data), tt.opts)
			if !errors.Is(err, inventory.ErrInvalid) {
				t.Fatalf("err = %v, want invalid input", err)
			}
			for _, s := range tt.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %s", err, s)
				}
			}
		})
	}
}

func TestStockMissingColumns(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		contains    []string
		notContains []string
	}{
		{
			name:        "no quantity column",
			in:          "SKU,Title,Available (not editable),On hand (current)\nA,x,1,2\n",
			contains:    []string{"no quantity column", `"SKU", "Title", "Available (not editable)", "On hand (current)"`, `"on hand (new)"`, `"available"`, "--qty-column"},
			notContains: []string{"--sku-column"},
		},
		{
			name:        "no SKU column",
			in:          "Handle,Qty\nA,1\n",
			contains:    []string{"no SKU column", `"Handle", "Qty"`, `"variant sku"`, `"article number"`, "--sku-column"},
			notContains: []string{"--qty-column"},
		},
		{
			name:     "neither",
			in:       "a b c\n1\n",
			contains: []string{"neither", `"a b c"`, "--sku-column", "--qty-column", "--delimiter"},
		},
		{
			name:     "UTF-16",
			in:       "\xff\xfes\x00k\x00u\x00,\x00q\x00t\x00y\x00\n\x00",
			contains: []string{"UTF-16", "CSV UTF-8"},
		},
		{
			name:     "empty file",
			in:       "",
			contains: []string{"empty"},
		},
		{
			name:     "only a BOM and blank lines",
			in:       "\uFEFF\n\r\n\n",
			contains: []string{"empty"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := csvio.NewStockReader(strings.NewReader(tt.in), csvio.StockOptions{})
			if !errors.Is(err, inventory.ErrInvalid) {
				t.Fatalf("err = %v, want invalid input", err)
			}
			for _, s := range tt.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %s", err, s)
				}
			}
			for _, s := range tt.notContains {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q mentions %s", err, s)
				}
			}
		})
	}
}

func TestStockSyntaxErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		rowsOK   int
		contains []string
	}{
		{"bare quote in a cell", "sku,qty\nA,1\nB \"big\",2\n", 1, []string{"line 3", "column 3", "twice"}},
		{"text after a closing quote", "sku,qty\n\"A\"x,1\n", 0, []string{"line 2", "not closed where expected"}},
		{"quote never closed", "sku,qty\nA,1\n\"B,2\nC,3\n", 1, []string{"line 3", "missing closing quote"}},
		{"bare quote in the header", "sku,q\"ty\nA,1\n", -1, []string{"line 1", "column 6"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := csvio.NewStockReader(strings.NewReader(tt.in), csvio.StockOptions{})
			if tt.rowsOK < 0 {
				if err == nil {
					t.Fatal("NewStockReader accepted a broken header")
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < tt.rowsOK; i++ {
					if _, err := r.Next(); err != nil {
						t.Fatalf("row %d: %v", i+1, err)
					}
				}
				_, err = r.Next()
				if _, again := r.Next(); again != err {
					t.Errorf("the error is not sticky: then %v", again)
				}
				if r.Hash() != "" {
					t.Errorf("Hash after an error = %q, want empty", r.Hash())
				}
			}
			if !errors.Is(err, inventory.ErrInvalid) {
				t.Fatalf("err = %v, want invalid input", err)
			}
			for _, s := range tt.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

func TestStockHash(t *testing.T) {
	hashOf := func(in string) string {
		t.Helper()
		r, err := csvio.NewStockReader(strings.NewReader(in), csvio.StockOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if h := r.Hash(); h != "" {
			t.Errorf("Hash before EOF = %q, want empty", h)
		}
		readStock(t, r)
		if r.Hash() != sha([]byte(in)) {
			t.Errorf("Hash = %s, want the SHA-256 of every byte %s", r.Hash(), sha([]byte(in)))
		}
		return r.Hash()
	}
	a := hashOf("sku,qty\nA,-5\n")
	if a != hashOf("sku,qty\nA,-5\n") {
		t.Error("same content, different hashes")
	}
	for _, other := range []string{"sku,qty\nA,-5", "sku,qty\r\nA,-5\r\n", "\uFEFFsku,qty\nA,-5\n", "sku,qty\nA,-5\n\n"} {
		if hashOf(other) == a {
			t.Errorf("%q hashes like %q", other, "sku,qty\nA,-5\n")
		}
	}

	// A reader that returns a byte at a time, or data with io.EOF, gives
	// the same records and the same hash.
	data := sample(t, "warehouse-3pl.csv")
	want := func() []inventory.StockRecord {
		r, err := csvio.NewStockReader(bytes.NewReader(data), csvio.StockOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return readStock(t, r)
	}()
	for name, in := range map[string]io.Reader{
		"one byte":      iotest.OneByteReader(bytes.NewReader(data)),
		"half":          iotest.HalfReader(bytes.NewReader(data)),
		"data with EOF": iotest.DataErrReader(bytes.NewReader(data)),
	} {
		r, err := csvio.NewStockReader(in, csvio.StockOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := readStock(t, r); !slices.Equal(got, want) {
			t.Errorf("%s: got %+v, want %+v", name, got, want)
		}
		if r.Hash() != sha(data) {
			t.Errorf("%s: Hash = %s, want %s", name, r.Hash(), sha(data))
		}
	}
}

func TestStockReadFailure(t *testing.T) {
	boom := errors.New("disk on fire")
	in := io.MultiReader(strings.NewReader("sku,qty\nA,1\n"), iotest.ErrReader(boom))
	r, err := csvio.NewStockReader(in, csvio.StockOptions{})
	if err != nil {
		// The whole prefix may have been read at construction; the error
		// then surfaces here.
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want %v", err, boom)
		}
		return
	}
	for {
		_, err := r.Next()
		if err == io.EOF {
			t.Fatal("a read error ended as io.EOF")
		}
		if err != nil {
			if !errors.Is(err, boom) || errors.Is(err, inventory.ErrInvalid) {
				t.Errorf("err = %v; want the read error, not invalid input", err)
			}
			return
		}
	}
}

func TestStockAllocationsPerRow(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	var b strings.Builder
	b.WriteString("Handle,Title,SKU,Location,On hand (current),On hand (new)\n")
	for i := 0; i < 2000; i++ {
		b.WriteString("limited-edition-sneakers,Limited Edition Sneakers,SNK-LE-001,Main Warehouse,50,62\n")
	}
	r, err := csvio.NewStockReader(strings.NewReader(b.String()), csvio.StockOptions{})
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 3 {
		t.Errorf("%.1f allocations per row, want at most 3", allocs)
	}
}
