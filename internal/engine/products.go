package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/inv-cli/inv/internal/inventory"
)

// querier is what *sql.DB, *sql.Tx and *sql.Conn share.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// productCols is the one column list every product read uses. reserved is a
// column expression so that live reservations can be counted in one place.
const productCols = `p.pk, p.id, p.store_id, p.title, p.slug, p.status, p.price, p.compare_at_price,
	p.sku, p.barcode, p.track_stock, p.stock, p.low_stock_threshold, p.allow_backorder,
	p.description, p.attributes, p.created_at, p.updated_at, ` + reservedSQL

// reservedSQL counts the units of p held by live reservations: active and
// not yet expired by the database's clock, so an expired reservation stops
// counting without any process having to run.
const reservedSQL = reservedExpr + ` AS reserved`

const reservedExpr = `(SELECT coalesce(sum(ri.quantity), 0) FROM reservation_items ri
	JOIN reservations r ON r.pk = ri.reservation_pk
	WHERE ri.product_pk = p.pk AND r.status = 'active' AND r.expires_at > ` + nowSQL + `)`

// nowSQL is the current time in unix milliseconds, by the database's clock.
const nowSQL = `CAST(unixepoch('subsec') * 1000 AS INTEGER)`

type row struct {
	pk int64
	inventory.Product
}

type scanner interface{ Scan(dest ...any) error }

func scanProduct(s scanner) (row, error) {
	var (
		r                    row
		cmp, sku, bc         sql.NullString
		thr                  sql.NullInt64
		attrs                string
		created, updated, rs int64
	)
	err := s.Scan(&r.pk, &r.ID, &r.StoreID, &r.Title, &r.Slug, &r.Status, &r.Price, &cmp,
		&sku, &bc, &r.TrackStock, &r.Stock, &thr, &r.AllowBackorder,
		&r.Description, &attrs, &created, &updated, &rs)
	if err != nil {
		return r, err
	}
	r.CompareAtPrice = nullStr(cmp)
	r.SKU = nullStr(sku)
	r.Barcode = nullStr(bc)
	if thr.Valid {
		v := thr.Int64
		r.LowStockThreshold = &v
	}
	r.Attributes = map[string]string{}
	if attrs != "" {
		_ = json.Unmarshal([]byte(attrs), &r.Attributes)
	}
	r.CreatedAt = inventory.Time{Time: time.UnixMilli(created).UTC()}
	r.UpdatedAt = inventory.Time{Time: time.UnixMilli(updated).UTC()}
	r.Reserved = rs
	r.Available = r.Stock - rs
	return r, nil
}

func nullStr(n sql.NullString) *string {
	if !n.Valid {
		return nil
	}
	s := n.String
	return &s
}

// find resolves REF: a product id, or a SKU matched ignoring case and
// surrounding spaces. Deleted products are not found.
func (e *Engine) find(ctx context.Context, q querier, ref string) (row, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return row{}, inventory.Invalidf("no product given: name a SKU or a product id")
	}
	base := `SELECT ` + productCols + ` FROM products p WHERE p.store_id = ? AND p.deleted_at IS NULL AND `
	r, err := scanProduct(q.QueryRowContext(ctx, base+`p.sku_key = ?`, e.store, inventory.SKUKey(ref)))
	if errors.Is(err, sql.ErrNoRows) {
		r, err = scanProduct(q.QueryRowContext(ctx, base+`p.id = ?`, e.store, ref))
	}
	if errors.Is(err, sql.ErrNoRows) {
		return row{}, inventory.NotFoundf("no product with SKU or id %q in store %q", ref, e.store)
	}
	return r, err
}

// GetProduct returns one product by id or SKU.
func (e *Engine) GetProduct(ctx context.Context, ref string) (inventory.Product, error) {
	var r row
	err := e.readTx(ctx, func(tx *sql.Tx) (err error) {
		r, err = e.find(ctx, tx, ref)
		return err
	})
	return r.Product, err
}

