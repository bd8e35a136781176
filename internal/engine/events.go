package engine

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/inv-cli/inv/internal/webhook"
)

// The transactional outbox. Every change that has observers writes its
// events in its own transaction (so a killed process loses none: the next
// delivery run sends them), and one queue row per subscribed endpoint.
// Events are written only while the store has an active webhook: with
// nobody to tell, a million-row import writes no million events.

// productJSON renders p as the API's product object, in SQL, so that
// set-based changes write their events in one pass. A test keeps it equal to
// what `inv product get -o json` prints. RES is the units held by live
// reservations (see productJSONReserved for batches).
const productJSONTemplate = `json_object(
	'id', p.id, 'storeId', p.store_id, 'title', p.title, 'slug', p.slug, 'status', p.status,
	'price', p.price, 'compareAtPrice', p.compare_at_price, 'sku', p.sku, 'barcode', p.barcode,
	'trackStock', json(CASE WHEN p.track_stock THEN 'true' ELSE 'false' END), 'stock', p.stock,
	'lowStockThreshold', p.low_stock_threshold,
	'allowBackorder', json(CASE WHEN p.allow_backorder THEN 'true' ELSE 'false' END),
	'description', p.description, 'attributes', json(p.attributes),
	'reserved', RES, 'available', p.stock - RES,
	'createdAt', strftime('%Y-%m-%dT%H:%M:%fZ', p.created_at / 1000.0, 'unixepoch'),
	'updatedAt', strftime('%Y-%m-%dT%H:%M:%fZ', p.updated_at / 1000.0, 'unixepoch'))`

// productJSON counts reservations with a subquery: for one product.
var productJSON = strings.ReplaceAll(productJSONTemplate, "RES", reservedExpr)

// For a batch of products, the live reservations are counted once, joined
// as rv (use liveReservedJoin), instead of twice per product.
var productJSONBatch = strings.ReplaceAll(productJSONTemplate, "RES", "coalesce(rv.n, 0)")

const liveReservedJoin = ` LEFT JOIN (SELECT ri.product_pk, sum(ri.quantity) AS n FROM reservation_items ri
	JOIN reservations r ON r.pk = ri.reservation_pk
	WHERE r.status = 'active' AND r.expires_at > ` + nowSQL + ` GROUP BY ri.product_pk) rv ON rv.product_pk = p.pk`

// subscriber is an active endpoint and the event types it wants (a JSON
// array, for the fan-out's json_each).
type subscriber struct {
	pk    int64
	types string
}

// subscribers loads the store's active endpoints once per change. None
// means no events are written at all.
func (e *Engine) subscribers(ctx context.Context, q querier) ([]subscriber, error) {
	rows, err := q.QueryContext(ctx, `SELECT pk, events FROM webhooks WHERE store_id = ? AND is_active = 1`, e.store)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var subs []subscriber
	for rows.Next() {
		var pk int64
		var evs string
		if err := rows.Scan(&pk, &evs); err != nil {
			return nil, err
		}
		// Which types an endpoint wants is worked out here, once, rather
		// than by matching patterns against every event in SQL.
		var patterns, types []string
		_ = json.Unmarshal([]byte(evs), &patterns)
		for _, t := range webhook.EventTypes {
			for _, p := range patterns {
				if webhook.Matches(p, t) {
					types = append(types, t)
					break
				}
			}
		}
		b, _ := json.Marshal(types)
		subs = append(subs, subscriber{pk, string(b)})
	}
	return subs, rows.Err()
}

// emit writes an event for each row of sel, a SELECT of (type, subject,
// payload) in the order the events happened, and queues it for every
// subscriber that wants its type.
func (e *Engine) emit(ctx context.Context, q querier, subs []subscriber, sel string, args ...any) error {
	var last int64
	if err := q.QueryRowContext(ctx, `SELECT coalesce(max(pk), 0) FROM webhook_events`).Scan(&last); err != nil {
		return err
	}
	all := append([]any{e.store, e.nowMS()}, args...)
	if _, err := q.ExecContext(ctx, `INSERT INTO webhook_events (id, store_id, type, subject, payload, created_at)
		SELECT 'evt_' || lower(hex(randomblob(12))), ?, type, subject, payload, ? FROM (`+sel+`)`, all...); err != nil {
		return err
	}
	for _, w := range subs {
		if _, err := q.ExecContext(ctx, `INSERT INTO webhook_queue (webhook_pk, event_pk, subject, next_attempt_at)
			SELECT ?, ev.pk, ev.subject, ev.created_at FROM webhook_events ev
			WHERE ev.pk > ? AND ev.type IN (SELECT value FROM json_each(?)) ORDER BY ev.pk`, w.pk, last, w.types); err != nil {
			return err
		}
	}
	return nil
}

// emitProduct writes one product event about product pk, as it is now.
func (e *Engine) emitProduct(ctx context.Context, q querier, typ string, pk int64) error {
	subs, err := e.subscribers(ctx, q)
	if err != nil || len(subs) == 0 {
		return err
	}
	return e.emit(ctx, q, subs, `SELECT ? AS type, p.id AS subject, `+productJSON+` AS payload FROM products p WHERE p.pk = ?`, typ, pk)
}

// emitJSON writes one event whose payload was rendered in Go (orders).
func (e *Engine) emitJSON(ctx context.Context, q querier, typ, subject string, v any) error {
	subs, err := e.subscribers(ctx, q)
	if err != nil || len(subs) == 0 {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return e.emit(ctx, q, subs, `SELECT ? AS type, ? AS subject, ? AS payload`, typ, subject, string(b))
}

// emitMoves writes the events of the moves writeMoves just applied: a
// product.updated for each (the product after the change; product.created
// for a new product's first stock), and the alerts,
// edge-triggered: inventory.low_stock when stock crosses from above the
// threshold to at or below it (re-armed when it rises above again), and
// inventory.out_of_stock when it crosses to zero or below. Untracked
// products and a null threshold never alert.
func (e *Engine) emitMoves(ctx context.Context, q querier) error {
	subs, err := e.subscribers(ctx, q)
	if err != nil || len(subs) == 0 {
		return err
	}
	// The alert conditions read only the plan (threshold and tracking were
	// captured there), so the products are looked up for the few that cross.
	for _, ev := range []struct{ typ, from, cond string }{
		{"coalesce(mv.event, 'product.updated')", ` FROM temp.plan m JOIN temp.moves mv ON mv.seq = m.seq`, ""},
		{"'inventory.low_stock'", ` FROM temp.plan m`, ` AND m.tracked = 1 AND m.thr IS NOT NULL AND m.before > m.thr AND m.after <= m.thr`},
		{"'inventory.out_of_stock'", ` FROM temp.plan m`, ` AND m.tracked = 1 AND m.before > 0 AND m.after <= 0`},
	} {
		if err := e.emit(ctx, q, subs, `SELECT `+ev.typ+` AS type, p.id AS subject, `+productJSONBatch+` AS payload`+ev.from+
			` JOIN main.products p ON p.pk = m.product_pk`+liveReservedJoin+` WHERE m.status = 'apply'`+ev.cond+` ORDER BY m.seq`); err != nil {
			return err
		}
	}
	return nil
}
