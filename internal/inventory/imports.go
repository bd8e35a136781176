package inventory

// Import modes: a set-mode file holds absolute stock levels (a count, a
// warehouse report), an adjust-mode file holds deltas (a delivery note).
const (
	ModeSet    = "set"
	ModeAdjust = "adjust"
)

// What to do with a SKU that appears on more than one row of one file.
const (
	OnDuplicateError = "error" // report every repeat as a problem (default)
	OnDuplicateSum   = "sum"   // add the quantities up
	OnDuplicateLast  = "last"  // the last row wins
)

// StockRecord is one data row of a stock file, as read: no interpretation
// beyond trimming the SKU.
type StockRecord struct {
	Row int    // as a spreadsheet numbers it: the header is row 1
	SKU string // trimmed; empty means the row names no product
	Qty string // as written
	// Problem, when set, is why the row as a whole cannot be trusted (more
	// cells than the header: an unquoted delimiter inside a value).
	Problem string
}

// StockReader streams the rows of a stock file. Next returns io.EOF after the
// last row. Hash is the SHA-256 of every byte read, valid after io.EOF.
type StockReader interface {
	Next() (StockRecord, error)
	SKUColumn() string
	QtyColumn() string
	// BlankMeansNoChange is true for layouts whose quantity column is left
	// empty for "no change" (Shopify's "On hand (new)").
	BlankMeansNoChange() bool
	Hash() string
}

// ImportOptions control a stock import.
type ImportOptions struct {
	Name        string // the file's base name, recorded as source "import:<name>"
	Mode        string // ModeSet or ModeAdjust
	DryRun      bool
	Partial     bool
	SkipUnknown bool
	OnDuplicate string
	Force       bool // re-apply a delta file already imported
	NoStock     bool // catalogue imports: leave stock alone, whatever the file says
	Reason      string
}

// ImportChange is one product an import changes (or, in a dry run, would).
type ImportChange struct {
	Row    int    `json:"row"`
	SKU    string `json:"sku"`
	Title  string `json:"title"`
	Action string `json:"action,omitempty"` // catalogue imports: created, updated
	Before int64  `json:"before"`
	After  int64  `json:"after"`
	Delta  int64  `json:"delta"`
}

// ImportSink receives what an import found, in row order, while it runs, so
// that nothing of size proportional to the file is held in memory.
type ImportSink struct {
	Problem func(Problem) error
	Change  func(ImportChange) error
}

// ImportReport counts what an import did.
type ImportReport struct {
	File           string `json:"file"`
	Mode           string `json:"mode"`
	Rows           int    `json:"rows"`
	Changed        int    `json:"changed"`
	Created        int    `json:"created,omitempty"`
	Unchanged      int    `json:"unchanged"`
	SkippedNoSKU   int    `json:"skippedNoSku"`
	SkippedBlank   int    `json:"skippedBlank"`
	SkippedUnknown int    `json:"skippedUnknown"`
	Rejected       int    `json:"rejected"`
	Problems       int    `json:"problems"`
	DryRun         bool   `json:"dryRun"`
	Applied        bool   `json:"applied"`
}

// CatalogueRecord is one product row of a catalogue file, already interpreted
// by the reader for its layout (Shopify, WooCommerce, plain). Fields that the
// file does not carry are nil. Problems lists what was wrong with the row.
type CatalogueRecord struct {
	Row      int
	SKU      string
	Fields   ProductFields
	Problems []Problem
}

// CatalogueReader streams the product rows of a catalogue file. Rows without
// a SKU (Shopify image rows) are counted and not returned. Next returns
// io.EOF after the last row.
type CatalogueReader interface {
	Next() (CatalogueRecord, error)
	SkippedNoSKU() int
}
