package engine

import (
	"context"
	"encoding/json"
)

// The transactional outbox. Every change that has observers writes its
// events in its own transaction (so a killed process loses none: the next
// delivery run sends them), and one queue row per subscribed endpoint.
// Events are written only while the store has an active webhook: with
// nobody to tell, a million-row import writes no million events.

// productJSON renders p as the API's product object, in SQL, so that
// set-based changes write their events in one pass. A test keeps it equal to
// what `inv product get -o json` prints.
const productJSON = `json_object(
	'id', p.id, 'storeId', p.store_id, 'title', p.title, 'slug', p.slug, 'status', p.status,
	'price', p.price, 'compareAtPrice', p.compare_at_price, 'sku', p.sku, 'barcode', p.barcode,
	'trackStock', json(CASE WHEN p.track_stock THEN 'true' ELSE 'false' END), 'stock', p.stock,
	'lowStockThreshold', p.low_stock_threshold,
	'allowBackorder', json(CASE WHEN p.allow_backorder THEN 'true' ELSE 'false' END),
	'description', p.description, 'attributes', json(p.attributes),
	'reserved', ` + reservedExpr + `, 'available', p.stock - ` + reservedExpr + `,
	'createdAt', strftime('%Y-%m-%dT%H:%M:%fZ', p.created_at / 1000.0, 'unixepoch'),
	'updatedAt', strftime('%Y-%m-%dT%H:%M:%fZ', p.updated_at / 1000.0, 'unixepoch'))`

// subscribed is true when endpoint w wants events of type ev.type.
const subscribed = `EXISTS (SELECT 1 FROM json_each(w.events) j WHERE j.value = '*' OR j.value = ev.type
	OR (substr(j.value, -2) = '.*' AND substr(ev.type, 1, length(j.value) - 1) = substr(j.value, 1, length(j.value) - 1)))`

// webhooksOn reports whether the store has an active endpoint.
func (e *Engine) webhooksOn(ctx context.Context, q querier) (bool, error) {
	var on bool
	err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM webhooks WHERE store_id = ? AND is_active = 1)`, e.store).Scan(&on)
	return on, err
}

// emit writes an event for each row of sel, a SELECT of (type, subject,
// payload) in the order the events happened, and queues it for every
// endpoint that subscribes to its type.
func (e *Engine) emit(ctx context.Context, q querier, sel string, args ...any) error {
	var last int64
	if err := q.QueryRowContext(ctx, `SELECT coalesce(max(pk), 0) FROM webhook_events`).Scan(&last); err != nil {
		return err
	}
	now := e.nowMS()
	all := append([]any{e.store, now}, args...)
	if _, err := q.ExecContext(ctx, `INSERT INTO webhook_events (id, store_id, type, subject, payload, created_at)
		SELECT 'evt_' || lower(hex(randomblob(12))), ?, type, subject, payload, ? FROM (`+sel+`)`, all...); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `INSERT INTO webhook_queue (webhook_pk, event_pk, subject, next_attempt_at)
		SELECT w.pk, ev.pk, ev.subject, ev.created_at FROM webhook_events ev
		JOIN webhooks w ON w.store_id = ev.store_id AND w.is_active = 1
		WHERE ev.pk > ? AND `+subscribed+` ORDER BY ev.pk`, last)
	return err
}

// emitProduct writes one product event about product pk, as it is now.
func (e *Engine) emitProduct(ctx context.Context, q querier, typ string, pk int64) error {
	on, err := e.webhooksOn(ctx, q)
	if err != nil || !on {
		return err
	}
	return e.emit(ctx, q, `SELECT ? AS type, p.id AS subject, `+productJSON+` AS payload FROM products p WHERE p.pk = ?`, typ, pk)
}

// emitJSON writes one event whose payload was rendered in Go (orders).
func (e *Engine) emitJSON(ctx context.Context, q querier, typ, subject string, v any) error {
	on, err := e.webhooksOn(ctx, q)
	if err != nil || !on {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return e.emit(ctx, q, `SELECT ? AS type, ? AS subject, ? AS payload`, typ, subject, string(b))
}

// emitMoves writes the events of the moves writeMoves just applied: a
// product.updated for each (the product after the change; product.created
// for a new product's first stock), and the alerts,
// edge-triggered: inventory.low_stock when stock crosses from above the
// threshold to at or below it (re-armed when it rises above again), and
// inventory.out_of_stock when it crosses to zero or below. Untracked
// products and a null threshold never alert.
func (e *Engine) emitMoves(ctx context.Context, q querier) error {
	on, err := e.webhooksOn(ctx, q)
	if err != nil || !on {
		return err
	}
	from := ` FROM temp.plan m JOIN temp.moves mv ON mv.seq = m.seq JOIN main.products p ON p.pk = m.product_pk WHERE m.status = 'apply'`
	for _, ev := range []struct{ typ, cond string }{
		{"coalesce(mv.event, 'product.updated')", ""},
		{"'inventory.low_stock'", ` AND p.track_stock = 1 AND p.low_stock_threshold IS NOT NULL
			AND m.before > p.low_stock_threshold AND m.after <= p.low_stock_threshold`},
		{"'inventory.out_of_stock'", ` AND p.track_stock = 1 AND m.before > 0 AND m.after <= 0`},
	} {
		if err := e.emit(ctx, q, `SELECT `+ev.typ+` AS type, p.id AS subject, `+productJSON+` AS payload`+from+ev.cond+` ORDER BY m.seq`); err != nil {
			return err
		}
	}
	return nil
}
