package csvio

import (
	"fmt"
	"io"
	"strings"

	"github.com/inv-cli/inv/internal/inventory"
)

// StockOptions control how a stock file is read.
type StockOptions struct {
	// Delimiter separates columns; 0 sniffs it from the header line.
	Delimiter rune
	// SKUColumn and QtyColumn name the columns to use, matched like the
	// aliases (case, white space, "_" and "-" ignored). Empty means: find
	// them through the alias tables.
	SKUColumn, QtyColumn string
}

// Accepted SKU column names, in priority order.
var stockSKUAliases = aliases("sku", "variant sku", "item sku", "product sku", "item number", "article number")

// Accepted quantity column names, in priority order: when a file has several,
// the first one listed wins. Shopify's inventory export carries both
// "On hand (current)" and "On hand (new)", and the new one is what to set; a
// 3PL report carries "On Hand" and "Available", and what can be sold is
// "Available".
var stockQtyAliases = aliases("on hand (new)", "available", "stock", "qty", "quantity",
	"quantity on stock", "inventory quantity", "variant inventory qty", "inventory", "on hand")

// The quantity column in which an empty cell means "leave as it is".
var blankMeansNoChangeKey = normalizeHeader("on hand (new)")

// StockReader streams the rows of a stock file. It implements
// inventory.StockReader.
type StockReader struct {
	src            *source
	skuIdx, qtyIdx int
	blankNoChange  bool
	err            error  // sticky: io.EOF or the first error
	hash           string // set at io.EOF
}

var _ inventory.StockReader = (*StockReader)(nil)

// NewStockReader reads the header of a stock file and settles which columns
// hold the SKU and the quantity. The rows are read by Next.
func NewStockReader(r io.Reader, opts StockOptions) (*StockReader, error) {
	src, err := openSource(r, opts.Delimiter)
	if err != nil {
		return nil, err
	}
	norm := normalizeAll(src.header)

	skuIdx, qtyIdx := -1, -1
	if opts.SKUColumn != "" {
		if skuIdx = findColumn(norm, normalizeHeader(opts.SKUColumn)); skuIdx < 0 {
			return nil, noSuchColumn("--sku-column", opts.SKUColumn, src.header)
		}
	}
	if opts.QtyColumn != "" {
		if qtyIdx = findColumn(norm, normalizeHeader(opts.QtyColumn)); qtyIdx < 0 {
			return nil, noSuchColumn("--qty-column", opts.QtyColumn, src.header)
		}
	}
	if skuIdx >= 0 && skuIdx == qtyIdx {
		return nil, inventory.Invalidf("--sku-column %q and --qty-column %q name the same column; the SKU and the quantity must be two columns",
			opts.SKUColumn, opts.QtyColumn)
	}
	if skuIdx < 0 {
		skuIdx = findAlias(norm, stockSKUAliases, qtyIdx)
	}
	if qtyIdx < 0 {
		qtyIdx = findAlias(norm, stockQtyAliases, skuIdx)
	}
	if skuIdx < 0 || qtyIdx < 0 {
		return nil, missingStockColumns(skuIdx < 0, qtyIdx < 0, src)
	}
	return &StockReader{
		src:           src,
		skuIdx:        skuIdx,
		qtyIdx:        qtyIdx,
		blankNoChange: norm[qtyIdx] == blankMeansNoChangeKey,
	}, nil
}

func noSuchColumn(flag, name string, header []string) error {
	return inventory.Invalidf("%s %q: the file has no such column; its columns are %s", flag, name, quoteList(header))
}

func missingStockColumns(noSKU, noQty bool, src *source) error {
	var b strings.Builder
	switch {
	case noSKU && noQty:
		b.WriteString("the header has neither a SKU column nor a quantity column")
	case noSKU:
		b.WriteString("the header has no SKU column")
	default:
		b.WriteString("the header has no quantity column")
	}
	fmt.Fprintf(&b, " (line %d, delimiter %q); its columns are %s.", src.headerLine, src.delim, quoteList(src.header))
	if noSKU {
		fmt.Fprintf(&b, " A SKU column is named one of %s.", quoteList(aliasNames(stockSKUAliases)))
	}
	if noQty {
		fmt.Fprintf(&b, " A quantity column is named one of %s.", quoteList(aliasNames(stockQtyAliases)))
	}
	b.WriteString(` Case, spaces, "_" and "-" do not matter.`)
	switch {
	case noSKU && noQty:
		b.WriteString(" Name your columns with --sku-column and --qty-column")
	case noSKU:
		b.WriteString(" Name your column with --sku-column")
	default:
		b.WriteString(" Name your column with --qty-column")
	}
	b.WriteString(" (and check --delimiter if the whole header shows up as one column).")
	return inventory.Invalidf("%s", b.String())
}

// Next returns the next data row. After the last row it returns io.EOF, and
// keeps doing so; after a syntax error it keeps returning that error.
func (s *StockReader) Next() (inventory.StockRecord, error) {
	if s.err != nil {
		return inventory.StockRecord{}, s.err
	}
	rec, err := s.src.csv.Read()
	if err != nil {
		if err == io.EOF {
			s.hash = s.src.hexSum()
			s.err = io.EOF
		} else {
			s.err = readError(err)
		}
		return inventory.StockRecord{}, s.err
	}
	line, _ := s.src.csv.FieldPos(0)
	out := inventory.StockRecord{Row: line}
	if s.skuIdx < len(rec) {
		// A copy: every cell of the record is a slice of one string, and a
		// SKU kept by the caller (duplicate detection) would pin the whole line.
		out.SKU = strings.Clone(strings.TrimSpace(rec[s.skuIdx]))
	}
	if s.qtyIdx < len(rec) {
		out.Qty = rec[s.qtyIdx]
	}
	if len(rec) > len(s.src.header) {
		// Trailing empty cells are common in spreadsheet exports; anything
		// else means a value held the delimiter unquoted ("1,200" read as 1).
		for _, extra := range rec[len(s.src.header):] {
			if strings.TrimSpace(extra) != "" {
				out.Problem = fmt.Sprintf("the row has %d cells but the header has %d: a value containing the delimiter %q must be quoted (1,200 would be read as 1)",
					len(rec), len(s.src.header), string(s.src.delim))
				break
			}
		}
	}
	return out, nil
}

// SKUColumn is the SKU column's name as written in the file.
func (s *StockReader) SKUColumn() string { return s.src.header[s.skuIdx] }

// QtyColumn is the quantity column's name as written in the file.
func (s *StockReader) QtyColumn() string { return s.src.header[s.qtyIdx] }

// BlankMeansNoChange is true when the quantity column is Shopify's
// "On hand (new)", where an empty cell means "no change".
func (s *StockReader) BlankMeansNoChange() bool { return s.blankNoChange }

// Delimiter is the column delimiter used (given or sniffed).
func (s *StockReader) Delimiter() rune { return s.src.delim }

// Hash is the hex SHA-256 of every byte of the input, BOM included. It is
// known once Next has returned io.EOF; before that it is "".
func (s *StockReader) Hash() string { return s.hash }
