package csvio

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/gocarina/gocsv"

	"github.com/inv-cli/inv/internal/inventory"
)

// CatalogueOptions control how a catalogue file is read.
type CatalogueOptions struct {
	// Delimiter separates columns; 0 sniffs it from the header line.
	Delimiter rune
}

// A catalogue column inv understands: the name gocsv maps it by (the struct
// tag of catalogueRow) and the header names that mean it.
type catColumn struct {
	tag     string
	aliases []alias
}

// The gocsv tags. They are lower-case letters only, so that whatever header
// normalizer another part of the program gives gocsv (a process-wide
// setting) treats the rewritten header and the tags alike.
const (
	tagTitle       = "title"
	tagSKU         = "sku"
	tagPrice       = "price"
	tagCompareAt   = "compareatprice"
	tagBarcode     = "barcode"
	tagStock       = "stock"
	tagLowStock    = "lowstockthreshold"
	tagTrack       = "trackstock"
	tagBackorder   = "allowbackorder"
	tagDescription = "description"
	tagStatus      = "status"
	tagHandle      = "handle"
	tagTracker     = "inventorytracker"
	tagPolicy      = "inventorypolicy"
	tagOption1     = "optiona"
	tagOption2     = "optionb"
	tagOption3     = "optionc"
	tagWooBackord  = "woobackorders"
	tagPublished   = "published"
)

// Unknown columns are renamed ignoredN, which no tag matches.
const ignoredPrefix = "ignored"

var catColumns = []catColumn{
	{tagTitle, aliases("title", "name")},
	{tagSKU, aliases("sku", "variant sku")},
	{tagPrice, aliases("price", "variant price", "regular price")},
	{tagCompareAt, aliases("compare at price", "variant compare at price")},
	{tagBarcode, aliases("barcode", "variant barcode", "gtin", "ean", "upc")},
	{tagStock, aliases("stock", "variant inventory qty", "inventory quantity")},
	{tagLowStock, aliases("low stock threshold", "low stock amount")},
	{tagTrack, aliases("track stock", "manage stock")},
	{tagBackorder, aliases("allow backorder")},
	{tagDescription, aliases("description", "body (html)")},
	{tagStatus, aliases("status")},
	// Shopify
	{tagHandle, aliases("handle")},
	{tagTracker, aliases("variant inventory tracker")},
	{tagPolicy, aliases("variant inventory policy")},
	{tagOption1, aliases("option1 value")},
	{tagOption2, aliases("option2 value")},
	{tagOption3, aliases("option3 value")},
	// WooCommerce
	{tagWooBackord, aliases("backorders allowed?")},
	{tagPublished, aliases("published")},
}

// catalogueRow is what gocsv fills from one record. Every field is a string:
// the values are checked here, so that each problem names its row, column,
// value and reason instead of stopping the file at the first bad cell.
type catalogueRow struct {
	Title       string `csv:"title"`
	SKU         string `csv:"sku"`
	Price       string `csv:"price"`
	CompareAt   string `csv:"compareatprice"`
	Barcode     string `csv:"barcode"`
	Stock       string `csv:"stock"`
	LowStock    string `csv:"lowstockthreshold"`
	Track       string `csv:"trackstock"`
	Backorder   string `csv:"allowbackorder"`
	Description string `csv:"description"`
	Status      string `csv:"status"`
	Handle      string `csv:"handle"`
	Tracker     string `csv:"inventorytracker"`
	Policy      string `csv:"inventorypolicy"`
	Option1     string `csv:"optiona"`
	Option2     string `csv:"optionb"`
	Option3     string `csv:"optionc"`
	WooBackord  string `csv:"woobackorders"`
	Published   string `csv:"published"`
}

// CatalogueReader streams the product rows of a catalogue file. It
// implements inventory.CatalogueReader.
type CatalogueReader struct {
	src     *source
	col     map[string]int // tag -> index of its column in the file
	dec     rowDecoder
	out     []catalogueRow // the current batch, decoded by gocsv
	lines   []int          // the line each row of out starts on
	stray   []string       // per row of out: why its cells cannot be trusted, or ""
	next    int            // the next row of out to interpret
	skipped int
	err     error

	// The last row with a title, for Shopify's continuation rows (the
	// variants after a product's first row carry only its handle).
	lastHandle, lastTitle, lastStatus, lastDescription string
}

var _ inventory.CatalogueReader = (*CatalogueReader)(nil)

