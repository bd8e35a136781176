package inventory

import (
	"strings"
	"time"
)

// Time is a timestamp rendered the way the store API does: RFC 3339, UTC,
// milliseconds ("2026-12-03T16:43:42.123Z").
type Time struct{ time.Time }

// TimeLayout is the API's timestamp layout.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

func (t Time) String() string { return t.UTC().Format(TimeLayout) }

// MarshalJSON writes the API layout.
func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + t.String() + `"`), nil
}

// UnmarshalJSON reads any RFC 3339 timestamp.
func (t *Time) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		t.Time = time.Time{}
		return nil
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	t.Time = v.UTC()
	return nil
}

// Product is the API's product object plus inv's read-only reserved and
// available counts.
type Product struct {
	ID                string            `json:"id"`
	StoreID           string            `json:"storeId"`
	Title             string            `json:"title"`
	Slug              string            `json:"slug"`
	Status            string            `json:"status"`
	Price             string            `json:"price"`
	CompareAtPrice    *string           `json:"compareAtPrice"`
	SKU               *string           `json:"sku"`
	Barcode           *string           `json:"barcode"`
	TrackStock        bool              `json:"trackStock"`
	Stock             int64             `json:"stock"`
	LowStockThreshold *int64            `json:"lowStockThreshold"`
	AllowBackorder    bool              `json:"allowBackorder"`
	Description       string            `json:"description"`
	Attributes        map[string]string `json:"attributes"`
	Reserved          int64             `json:"reserved"`
	Available         int64             `json:"available"`
	CreatedAt         Time              `json:"createdAt"`
	UpdatedAt         Time              `json:"updatedAt"`
}

// SKUOrID is what to call a product in a message: its SKU, or its id.
func (p Product) SKUOrID() string {
	if p.SKU != nil && *p.SKU != "" {
		return *p.SKU
	}
	return p.ID
}

// IsLow reports the alert rule: tracked, a threshold set, stock at or below it.
func (p Product) IsLow() bool {
	return p.TrackStock && p.LowStockThreshold != nil && p.Stock <= *p.LowStockThreshold
}

// ProductFields are the writable fields of a product. On create, nil means
// "the default"; on update, nil means "leave as it is".
type ProductFields struct {
	Title             *string
	Slug              *string
	Status            *string
	Price             *string
	CompareAtPrice    **string
	SKU               *string
	Barcode           *string
	TrackStock        *bool
	Stock             *int64
	LowStockThreshold **int64
	AllowBackorder    *bool
	Description       *string
	Attributes        map[string]string
}

// Movement is one row of the ledger: one change of one product's stock.
type Movement struct {
	ID         int64  `json:"id"`
	ProductID  string `json:"productId"`
	SKU        string `json:"sku"`
	Delta      int64  `json:"delta"`
	StockAfter int64  `json:"stockAfter"`
	Reason     string `json:"reason"`
	Source     string `json:"source"`
	Actor      string `json:"actor"`
	Ref        string `json:"ref,omitempty"`
	CreatedAt  Time   `json:"createdAt"`
}

// StockChange asks for one product's stock to change. Exactly one of Set and
// Delta applies: Set when IsSet, otherwise Delta.
type StockChange struct {
	Ref            string // product id or SKU
	IsSet          bool
	Set            int64
	Delta          int64
	Expect         *int64 // compare-and-set: refuse unless stock equals this
	Clamp          bool   // adjust: stop at zero instead of refusing
	Reason         string
	Source         string // "cli", "import:<file>", "api"
	IdempotencyKey string
}

// StockResult is what a stock change did.
type StockResult struct {
	Product  Product `json:"product"`
	Before   int64   `json:"before"`
	Delta    int64   `json:"delta"`
	Changed  bool    `json:"changed"`
	Clamped  bool    `json:"clamped,omitempty"`
	Replayed bool    `json:"replayed,omitempty"` // an idempotency key seen before: nothing was applied again
}

// ProductFilter narrows a product list.
type ProductFilter struct {
	LowStock   bool
	OutOfStock bool
	Status     string
	Search     string
	SKU        string
	Limit      int
	Offset     int
}
