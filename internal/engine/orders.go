package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/inv-cli/inv/internal/inventory"
)

// cartItem is one product of a cart after its lines were resolved and summed.
type cartItem struct {
	product  row
	known    bool
	ref      string
	qty      int64
	badQty   bool
	reserved int64 // held by live reservations other than the one being used
}

// resolveCart resolves every line to its product and sums the lines of the
// same product (same id, or SKUs that differ only in case and spaces), then
// checks each against what is available: stock minus live reservations
// (except the reservation excludePK, which the caller is consuming).
func (e *Engine) resolveCart(ctx context.Context, q querier, lines []inventory.CartLine, excludePK int64) ([]*cartItem, inventory.CartReport, error) {
	var items []*cartItem
	byKey := map[string]*cartItem{}
	for _, l := range lines {
		ref := strings.TrimSpace(l.Ref())
		var it *cartItem
		r, err := e.find(ctx, q, ref)
		switch {
		case err == nil:
			key := "pk:" + r.ID
			if it = byKey[key]; it == nil {
				it = &cartItem{product: r, known: true, ref: ref}
				byKey[key] = it
				items = append(items, it)
			}
		case errors.Is(err, inventory.ErrNotFound), errors.Is(err, inventory.ErrInvalid):
			key := "ref:" + inventory.SKUKey(ref)
			if it = byKey[key]; it == nil {
				it = &cartItem{ref: ref}
				byKey[key] = it
				items = append(items, it)
			}
		default:
			return nil, inventory.CartReport{}, err
		}
		if l.QuantityErr != "" || l.Quantity <= 0 {
			it.badQty = true
		}
		it.qty += l.Quantity
	}
	rep := inventory.CartReport{OK: len(items) > 0}
	for _, it := range items {
		c := inventory.CartCheck{SKU: it.ref, Requested: it.qty}
		if it.known {
			p := it.product
			if err := q.QueryRowContext(ctx, `SELECT coalesce(sum(ri.quantity), 0) FROM reservation_items ri
				JOIN reservations r ON r.pk = ri.reservation_pk
				WHERE ri.product_pk = ? AND r.status = 'active' AND r.expires_at > `+nowSQL+` AND r.pk != ?`,
				p.pk, excludePK).Scan(&it.reserved); err != nil {
				return nil, rep, err
			}
			c.ProductID, c.SKU, c.Title = p.ID, p.SKUOrID(), p.Title
			c.Available = p.Stock - it.reserved
		}
		switch {
		case it.badQty:
			c.Reason = inventory.ReasonInvalidQuantity
		case !it.known:
			c.Reason = inventory.ReasonUnknownSKU
		case !it.product.TrackStock:
			c.OK, c.Reason = true, inventory.ReasonNotTracked
		case it.qty <= c.Available:
			c.OK = true
		case it.product.AllowBackorder:
			c.OK, c.Reason = true, inventory.ReasonBackorder
		default:
			c.Reason = inventory.ReasonInsufficient
		}
		rep.OK = rep.OK && c.OK
		rep.Lines = append(rep.Lines, c)
	}
	return items, rep, nil
}

func cartRefusal(rep inventory.CartReport, what string) error {
	if len(rep.Lines) == 0 {
		return &inventory.CartError{Err: inventory.Invalidf("the cart has no lines"), Report: rep}
	}
	if rep.Invalid() {
		var bad []string
		for _, l := range rep.Lines {
			if l.Reason == inventory.ReasonInvalidQuantity {
				bad = append(bad, l.SKU)
			}
		}
		return &inventory.CartError{Err: inventory.Invalidf("%s: invalid quantity for %s (a whole number of 1 or more is needed)", what, strings.Join(bad, ", ")), Report: rep}
	}
	var short []string
	for _, l := range rep.Lines {
		if !l.OK {
			short = append(short, fmt.Sprintf("%s (%s: %d requested, %d available)", l.SKU, l.Reason, l.Requested, l.Available))
		}
	}
	return &inventory.CartError{Err: inventory.Insufficientf("%s: cannot be fulfilled: %s", what, strings.Join(short, ", ")), Report: rep}
}

// ValidateCart says, line by line, whether a cart can be fulfilled now.
func (e *Engine) ValidateCart(ctx context.Context, lines []inventory.CartLine) (inventory.CartReport, error) {
	var rep inventory.CartReport
	err := e.readTx(ctx, func(tx *sql.Tx) (err error) {
		_, rep, err = e.resolveCart(ctx, tx, lines, 0)
		return err
	})
	if err == nil && (len(rep.Lines) == 0 || rep.Invalid()) {
		err = cartRefusal(rep, "cart")
	}
	return rep, err
}

