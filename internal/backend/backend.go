// Package backend is the seam between the commands and where the inventory
// lives: the embedded engine (SQLite in one file) or, later, a remote store
// API. Commands depend on Backend only.
package backend

import (
	"context"
	"time"

	"github.com/inv-cli/inv/internal/engine"
	"github.com/inv-cli/inv/internal/inventory"
)

// Backend is everything the commands can ask of an inventory.
type Backend interface {
	CreateProduct(ctx context.Context, f inventory.ProductFields) (inventory.Product, error)
	GetProduct(ctx context.Context, ref string) (inventory.Product, error)
	ListProducts(ctx context.Context, f inventory.ProductFilter) ([]inventory.Product, int, error)
	UpdateProduct(ctx context.Context, ref string, f inventory.ProductFields) (inventory.Product, error)
	DeleteProduct(ctx context.Context, ref string) error

	// ChangeStock sets or adjusts one product's stock atomically.
	ChangeStock(ctx context.Context, c inventory.StockChange) (inventory.StockResult, error)
	// History returns the last limit ledger rows of a product, oldest first.
	History(ctx context.Context, ref string, limit int) ([]inventory.Movement, error)

	ImportStock(ctx context.Context, src inventory.StockReader, o inventory.ImportOptions, sink inventory.ImportSink) (inventory.ImportReport, error)
	ImportProducts(ctx context.Context, src inventory.CatalogueReader, o inventory.ImportOptions, sink inventory.ImportSink) (inventory.ImportReport, error)

	// ValidateCart checks a cart against what is available (stock minus
	// live reservations), line by line.
	ValidateCart(ctx context.Context, lines []inventory.CartLine) (inventory.CartReport, error)
	// Reserve holds a cart's units for ttl, all lines or none.
	Reserve(ctx context.Context, lines []inventory.CartLine, ttl time.Duration) (inventory.Reservation, inventory.CartReport, error)
	ListReservations(ctx context.Context, all bool) ([]inventory.Reservation, error)
	ReleaseReservation(ctx context.Context, id string) (inventory.Reservation, error)

	// CreateOrder deducts all tracked lines at once or refuses the order.
	CreateOrder(ctx context.Context, req inventory.OrderRequest) (inventory.OrderResult, error)
	GetOrder(ctx context.Context, ref string) (inventory.Order, error)
	ListOrders(ctx context.Context, status string, limit, offset int) ([]inventory.Order, error)
	// CancelOrder and FulfillOrder report whether they changed anything.
	CancelOrder(ctx context.Context, ref string) (inventory.Order, bool, error)
	FulfillOrder(ctx context.Context, ref string) (inventory.Order, bool, error)

	// Webhooks: endpoints, the outbox's delivery, and its log.
	AddWebhook(ctx context.Context, url string, events []string, secret string) (inventory.Webhook, error)
	ListWebhooks(ctx context.Context) ([]inventory.Webhook, error)
	RemoveWebhook(ctx context.Context, id string) error
	TestWebhook(ctx context.Context, id string) (inventory.DeliveryReport, error)
	Deliveries(ctx context.Context, failedOnly bool, limit int) ([]inventory.Delivery, error)
	// DeliverWebhooks sends pending events for at most budget; all ignores
	// backoff waits and tries every pending event once.
	DeliverWebhooks(ctx context.Context, budget time.Duration, all bool) (inventory.DeliveryReport, error)

	Close() error
}

// Options choose and configure a backend.
type Options struct {
	Kind        string // "local" (default) or "remote"
	DB          string
	Store       string
	APIURL      string
	APIKey      string
	Actor       string
	BusyTimeout time.Duration
	Logf        func(format string, args ...any)
}

// Open returns the backend the options name.
func Open(ctx context.Context, o Options) (Backend, error) {
	switch o.Kind {
	case "", "local":
		return engine.Open(ctx, engine.Options{Path: o.DB, Store: o.Store, Actor: o.Actor, BusyTimeout: o.BusyTimeout, Logf: o.Logf})
	case "remote":
		return nil, inventory.Invalidf("the remote backend (--backend remote, %s) is not in this version of inv yet; use the embedded default (--backend local)", o.APIURL)
	}
	return nil, inventory.Invalidf("backend %q: must be local or remote", o.Kind)
}

var _ Backend = (*engine.Engine)(nil)