// rowDecoder hands gocsv the rewritten header and a batch of records, so
// gocsv maps columns to struct fields while the reading (BOM, delimiter,
// line numbers, syntax errors) stays ours and nothing runs in a goroutine.
// Batches amortise gocsv's per-call set-up (reflection over the struct and
// the header), which cost more than the parsing when done for every row.
type rowDecoder struct{ rows [][]string }

func (d *rowDecoder) GetCSVRows() ([][]string, error) { return d.rows, nil }

// catalogueBatch is how many records one gocsv call decodes.
const catalogueBatch = 512

// NewCatalogueReader reads the header of a catalogue file and maps its
// columns. The rows are read by Next.
func NewCatalogueReader(r io.Reader, opts CatalogueOptions) (*CatalogueReader, error) {
	src, err := openSource(r, opts.Delimiter)
	if err != nil {
		return nil, err
	}
	norm := normalizeAll(src.header)

	c := &CatalogueReader{src: src, col: map[string]int{}}
	header := make([]string, len(norm))
	for i := range header {
		header[i] = ignoredPrefix + strconv.Itoa(i)
	}
	for _, cc := range catColumns {
		if i := findAlias(norm, cc.aliases); i >= 0 {
			c.col[cc.tag] = i
			header[i] = cc.tag
		}
	}
	if !c.has(tagSKU) {
		// Products are matched by SKU: without the column nothing could be
		// imported, and "0 rows imported, exit 0" would fool a cron job.
		return nil, inventory.Invalidf("the header has no SKU column (line %d, delimiter %q); its columns are %s. "+
			`A SKU column is named one of %s, a title column one of %s (case, spaces, "_" and "-" do not matter). `+
			"Check --delimiter if the whole header shows up as one column.",
			src.headerLine, src.delim, quoteList(src.header),
			quoteList(aliasNames(catColumns[1].aliases)), quoteList(aliasNames(catColumns[0].aliases)))
	}
	// Columns the file lacks are appended to the header with no cells under
	// them, so gocsv's process-wide FailIfUnmatchedStructTags, if another
	// package turned it on, has nothing to complain about. Absent columns
	// are known from c.col, not from empty strings.
	for _, cc := range catColumns {
		if !c.has(cc.tag) {
			header = append(header, cc.tag)
		}
	}
	c.dec.rows = append(make([][]string, 0, catalogueBatch+1), header)
	return c, nil
}

func (c *CatalogueReader) has(tag string) bool {
	_, ok := c.col[tag]
	return ok
}

// column is the name, as written in the file, of the column behind tag.
func (c *CatalogueReader) column(tag string) string { return c.src.header[c.col[tag]] }

// SkippedNoSKU counts the rows read so far that had no SKU (Shopify image
// rows, WooCommerce variable products without one).
func (c *CatalogueReader) SkippedNoSKU() int { return c.skipped }

// Delimiter is the column delimiter used (given or sniffed).
func (c *CatalogueReader) Delimiter() rune { return c.src.delim }

// Next returns the next product row, interpreted. Rows without a SKU are
// counted and skipped. After the last row it returns io.EOF; after a syntax
// error it keeps returning that error.
func (c *CatalogueReader) Next() (inventory.CatalogueRecord, error) {
	for {
		for c.next < len(c.out) {
			i := c.next
			c.next++
			if c.stray[i] != "" {
				return inventory.CatalogueRecord{Row: c.lines[i], SKU: strings.TrimSpace(c.out[i].SKU),
					Problems: []inventory.Problem{{Row: c.lines[i], Reason: c.stray[i]}}}, nil
			}
			if out, ok := c.interpret(c.lines[i], &c.out[i]); ok {
				return out, nil
			}
			c.skipped++
		}
		if c.err != nil {
			return inventory.CatalogueRecord{}, c.err
		}
		c.fill()
	}
}