// Reserve holds the units of a cart for ttl: every line or none.
func (e *Engine) Reserve(ctx context.Context, lines []inventory.CartLine, ttl time.Duration) (inventory.Reservation, inventory.CartReport, error) {
	var res inventory.Reservation
	var rep inventory.CartReport
	if ttl <= 0 {
		return res, rep, inventory.Invalidf("--ttl %v must be more than zero", ttl)
	}
	err := e.writeTx(ctx, func(tx *sql.Tx) error {
		items, r, err := e.resolveCart(ctx, tx, lines, 0)
		rep = r
		if err != nil {
			return err
		}
		if !rep.OK {
			return cartRefusal(rep, "reservation")
		}
		now := e.nowMS()
		id := newID("res_")
		var pk int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO reservations (id, store_id, expires_at, created_at, updated_at) VALUES (?,?,?,?,?) RETURNING pk`,
			id, e.store, now+ttl.Milliseconds(), now, now).Scan(&pk); err != nil {
			return err
		}
		for _, it := range items {
			if !it.product.TrackStock {
				continue // nothing to hold
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO reservation_items (reservation_pk, product_pk, quantity) VALUES (?,?,?)`,
				pk, it.product.pk, it.qty); err != nil {
				return err
			}
		}
		res, err = e.reservation(ctx, tx, id)
		return err
	})
	return res, rep, err
}

func (e *Engine) reservation(ctx context.Context, q querier, id string) (inventory.Reservation, error) {
	var r inventory.Reservation
	var pk, exp, created, updated int64
	var live bool
	err := q.QueryRowContext(ctx, `SELECT pk, id, store_id, status, expires_at, created_at, updated_at, expires_at > `+nowSQL+`
		FROM reservations WHERE store_id = ? AND id = ?`, e.store, strings.TrimSpace(id)).
		Scan(&pk, &r.ID, &r.StoreID, &r.Status, &exp, &created, &updated, &live)
	if errors.Is(err, sql.ErrNoRows) {
		return r, inventory.NotFoundf("no reservation %q in store %q", id, e.store)
	}
	if err != nil {
		return r, err
	}
	if r.Status == "active" && !live {
		r.Status = "expired"
	}
	r.ExpiresAt = msTime(exp)
	r.CreatedAt, r.UpdatedAt = msTime(created), msTime(updated)
	rows, err := q.QueryContext(ctx, `SELECT p.id, coalesce(p.sku, ''), ri.quantity FROM reservation_items ri
		JOIN products p ON p.pk = ri.product_pk WHERE ri.reservation_pk = ? ORDER BY p.pk`, pk)
	if err != nil {
		return r, err
	}
	defer rows.Close()
	r.Items = []inventory.ReservationItem{}
	for rows.Next() {
		var it inventory.ReservationItem
		if err := rows.Scan(&it.ProductID, &it.SKU, &it.Quantity); err != nil {
			return r, err
		}
		r.Items = append(r.Items, it)
	}
	return r, rows.Err()
}

func msTime(ms int64) inventory.Time { return inventory.Time{Time: time.UnixMilli(ms).UTC()} }