// ListProducts lists live products in creation order, with the total count
// of the filter (for paging).
func (e *Engine) ListProducts(ctx context.Context, f inventory.ProductFilter) ([]inventory.Product, int, error) {
	where := []string{"p.store_id = ?"}
	args := []any{e.store}
	if f.Status == "deleted" {
		where = append(where, "p.deleted_at IS NOT NULL")
	} else {
		where = append(where, "p.deleted_at IS NULL")
		if f.Status != "" {
			if err := inventory.ValidateStatus(f.Status); err != nil {
				return nil, 0, err
			}
			where = append(where, "p.status = ?")
			args = append(args, f.Status)
		}
	}
	if f.LowStock {
		where = append(where, lowStockSQL)
	}
	if f.OutOfStock {
		where = append(where, "p.track_stock = 1 AND p.stock <= 0")
	}
	if f.SKU != "" {
		where = append(where, "p.sku_key = ?")
		args = append(args, inventory.SKUKey(f.SKU))
	}
	if s := strings.TrimSpace(f.Search); s != "" {
		where = append(where, `(p.title LIKE ? ESCAPE '\' OR p.sku LIKE ? ESCAPE '\')`)
		pat := "%" + likeEscape(s) + "%"
		args = append(args, pat, pat)
	}
	cond := strings.Join(where, " AND ")
	var out []inventory.Product
	var total int
	err := e.readTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM products p WHERE `+cond, args...).Scan(&total); err != nil {
			return err
		}
		q := `SELECT ` + productCols + ` FROM products p WHERE ` + cond + ` ORDER BY p.created_at, p.pk`
		qargs := append([]any{}, args...)
		if f.Limit > 0 {
			q += ` LIMIT ? OFFSET ?`
			qargs = append(qargs, f.Limit, f.Offset)
		} else if f.Offset > 0 {
			q += ` LIMIT -1 OFFSET ?`
			qargs = append(qargs, f.Offset)
		}
		rows, err := tx.QueryContext(ctx, q, qargs...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanProduct(rows)
			if err != nil {
				return err
			}
			out = append(out, r.Product)
		}
		return rows.Err()
	})
	return out, total, err
}

// lowStockSQL is the alert rule as SQL: tracked, a threshold set, stock at or below it.
const lowStockSQL = "p.track_stock = 1 AND p.low_stock_threshold IS NOT NULL AND p.stock <= p.low_stock_threshold"

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// checkFields validates what a create or update sets.
func checkFields(f *inventory.ProductFields) error {
	if f.Title != nil {
		t := strings.TrimSpace(*f.Title)
		if err := inventory.ValidateTitle(t); err != nil {
			return err
		}
		f.Title = &t
	}
	if f.Slug != nil {
		if err := inventory.ValidateSlug(*f.Slug); err != nil {
			return err
		}
	}
	if f.Status != nil {
		if err := inventory.ValidateStatus(*f.Status); err != nil {
			return err
		}
	}
	if f.Price != nil {
		p, err := inventory.ParsePrice(*f.Price)
		if err != nil {
			return err
		}
		f.Price = &p
	}
	if f.CompareAtPrice != nil && *f.CompareAtPrice != nil {
		p, err := inventory.ParsePrice(**f.CompareAtPrice)
		if err != nil {
			return err
		}
		pp := &p
		f.CompareAtPrice = &pp
	}
	if f.SKU != nil {
		s, err := inventory.CleanSKU(*f.SKU)
		if err != nil {
			return err
		}
		f.SKU = &s
	}
	if f.Barcode != nil {
		b := strings.TrimSpace(*f.Barcode)
		if b != "" {
			if err := inventory.ValidateBarcode(b); err != nil {
				return err
			}
		}
		f.Barcode = &b
	}
	if f.Stock != nil && (*f.Stock > inventory.MaxQuantity || *f.Stock < -inventory.MaxQuantity) {
		return inventory.Invalidf("stock %d is out of range", *f.Stock)
	}
	if f.LowStockThreshold != nil && *f.LowStockThreshold != nil && **f.LowStockThreshold < 0 {
		return inventory.Invalidf("low-stock threshold %d must be 0 or more", **f.LowStockThreshold)
	}
	return nil
}

func emptyToNil(p *string) any {
	if p == nil || *p == "" {
		return nil
	}
	return *p
}

// CreateProduct creates a product. Its initial stock is a ledger movement
// ("created"), so the ledger always sums to the stock.
func (e *Engine) CreateProduct(ctx context.Context, f inventory.ProductFields) (inventory.Product, error) {
	var out row
	err := e.writeTx(ctx, func(tx *sql.Tx) error {
		r, err := e.create(ctx, tx, f, "cli")
		out = r
		return err
	})
	return out.Product, err
}

// create inserts a product; its first stock goes through the ledger.
func (e *Engine) create(ctx context.Context, q querier, f inventory.ProductFields, source string) (row, error) {
	if f.Title == nil {
		return row{}, inventory.Invalidf("title is required (--title)")
	}
	if err := checkFields(&f); err != nil {
		return row{}, err
	}
	backorder := f.AllowBackorder != nil && *f.AllowBackorder
	if f.Stock != nil && *f.Stock < 0 && !backorder {
		return row{}, inventory.Invalidf("stock %d is below zero, which only a product that allows backorder may have (--allow-backorder)", *f.Stock)
	}
	if f.SKU != nil && *f.SKU != "" {
		if err := e.skuFree(ctx, q, *f.SKU, ""); err != nil {
			return row{}, err
		}
	}
	slug, err := e.pickSlug(ctx, q, f, "")
	if err != nil {
		return row{}, err
	}
	attrs := "{}"
	if len(f.Attributes) > 0 {
		b, _ := json.Marshal(f.Attributes)
		attrs = string(b)
	}
	now := e.nowMS()
	r := row{Product: inventory.Product{ID: newID("prod_"), StoreID: e.store, Title: *f.Title, Slug: slug,
		Status: strOr(f.Status, "draft"), Price: strOr(f.Price, "0.00"), Barcode: emptyPtrNil(f.Barcode),
		TrackStock: boolOr(f.TrackStock, false), AllowBackorder: backorder, Description: strOr(f.Description, ""),
		Attributes: f.Attributes, CreatedAt: inventory.Time{Time: time.UnixMilli(now).UTC()}}}
	r.UpdatedAt = r.CreatedAt
	if r.Attributes == nil {
		r.Attributes = map[string]string{}
	}
	var sku, skuKey any
	if f.SKU != nil && *f.SKU != "" {
		sku, skuKey = *f.SKU, inventory.SKUKey(*f.SKU)
		r.SKU = f.SKU
	}
	var thr any
	if f.LowStockThreshold != nil && *f.LowStockThreshold != nil {
		thr = **f.LowStockThreshold
		r.LowStockThreshold = *f.LowStockThreshold
	}
	var cmp any
	if f.CompareAtPrice != nil && *f.CompareAtPrice != nil {
		cmp = **f.CompareAtPrice
		r.CompareAtPrice = *f.CompareAtPrice
	}
	err = q.QueryRowContext(ctx, `INSERT INTO products (id, store_id, title, slug, status, price, compare_at_price,
		sku, sku_key, barcode, track_stock, stock, low_stock_threshold, allow_backorder, description, attributes,
		created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,0,?,?,?,?,?,?) RETURNING pk`,
		r.ID, e.store, r.Title, slug, r.Status, r.Price, cmp,
		sku, skuKey, emptyToNil(f.Barcode), r.TrackStock, thr, backorder,
		r.Description, attrs, now, now).Scan(&r.pk)
	if err != nil {
		return row{}, err
	}
	if f.Stock != nil && *f.Stock != 0 {
		// The first stock goes through the ledger; its event is the product.created.
		if _, err := e.applyOne(ctx, q, r, move{isSet: true, value: *f.Stock, reason: "created", source: source, event: "product.created"}); err != nil {
			return row{}, err
		}
		return e.find(ctx, q, r.ID)
	}
	if err := e.emitProduct(ctx, q, "product.created", r.pk); err != nil {
		return row{}, err
	}
	return r, nil
}

func strOr(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

func (e *Engine) skuFree(ctx context.Context, q querier, sku, exceptID string) error {
	var id string
	err := q.QueryRowContext(ctx, `SELECT id FROM products WHERE store_id = ? AND sku_key = ? AND deleted_at IS NULL AND id != ?`,
		e.store, inventory.SKUKey(sku), exceptID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return inventory.Conflictf("SKU %q is already used by product %s (SKUs are unique per store, ignoring case and surrounding spaces)", sku, id)
}

// pickSlug returns the slug to store: the one given (which must be free), or
// one derived from the title, made unique with -2, -3, ...
func (e *Engine) pickSlug(ctx context.Context, q querier, f inventory.ProductFields, exceptID string) (string, error) {
	taken := func(s string) (bool, error) {
		var n int
		err := q.QueryRowContext(ctx, `SELECT count(*) FROM products WHERE store_id = ? AND slug = ? AND deleted_at IS NULL AND id != ?`,
			e.store, s, exceptID).Scan(&n)
		return n > 0, err
	}
	if f.Slug != nil {
		t, err := taken(*f.Slug)
		if err != nil {
			return "", err
		}
		if t {
			return "", inventory.Conflictf("slug %q is already used in store %q", *f.Slug, e.store)
		}
		return *f.Slug, nil
	}
	base := inventory.Slugify(*f.Title)
	for i := 1; i <= 50; i++ {
		s := base
		if i > 1 {
			s = fmt.Sprintf("%s-%d", base, i)
		}
		t, err := taken(s)
		if err != nil {
			return "", err
		}
		if !t {
			return s, nil
		}
	}
	return strings.ToLower(base + "-" + newID("")[:8]), nil
}

// UpdateProduct changes the fields given. A stock change goes through the
// ledger like any other.
func (e *Engine) UpdateProduct(ctx context.Context, ref string, f inventory.ProductFields) (inventory.Product, error) {
	var out row
	err := e.writeTx(ctx, func(tx *sql.Tx) error {
		r, err := e.find(ctx, tx, ref)
		if err != nil {
			return err
		}
		out, err = e.updateTx(ctx, tx, r, f, "cli")
		return err
	})
	return out.Product, err
}

func (e *Engine) updateTx(ctx context.Context, tx querier, r row, f inventory.ProductFields, source string) (row, error) {
	if err := checkFields(&f); err != nil {
		return row{}, err
	}
	set := []string{}
	args := []any{}
	add := func(col string, v any) {
		set = append(set, col+" = ?")
		args = append(args, v)
	}
	if f.Title != nil && *f.Title != r.Title {
		add("title", *f.Title)
	}
	if f.Slug != nil && *f.Slug != r.Slug {
		if _, err := e.pickSlug(ctx, tx, f, r.ID); err != nil {
			return row{}, err
		}
		add("slug", *f.Slug)
	}
	if f.Status != nil && *f.Status != r.Status {
		add("status", *f.Status)
	}
	if f.Price != nil && *f.Price != r.Price {
		add("price", *f.Price)
	}
	if f.CompareAtPrice != nil && !eqStrPtr(*f.CompareAtPrice, r.CompareAtPrice) {
		add("compare_at_price", ptrOrNil(*f.CompareAtPrice))
	}
	if f.SKU != nil && !eqStrPtr(emptyPtrNil(f.SKU), r.SKU) {
		if *f.SKU != "" {
			if err := e.skuFree(ctx, tx, *f.SKU, r.ID); err != nil {
				return row{}, err
			}
			add("sku", *f.SKU)
			add("sku_key", inventory.SKUKey(*f.SKU))
		} else {
			add("sku", nil)
			add("sku_key", nil)
		}
	}
	if f.Barcode != nil && !eqStrPtr(emptyPtrNil(f.Barcode), r.Barcode) {
		add("barcode", emptyToNil(f.Barcode))
	}
	if f.TrackStock != nil && *f.TrackStock != r.TrackStock {
		add("track_stock", *f.TrackStock)
	}
	if f.LowStockThreshold != nil && !eqIntPtr(*f.LowStockThreshold, r.LowStockThreshold) {
		var v any
		if *f.LowStockThreshold != nil {
			v = **f.LowStockThreshold
		}
		add("low_stock_threshold", v)
	}
	if f.AllowBackorder != nil && *f.AllowBackorder != r.AllowBackorder {
		stock := r.Stock
		if f.Stock != nil {
			stock = *f.Stock
		}
		if !*f.AllowBackorder && stock < 0 {
			return row{}, inventory.Conflictf("product %s has stock %d: bring it to 0 or more (inv stock set %s 0) before turning backorder off", r.SKUOrID(), stock, r.SKUOrID())
		}
		add("allow_backorder", *f.AllowBackorder)
	}
	if f.Description != nil && *f.Description != r.Description {
		add("description", *f.Description)
	}
	if f.Attributes != nil {
		b, _ := json.Marshal(f.Attributes)
		add("attributes", string(b))
	}
	// Backorder on must land before a negative stock; backorder off after it.
	if len(set) > 0 {
		add("updated_at", e.nowMS())
		args = append(args, r.pk)
		if _, err := tx.ExecContext(ctx, `UPDATE products SET `+strings.Join(set, ", ")+` WHERE pk = ?`, args...); err != nil {
			return row{}, err
		}
		if f.Stock == nil || *f.Stock == r.Stock {
			// (a stock change below sends the one product.updated, after both)
			if err := e.emitProduct(ctx, tx, "product.updated", r.pk); err != nil {
				return row{}, err
			}
			// A raised threshold (or tracking turned on) can make the product
			// low without its stock moving: that is a crossing too.
			now := r.Product // stock is unchanged in this branch
			if f.TrackStock != nil {
				now.TrackStock = *f.TrackStock
			}
			if f.LowStockThreshold != nil {
				now.LowStockThreshold = *f.LowStockThreshold
			}
			if !r.IsLow() && now.IsLow() {
				if err := e.emitProduct(ctx, tx, "inventory.low_stock", r.pk); err != nil {
					return row{}, err
				}
			}
		}
	}
	if f.Stock != nil && *f.Stock != r.Stock {
		cur, err := e.find(ctx, tx, r.ID)
		if err != nil {
			return row{}, err
		}
		if _, err := e.applyOne(ctx, tx, cur, move{isSet: true, value: *f.Stock, reason: "product update", source: source}); err != nil {
			return row{}, err
		}
	}
	return e.find(ctx, tx, r.ID)
}

func emptyPtrNil(p *string) *string {
	if p == nil || *p == "" {
		return nil
	}
	return p
}

func ptrOrNil(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func eqStrPtr(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func eqIntPtr(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// DeleteProduct soft-deletes: status "deleted", hidden from lists, SKU and
// slug freed. The ledger keeps its rows.
func (e *Engine) DeleteProduct(ctx context.Context, ref string) error {
	return e.writeTx(ctx, func(tx *sql.Tx) error {
		r, err := e.find(ctx, tx, ref)
		if err != nil {
			return err
		}
		now := e.nowMS()
		if _, err = tx.ExecContext(ctx, `UPDATE products SET status = 'deleted', deleted_at = ?, updated_at = ? WHERE pk = ?`, now, now, r.pk); err != nil {
			return err
		}
		return e.emitProduct(ctx, tx, "product.deleted", r.pk)
	})
}
