package inventory

import (
	"fmt"
	"math/big"
	"strings"
)

// CartLine is one line of a cart or order as given: a product named by id
// or SKU, and a quantity. QuantityErr is set when the quantity given was not
// a positive whole number; such a line makes the cart invalid.
type CartLine struct {
	ProductID   string `json:"productId,omitempty"`
	SKU         string `json:"sku,omitempty"`
	Quantity    int64  `json:"quantity"`
	UnitPrice   string `json:"unitPrice,omitempty"`
	QuantityErr string `json:"-"` // why the quantity was refused
}

// Ref is how the line names its product.
func (l CartLine) Ref() string {
	if l.ProductID != "" {
		return l.ProductID
	}
	return l.SKU
}

// Reasons a cart line can carry.
const (
	ReasonInsufficient    = "insufficient"
	ReasonUnknownSKU      = "unknown sku"
	ReasonNotTracked      = "not tracked"
	ReasonBackorder       = "backorder"
	ReasonInvalidQuantity = "invalid quantity"
)

// CartCheck is the verdict on one (summed) cart line.
type CartCheck struct {
	ProductID string `json:"productId,omitempty"`
	SKU       string `json:"sku"`
	Title     string `json:"title"`
	Requested int64  `json:"requested"`
	Available int64  `json:"available"`
	OK        bool   `json:"ok"`
	Reason    string `json:"reason"`
}

// CartReport is the verdict on a whole cart.
type CartReport struct {
	OK    bool        `json:"ok"`
	Lines []CartCheck `json:"lines"`
}

// Invalid reports whether a line had an invalid quantity (a malformed cart).
func (r CartReport) Invalid() bool {
	for _, l := range r.Lines {
		if l.Reason == ReasonInvalidQuantity {
			return true
		}
	}
	return false
}

// ReservationItem is one product a reservation holds units of.
type ReservationItem struct {
	ProductID string `json:"productId"`
	SKU       string `json:"sku"`
	Quantity  int64  `json:"quantity"`
}

// Reservation holds units until it expires, is released, or is consumed by
// an order. Status: active, released, consumed; an active reservation past
// ExpiresAt is reported as expired and no longer counts.
type Reservation struct {
	ID        string            `json:"id"`
	StoreID   string            `json:"storeId"`
	Status    string            `json:"status"`
	ExpiresAt Time              `json:"expiresAt"`
	Items     []ReservationItem `json:"items"`
	CreatedAt Time              `json:"createdAt"`
	UpdatedAt Time              `json:"updatedAt"`
}

// OrderItem is one line of an order, with snapshots taken when it was placed.
type OrderItem struct {
	ProductID     string `json:"productId"`
	SKU           string `json:"sku"`
	TitleSnapshot string `json:"titleSnapshot"`
	Quantity      int64  `json:"quantity"`
	UnitPrice     string `json:"unitPrice"`
	Deducted      int64  `json:"deducted"` // units taken from stock (0 for untracked products)
}

// Order is the API's order object.
type Order struct {
	ID            string      `json:"id"`
	OrderNumber   string      `json:"orderNumber"`
	StoreID       string      `json:"storeId"`
	ExternalID    *string     `json:"externalId"`
	Status        string      `json:"status"` // paid, fulfilled, cancelled
	Items         []OrderItem `json:"items"`
	Total         string      `json:"total"`
	ReservationID *string     `json:"reservationId"`
	CreatedAt     Time        `json:"createdAt"`
	UpdatedAt     Time        `json:"updatedAt"`
}

// OrderRequest asks for an order.
type OrderRequest struct {
	ExternalID    string
	ReservationID string
	Lines         []CartLine
}

// OrderResult is what creating an order did.
type OrderResult struct {
	Order    Order      `json:"order"`
	Existing bool       `json:"existing"` // the externalId was seen before: nothing was deducted
	Cart     CartReport `json:"cart"`
}

// OrderNumber formats an order's number: ORD-000042.
func OrderNumber(n int64) string { return fmt.Sprintf("ORD-%06d", n) }

// ParseCartQuantity reads a cart line's quantity: a whole number above zero.
func ParseCartQuantity(s string) (int64, error) {
	n, err := ParseQuantity(s)
	if err != nil {
		return 0, err
	}
	if n <= 0 {
		return 0, &QuantityError{Value: s, Reason: "must be 1 or more"}
	}
	return n, nil
}

// ParseCartArg reads SKU=QTY from the command line.
func ParseCartArg(s string) (CartLine, error) {
	sku, qty, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(sku) == "" {
		return CartLine{}, Invalidf("cart line %q must be SKU=QUANTITY, such as MUG-BLU=2", s)
	}
	l := CartLine{SKU: strings.TrimSpace(sku)}
	n, err := ParseCartQuantity(qty)
	if err != nil {
		l.QuantityErr = err.Error()
	}
	l.Quantity = n
	return l, nil
}

// SumPrices returns sum(price × quantity) as a decimal string with at least
// two decimals. Prices are decimal strings; no float is involved.
func SumPrices(items []OrderItem) string {
	total := new(big.Rat)
	scale := 2
	for _, it := range items {
		r, ok := new(big.Rat).SetString(it.UnitPrice)
		if !ok {
			continue
		}
		if _, frac, found := strings.Cut(it.UnitPrice, "."); found && len(frac) > scale {
			scale = len(frac)
		}
		total.Add(total, r.Mul(r, new(big.Rat).SetInt64(it.Quantity)))
	}
	return total.FloatString(scale)
}

// CartError is a refused cart, reservation or order, with the verdict on
// every line so that the caller can show which lines are short.
type CartError struct {
	Err    error
	Report CartReport
}

func (e *CartError) Error() string { return e.Err.Error() }
func (e *CartError) Unwrap() error { return e.Err }

// Webhook is an endpoint that receives events. Secret is shown only when
// the endpoint is created.
type Webhook struct {
	ID              string   `json:"id"`
	StoreID         string   `json:"storeId"`
	URL             string   `json:"url"`
	Events          []string `json:"events"`
	Secret          string   `json:"secret,omitempty"`
	IsActive        bool     `json:"isActive"`
	LastTriggeredAt *Time    `json:"lastTriggeredAt"`
	FailureCount    int      `json:"failureCount"`
	Pending         int      `json:"pending"` // events waiting to be delivered
	CreatedAt       Time     `json:"createdAt"`
	UpdatedAt       Time     `json:"updatedAt"`
}

// Delivery is one attempt to deliver one event to one endpoint.
type Delivery struct {
	Time      Time   `json:"time"`
	WebhookID string `json:"webhookId"`
	EventID   string `json:"eventId"`
	Type      string `json:"type"`
	Attempt   int    `json:"attempt"`
	Status    int    `json:"status"` // HTTP status; 0 when no answer came
	LatencyMS int64  `json:"latencyMs"`
	Error     string `json:"error"`
	Delivered bool   `json:"delivered"`
}

// DeliveryReport is what a delivery run or a test send did.
type DeliveryReport struct {
	Attempts  int    `json:"attempts"`
	Delivered int    `json:"delivered"`
	Failed    int    `json:"failed"`
	Pending   int    `json:"pending"` // still waiting after the run
	Status    int    `json:"status,omitempty"`
	LatencyMS int64  `json:"latencyMs,omitempty"`
	Body      string `json:"body,omitempty"`
	Error     string `json:"error,omitempty"`
}