// ListReservations lists reservations, newest first: live ones, or all.
func (e *Engine) ListReservations(ctx context.Context, all bool) ([]inventory.Reservation, error) {
	var out []inventory.Reservation
	err := e.readTx(ctx, func(tx *sql.Tx) error {
		cond := `AND status = 'active' AND expires_at > ` + nowSQL
		if all {
			cond = ""
		}
		ids, err := queryIDs(ctx, tx, `SELECT id FROM reservations WHERE store_id = ? `+cond+` ORDER BY pk DESC LIMIT 1000`, e.store)
		if err != nil {
			return err
		}
		for _, id := range ids {
			r, err := e.reservation(ctx, tx, id)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// ReleaseReservation gives the units back at once. Releasing twice, or an
// expired reservation, changes nothing.
func (e *Engine) ReleaseReservation(ctx context.Context, id string) (inventory.Reservation, error) {
	var r inventory.Reservation
	err := e.writeTx(ctx, func(tx *sql.Tx) error {
		cur, err := e.reservation(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur.Status == "consumed" {
			return inventory.Conflictf("reservation %s was used by an order; cancel the order to give the units back", cur.ID)
		}
		if cur.Status == "active" {
			if _, err := tx.ExecContext(ctx, `UPDATE reservations SET status = 'released', updated_at = ? WHERE store_id = ? AND id = ?`,
				e.nowMS(), e.store, cur.ID); err != nil {
				return err
			}
		}
		r, err = e.reservation(ctx, tx, cur.ID)
		return err
	})
	return r, err
}

// CreateOrder deducts every tracked line in one transaction, or refuses the
// whole order. A repeated external id returns the first order and deducts
// nothing: the check runs under the write lock, so two processes sending
// the same id at the same instant still make one order.
func (e *Engine) CreateOrder(ctx context.Context, req inventory.OrderRequest) (inventory.OrderResult, error) {
	var res inventory.OrderResult
	ext := strings.TrimSpace(req.ExternalID)
	err := e.writeTx(ctx, func(tx *sql.Tx) error {
		if ext != "" {
			var id string
			err := tx.QueryRowContext(ctx, `SELECT id FROM orders WHERE store_id = ? AND external_id = ?`, e.store, ext).Scan(&id)
			if err == nil {
				o, err := e.order(ctx, tx, id)
				if err != nil {
					return err
				}
				res.Order, res.Existing = o, true
				return e.sameOrder(ctx, tx, o, req.Lines)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		var resPK int64
		var resID any
		if req.ReservationID != "" {
			r, err := e.reservation(ctx, tx, req.ReservationID)
			if err != nil {
				return err
			}
			if r.Status != "active" {
				return inventory.Conflictf("reservation %s is %s; it can no longer be used for an order", r.ID, r.Status)
			}
			if err := tx.QueryRowContext(ctx, `SELECT pk FROM reservations WHERE id = ?`, r.ID).Scan(&resPK); err != nil {
				return err
			}
			resID = r.ID
		}
		items, rep, err := e.resolveCart(ctx, tx, req.Lines, resPK)
		res.Cart = rep
		if err != nil {
			return err
		}
		if !rep.OK {
			return cartRefusal(rep, "order")
		}
		now := e.nowMS()
		var number int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(order_number), 0) + 1 FROM orders WHERE store_id = ?`, e.store).Scan(&number); err != nil {
			return err
		}
		id := newID("ord_")
		var extArg any
		if ext != "" {
			extArg = ext
		}
		// One order line per product and unit price: two lines of the same
		// product at different prices (a free gift) keep their own prices,
		// while availability was checked on their sum.
		type lineKey struct {
			pk    int64
			price string
		}
		var orderItems []inventory.OrderItem
		var itemPK []int64
		at := map[lineKey]int{}
		byRef := map[string]*cartItem{}
		for _, it := range items {
			byRef["id:"+it.product.ID] = it
			byRef["sku:"+inventory.SKUKey(it.product.SKUOrID())] = it
		}
		for _, l := range req.Lines {
			it := byRef["id:"+strings.TrimSpace(l.ProductID)]
			if l.ProductID == "" || it == nil {
				it = byRef["sku:"+inventory.SKUKey(l.Ref())]
			}
			if it == nil {
				it = byRef["id:"+strings.TrimSpace(l.Ref())]
			}
			if it == nil {
				return fmt.Errorf("order line %q matches no resolved product", l.Ref())
			}
			price := it.product.Price
			if l.UnitPrice != "" {
				p, err := inventory.ParsePrice(l.UnitPrice)
				if err != nil {
					return err
				}
				price = p
			}
			k := lineKey{it.product.pk, price}
			i, ok := at[k]
			if !ok {
				i = len(orderItems)
				at[k] = i
				orderItems = append(orderItems, inventory.OrderItem{ProductID: it.product.ID, SKU: it.product.SKUOrID(),
					TitleSnapshot: it.product.Title, UnitPrice: price})
				itemPK = append(itemPK, it.product.pk)
			}
			orderItems[i].Quantity += l.Quantity
			if it.product.TrackStock {
				orderItems[i].Deducted += l.Quantity
			}
		}
		var pk int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO orders (id, store_id, order_number, external_id, status, total, reservation_id, created_at, updated_at)
			VALUES (?,?,?,?,'paid',?,?,?,?) RETURNING pk`, id, e.store, number, extArg, inventory.SumPrices(orderItems), resID, now, now).Scan(&pk); err != nil {
			return err
		}
		if err := resetMoves(ctx, tx); err != nil {
			return err
		}
		for i, oi := range orderItems {
			if _, err := tx.ExecContext(ctx, `INSERT INTO order_items (order_pk, line, product_pk, product_id, sku, title, quantity, unit_price, deducted)
				VALUES (?,?,?,?,?,?,?,?,?)`, pk, i+1, itemPK[i], oi.ProductID, oi.SKU, oi.TitleSnapshot, oi.Quantity, oi.UnitPrice, oi.Deducted); err != nil {
				return err
			}
		}
		for _, it := range items { // one move per product: the sum of its lines
			if it.product.TrackStock {
				if err := insertMove(ctx, tx, move{productPK: it.product.pk, value: -it.qty}); err != nil {
					return err
				}
			}
		}
		counts, err := e.resolveMoves(ctx, tx)
		if err != nil {
			return err
		}
		if counts.short > 0 || counts.unknown > 0 {
			// resolveCart checked under this same lock; this is the engine's last line.
			return inventory.Insufficientf("order: stock changed while it was being placed; nothing was deducted")
		}
		if resPK != 0 {
			// Consumed before the stock moves, so their events show the units as no longer held.
			if _, err := tx.ExecContext(ctx, `UPDATE reservations SET status = 'consumed', updated_at = ? WHERE pk = ?`, now, resPK); err != nil {
				return err
			}
		}
		if err := e.writeMoves(ctx, tx, "order", "cli", id); err != nil {
			return err
		}
		if res.Order, err = e.order(ctx, tx, id); err != nil {
			return err
		}
		return e.emitJSON(ctx, tx, "order.created", id, res.Order)
	})
	return res, err
}

// sameOrder refuses a repeated external id whose cart is not the order it
// names: a replay is fine, a different order under a used id is a conflict
// (like an idempotency key reused for another change).
func (e *Engine) sameOrder(ctx context.Context, q querier, o inventory.Order, lines []inventory.CartLine) error {
	want := map[string]int64{}
	for _, it := range o.Items {
		want[it.ProductID] += it.Quantity
	}
	got := map[string]int64{}
	for _, l := range lines {
		r, err := e.find(ctx, q, l.Ref())
		if err != nil {
			got["?"+l.Ref()] += l.Quantity
			continue
		}
		got[r.ID] += l.Quantity
	}
	same := len(got) == len(want)
	for k, v := range got {
		same = same && want[k] == v
	}
	if !same {
		return inventory.Conflictf("external id %q is already order %s with other lines; nothing was deducted (use a new id for a new order)",
			*o.ExternalID, o.OrderNumber)
	}
	return nil
}

// order reads an order by id, order number (ORD-000042) or external id.
func (e *Engine) order(ctx context.Context, q querier, ref string) (inventory.Order, error) {
	var o inventory.Order
	var pk, number, created, updated int64
	var ext, resID sql.NullString
	ref = strings.TrimSpace(ref)
	id, err := e.orderID(ctx, q, ref)
	if err != nil {
		return o, err
	}
	err = q.QueryRowContext(ctx, `SELECT pk, id, store_id, order_number, external_id, status, total, reservation_id, created_at, updated_at
		FROM orders WHERE id = ?`, id).
		Scan(&pk, &o.ID, &o.StoreID, &number, &ext, &o.Status, &o.Total, &resID, &created, &updated)
	if err != nil {
		return o, err
	}
	o.OrderNumber = inventory.OrderNumber(number)
	o.ExternalID, o.ReservationID = nullStr(ext), nullStr(resID)
	o.CreatedAt, o.UpdatedAt = msTime(created), msTime(updated)
	rows, err := q.QueryContext(ctx, `SELECT product_id, coalesce(sku, ''), title, quantity, unit_price, deducted FROM order_items WHERE order_pk = ? ORDER BY line`, pk)
	if err != nil {
		return o, err
	}
	defer rows.Close()
	o.Items = []inventory.OrderItem{}
	for rows.Next() {
		var it inventory.OrderItem
		if err := rows.Scan(&it.ProductID, &it.SKU, &it.TitleSnapshot, &it.Quantity, &it.UnitPrice, &it.Deducted); err != nil {
			return o, err
		}
		o.Items = append(o.Items, it)
	}
	return o, rows.Err()
}

// orderID resolves an order reference with indexed lookups: the order id
// first; then its number (ORD-000042) and the storefront's external id. When
// a number and an external id name two different orders, the reference is
// ambiguous and refused rather than guessed.
func (e *Engine) orderID(ctx context.Context, q querier, ref string) (string, error) {
	var id string
	err := q.QueryRowContext(ctx, `SELECT id FROM orders WHERE id = ? AND store_id = ?`, ref, e.store).Scan(&id)
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return id, err
	}
	var byNumber, byExternal string
	var n int64
	if _, serr := fmt.Sscanf(strings.ToUpper(ref), "ORD-%d", &n); serr == nil && inventory.OrderNumber(n) == strings.ToUpper(ref) {
		err := q.QueryRowContext(ctx, `SELECT id FROM orders WHERE store_id = ? AND order_number = ?`, e.store, n).Scan(&byNumber)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return "", err
		}
	}
	err = q.QueryRowContext(ctx, `SELECT id FROM orders WHERE store_id = ? AND external_id = ?`, e.store, ref).Scan(&byExternal)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	switch {
	case byNumber != "" && byExternal != "" && byNumber != byExternal:
		return "", inventory.Conflictf("%q is both an order number (%s) and another order's external id (%s); give the order id", ref, byNumber, byExternal)
	case byNumber != "":
		return byNumber, nil
	case byExternal != "":
		return byExternal, nil
	}
	return "", inventory.NotFoundf("no order %q in store %q (give its id, ORD- number or external id)", ref, e.store)
}

// GetOrder returns one order.
func (e *Engine) GetOrder(ctx context.Context, ref string) (inventory.Order, error) {
	var o inventory.Order
	err := e.readTx(ctx, func(tx *sql.Tx) (err error) {
		o, err = e.order(ctx, tx, ref)
		return err
	})
	return o, err
}

// ListOrders lists orders in creation order.
func (e *Engine) ListOrders(ctx context.Context, status string, limit, offset int) ([]inventory.Order, error) {
	var out []inventory.Order
	status = strings.ToLower(strings.TrimSpace(status))
	switch status {
	case "", "paid", "fulfilled", "cancelled":
	default:
		return nil, inventory.Invalidf("--status %q must be paid, fulfilled or cancelled", status)
	}
	if limit <= 0 {
		limit = -1
	}
	err := e.readTx(ctx, func(tx *sql.Tx) error {
		ids, err := queryIDs(ctx, tx, `SELECT id FROM orders WHERE store_id = ? AND (? = '' OR status = ?) ORDER BY pk LIMIT ? OFFSET ?`,
			e.store, status, status, limit, offset)
		if err != nil {
			return err
		}
		for _, id := range ids {
			o, err := e.order(ctx, tx, id)
			if err != nil {
				return err
			}
			out = append(out, o)
		}
		return nil
	})
	return out, err
}

// CancelOrder restores each tracked line's units once (ledger reason
// order_cancelled). Cancelling a cancelled order changes nothing; a
// fulfilled order cannot be cancelled.
func (e *Engine) CancelOrder(ctx context.Context, ref string) (inventory.Order, bool, error) {
	return e.transitionOrder(ctx, ref, "cancelled", "fulfilled", "order.cancelled", func(tx *sql.Tx, cur inventory.Order) error {
		if err := resetMoves(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO temp.moves (product_pk, is_set, value)
			SELECT oi.product_pk, 0, oi.deducted FROM order_items oi JOIN orders o ON o.pk = oi.order_pk
			WHERE o.id = ? AND oi.deducted > 0 ORDER BY oi.line`, cur.ID); err != nil {
			return err
		}
		if _, err := e.resolveMoves(ctx, tx); err != nil { // a deleted product's line is 'unknown' and skipped
			return err
		}
		return e.writeMoves(ctx, tx, "order_cancelled", "cli", cur.ID)
	})
}

// FulfillOrder marks an order fulfilled. Fulfilling twice changes nothing;
// a cancelled order cannot be fulfilled.
func (e *Engine) FulfillOrder(ctx context.Context, ref string) (inventory.Order, bool, error) {
	return e.transitionOrder(ctx, ref, "fulfilled", "cancelled", "order.updated", nil)
}

// transitionOrder moves a paid order to status to, once: asking again
// changes nothing (false), and an order in status blocked is a conflict.
// work, if any, runs first in the same transaction; then the order event.
func (e *Engine) transitionOrder(ctx context.Context, ref, to, blocked, event string, work func(*sql.Tx, inventory.Order) error) (inventory.Order, bool, error) {
	var o inventory.Order
	changed := false
	err := e.writeTx(ctx, func(tx *sql.Tx) error {
		cur, err := e.order(ctx, tx, ref)
		if err != nil {
			return err
		}
		switch cur.Status {
		case to:
			o = cur
			return nil
		case blocked:
			return inventory.Conflictf("order %s is %s; it cannot be %s", cur.OrderNumber, blocked, to)
		}
		if work != nil {
			if err := work(tx, cur); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE orders SET status = ?, updated_at = ? WHERE id = ?`, to, e.nowMS(), cur.ID); err != nil {
			return err
		}
		changed = true
		if o, err = e.order(ctx, tx, cur.ID); err != nil {
			return err
		}
		return e.emitJSON(ctx, tx, event, o.ID, o)
	})
	return o, changed, err
}

// queryIDs runs a query of one text column and returns its values, closing
// the rows before the caller runs further queries on the same transaction.
func queryIDs(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