// fill reads and decodes the next batch of records.
func (c *CatalogueReader) fill() {
	c.dec.rows = c.dec.rows[:1]
	c.lines = c.lines[:0]
	c.stray = c.stray[:0]
	c.out, c.next = c.out[:0], 0
	for len(c.dec.rows) <= catalogueBatch {
		rec, err := c.src.csv.Read()
		if err != nil {
			if err == io.EOF {
				c.err = io.EOF
			} else {
				c.err = readError(err)
			}
			break
		}
		line, _ := c.src.csv.FieldPos(0)
		stray := ""
		if len(rec) > len(c.src.header) {
			// Non-empty cells past the header mean a value held the delimiter
			// unquoted (a price of 1,299.00): every later value would be in
			// the wrong column. Trailing empty cells are harmless.
			for _, extra := range rec[len(c.src.header):] {
				if strings.TrimSpace(extra) != "" {
					stray = fmt.Sprintf("the row has %d cells but the header has %d: a value containing the delimiter %q must be quoted",
						len(rec), len(c.src.header), string(c.src.delim))
					break
				}
			}
			// Past the header, the rewritten header names the columns the file lacks.
			rec = rec[:len(c.src.header)]
		}
		c.dec.rows = append(c.dec.rows, slices.Clone(rec))
		c.lines = append(c.lines, line)
		c.stray = append(c.stray, stray)
	}
	if len(c.dec.rows) == 1 {
		return
	}
	if err := gocsv.UnmarshalDecoder(&c.dec, &c.out); err != nil {
		// Only string fields: gocsv has nothing to refuse, so this is a bug.
		c.err = fmt.Errorf("line %d: mapping the columns: %w", c.lines[0], err)
		c.out = c.out[:0]
	}
}

// interpret turns one row into a record; false means the row has no SKU.
func (c *CatalogueReader) interpret(line int, row *catalogueRow) (inventory.CatalogueRecord, bool) {
	title := strings.TrimSpace(row.Title)
	handle := strings.TrimSpace(row.Handle)
	continuation := false
	if title != "" {
		c.lastTitle, c.lastHandle = title, handle
		c.lastStatus, _ = c.status(row)
		c.lastDescription = ""
		if strings.TrimSpace(row.Description) != "" {
			c.lastDescription = row.Description
		}
	} else if handle != "" && handle == c.lastHandle && c.lastTitle != "" {
		title, continuation = c.lastTitle, true
	}

	rawSKU := row.SKU
	if strings.TrimSpace(rawSKU) == "" {
		return inventory.CatalogueRecord{}, false
	}

	rec := inventory.CatalogueRecord{Row: line}
	f := &rec.Fields
	problem := func(tag, value, reason string) {
		rec.Problems = append(rec.Problems, inventory.Problem{Row: line, Column: c.column(tag), Value: value, Reason: reason})
	}

	// SKU
	if sku, err := inventory.CleanSKU(rawSKU); err != nil {
		rec.SKU = strings.TrimSpace(rawSKU)
		problem(tagSKU, rawSKU, reason(err))
	} else {
		rec.SKU = sku
		f.SKU = &sku
	}

	// Title, with Shopify's option values: "Linen Apron - Sand".
	if c.has(tagTitle) {
		if title != "" {
			if opts := optionValues(row); opts != "" {
				title += " - " + opts
			}
			if err := inventory.ValidateTitle(title); err != nil {
				problem(tagTitle, title, reason(err))
			} else {
				f.Title = &title
			}
		} else {
			problem(tagTitle, row.Title, "empty; every product needs a title")
		}
	}

	// Prices
	if v := strings.TrimSpace(row.Price); c.has(tagPrice) && v != "" {
		if p, err := inventory.ParsePrice(v); err != nil {
			problem(tagPrice, row.Price, reason(err))
		} else {
			f.Price = &p
		}
	}
	if v := strings.TrimSpace(row.CompareAt); c.has(tagCompareAt) && v != "" {
		if p, err := inventory.ParsePrice(v); err != nil {
			problem(tagCompareAt, row.CompareAt, reason(err))
		} else {
			pp := &p
			f.CompareAtPrice = &pp
		}
	}

	// Barcode: a string, so leading zeros stay.
	if v := strings.TrimSpace(row.Barcode); c.has(tagBarcode) && v != "" {
		if err := inventory.ValidateBarcode(v); err != nil {
			problem(tagBarcode, row.Barcode, reason(err))
		} else {
			f.Barcode = &v
		}
	}

	// Stock and threshold
	stock := strings.TrimSpace(row.Stock)
	if c.has(tagStock) && stock != "" {
		if n, err := inventory.ParseQuantity(stock); err != nil {
			problem(tagStock, row.Stock, reason(err))
		} else {
			f.Stock = &n
		}
	}
	if v := strings.TrimSpace(row.LowStock); c.has(tagLowStock) && v != "" {
		switch n, err := inventory.ParseQuantity(v); {
		case err != nil:
			problem(tagLowStock, row.LowStock, reason(err))
		case n < 0:
			problem(tagLowStock, row.LowStock, "must be 0 or more")
		default:
			pn := &n
			f.LowStockThreshold = &pn
		}
	}

	// Tracking: an explicit column wins, then Shopify's inventory tracker,
	// then whether a stock level is given at all (WooCommerce leaves Stock
	// empty for products whose stock it does not manage).
	switch track := strings.TrimSpace(row.Track); {
	case c.has(tagTrack) && track != "":
		if b, err := inventory.ParseBool(track); err != nil {
			problem(tagTrack, row.Track, reason(err))
		} else {
			f.TrackStock = &b
		}
	case c.has(tagTracker):
		b := strings.TrimSpace(row.Tracker) != "" // "shopify", or a fulfilment service's tracker
		f.TrackStock = &b
	case c.has(tagStock):
		b := stock != ""
		f.TrackStock = &b
	}

	// Backorder
	switch {
	case c.has(tagBackorder) && strings.TrimSpace(row.Backorder) != "":
		if b, err := inventory.ParseBool(row.Backorder); err != nil {
			problem(tagBackorder, row.Backorder, reason(err))
		} else {
			f.AllowBackorder = &b
		}
	case c.has(tagPolicy) && strings.TrimSpace(row.Policy) != "":
		switch strings.ToLower(strings.TrimSpace(row.Policy)) {
		case "continue":
			f.AllowBackorder = ptr(true)
		case "deny":
			f.AllowBackorder = ptr(false)
		default:
			problem(tagPolicy, row.Policy, `must be "deny" or "continue"`)
		}
	case c.has(tagWooBackord) && strings.TrimSpace(row.WooBackord) != "":
		v := strings.ToLower(strings.TrimSpace(row.WooBackord))
		if v == "notify" {
			f.AllowBackorder = ptr(true)
		} else if b, err := inventory.ParseBool(v); err != nil {
			problem(tagWooBackord, row.WooBackord, `must be 0, 1 or "notify"`)
		} else {
			f.AllowBackorder = &b
		}
	}

	// Status
	if st, bad := c.status(row); bad != "" {
		tag := tagStatus
		if !c.has(tagStatus) {
			tag = tagPublished
		}
		problem(tag, bad, statusReason(tag))
	} else if st != "" {
		f.Status = &st
	} else if continuation && c.lastStatus != "" {
		st := c.lastStatus
		f.Status = &st
	}

	// Description: as written.
	if c.has(tagDescription) && strings.TrimSpace(row.Description) != "" {
		d := row.Description
		f.Description = &d
	} else if continuation && c.lastDescription != "" {
		d := c.lastDescription
		f.Description = &d
	}
	return rec, true
}

// status reads the row's status: Status when the file has that column
// (Shopify's active/draft/archived or inv's own names), else WooCommerce's
// Published (1, 0, -1 for private). It returns the status ("" when the cell
// is empty or there is no such column), or the bad value as written.
func (c *CatalogueReader) status(row *catalogueRow) (status, bad string) {
	if c.has(tagStatus) {
		switch v := strings.ToLower(strings.TrimSpace(row.Status)); v {
		case "":
			return "", ""
		case "active", "published":
			return "published", ""
		case "draft", "archived":
			return v, ""
		default:
			return "", row.Status
		}
	}
	if c.has(tagPublished) {
		switch v := strings.TrimSpace(row.Published); v {
		case "":
			return "", ""
		case "-1": // WooCommerce "private": not public
			return "draft", ""
		default:
			b, err := inventory.ParseBool(v)
			if err != nil {
				return "", row.Published
			}
			if b {
				return "published", ""
			}
			return "draft", ""
		}
	}
	return "", ""
}

func statusReason(tag string) string {
	if tag == tagPublished {
		return "must be 1 (published), 0 (draft), -1 (private), or true/false"
	}
	return "must be one of draft, published, archived (Shopify's active means published)"
}

// optionValues joins a Shopify row's option values ("Sand", "Sand / L");
// "Default Title", the value of a product without options, does not count.
func optionValues(row *catalogueRow) string {
	var vals []string
	for _, v := range [...]string{row.Option1, row.Option2, row.Option3} {
		v = strings.TrimSpace(v)
		if v != "" && !strings.EqualFold(v, "Default Title") {
			vals = append(vals, v)
		}
	}
	return strings.Join(vals, " / ")
}

// reason is an error's message for Problem.Reason.
func reason(err error) string {
	var qe *inventory.QuantityError
	if errors.As(err, &qe) {
		return qe.Reason
	}
	return err.Error()
}

func ptr[T any](v T) *T { return &v }
