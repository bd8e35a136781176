package engine

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/inv-cli/inv/internal/inventory"
)

// applyOne runs one move through the mutation path inside tx.
func (e *Engine) applyOne(ctx context.Context, tx querier, r row, m move) (inventory.StockResult, error) {
	if err := resetMoves(ctx, tx); err != nil {
		return inventory.StockResult{}, err
	}
	m.productPK = r.pk
	if err := insertMove(ctx, tx, m); err != nil {
		return inventory.StockResult{}, err
	}
	if _, err := e.resolveMoves(ctx, tx); err != nil {
		return inventory.StockResult{}, err
	}
	rm, err := firstMove(ctx, tx)
	if err != nil {
		return inventory.StockResult{}, err
	}
	res := inventory.StockResult{Before: rm.before, Delta: rm.after - rm.before}
	switch rm.status {
	case "short":
		want := m.value
		if !m.isSet {
			want = rm.before + m.value
		}
		who := r.SKUOrID()
		if m.isSet {
			return res, inventory.Insufficientf("%s: cannot set stock to %d: the product does not allow backorder, so stock cannot go below 0 (allow it with: inv product update %s --allow-backorder)",
				who, want, who)
		}
		return res, inventory.Insufficientf("%s: cannot take %d from stock of %d (it would be %d) and the product does not allow backorder; use --clamp to stop at 0, or inv stock set %s N after a count",
			who, -m.value, rm.before, want, who)
	case "unknown":
		return res, inventory.NotFoundf("product %s was deleted", r.SKUOrID())
	case "apply":
		res.Changed = true
		res.Clamped = m.clamp && !m.isSet && rm.before+m.value < 0
		if err := e.writeMoves(ctx, tx, m.reason, m.source, m.ref); err != nil {
			return res, err
		}
	}
	return res, nil
}

// ChangeStock sets or adjusts one product's stock: compare-and-set with
// Expect, Clamp at zero, and replay-safe with an idempotency key.
func (e *Engine) ChangeStock(ctx context.Context, c inventory.StockChange) (inventory.StockResult, error) {
	if c.IsSet && (c.Set > inventory.MaxQuantity || c.Set < -inventory.MaxQuantity) {
		return inventory.StockResult{}, inventory.Invalidf("stock %d is out of range", c.Set)
	}
	if !c.IsSet && (c.Delta > inventory.MaxQuantity || c.Delta < -inventory.MaxQuantity) {
		return inventory.StockResult{}, inventory.Invalidf("delta %d is out of range", c.Delta)
	}
	if c.Reason == "" {
		if c.IsSet {
			c.Reason = "set"
		} else {
			c.Reason = "adjust"
		}
	}
	if c.Source == "" {
		c.Source = "cli"
	}
	var res inventory.StockResult
	err := e.writeTx(ctx, func(tx *sql.Tx) error {
		r, err := e.find(ctx, tx, c.Ref)
		if err != nil {
			return err
		}
		var reqHash string
		if c.IdempotencyKey != "" {
			reqHash = requestHash(r.ID, c)
			prev, found, err := e.idempotent(ctx, tx, c.IdempotencyKey, reqHash)
			if err != nil {
				return err
			}
			if found {
				if err := json.Unmarshal(prev, &res); err != nil {
					return err
				}
				res.Replayed = true
				return nil
			}
		}
		if c.Expect != nil && *c.Expect != r.Stock {
			return inventory.Conflictf("%s: stock is %d, not %d as --expect said; nothing was changed (someone else changed it: look at inv stock history %s)",
				r.SKUOrID(), r.Stock, *c.Expect, r.SKUOrID())
		}
		m := move{isSet: c.IsSet, value: c.Delta, clamp: c.Clamp, reason: c.Reason, source: c.Source}
		if c.IsSet {
			m.value = c.Set
		}
		res, err = e.applyOne(ctx, tx, r, m)
		if err != nil {
			return err
		}
		after, err := e.find(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		res.Product = after.Product
		if c.IdempotencyKey != "" {
			b, _ := json.Marshal(res)
			if _, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (store_id, key, request_hash, response, created_at) VALUES (?,?,?,?,?)`,
				e.store, c.IdempotencyKey, reqHash, string(b), e.nowMS()); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}

// IdempotencyTTL is how long a key is remembered.
const IdempotencyTTL = 24 * time.Hour

func (e *Engine) idempotent(ctx context.Context, tx *sql.Tx, key, hash string) ([]byte, bool, error) {
	cutoff := e.now().Add(-IdempotencyTTL).UnixMilli()
	if _, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE store_id = ? AND created_at < ?`, e.store, cutoff); err != nil {
		return nil, false, err
	}
	var prevHash, resp string
	err := tx.QueryRowContext(ctx, `SELECT request_hash, response FROM idempotency_keys WHERE store_id = ? AND key = ?`, e.store, key).Scan(&prevHash, &resp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if prevHash != hash {
		return nil, false, inventory.Conflictf("idempotency key %q was already used for a different change; use a new key for a new change", key)
	}
	return []byte(resp), true, nil
}

func requestHash(productID string, c inventory.StockChange) string {
	exp := "-"
	if c.Expect != nil {
		exp = fmt.Sprint(*c.Expect)
	}
	s := fmt.Sprintf("%s|%t|%d|%d|%s|%t|%s", productID, c.IsSet, c.Set, c.Delta, exp, c.Clamp, c.Reason)
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// History returns the last limit movements of a product, oldest first.
func (e *Engine) History(ctx context.Context, ref string, limit int) ([]inventory.Movement, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []inventory.Movement
	err := e.readTx(ctx, func(tx *sql.Tx) error {
		r, err := e.find(ctx, tx, ref)
		if errors.Is(err, inventory.ErrNotFound) {
			// A deleted product keeps its ledger: show it by id or SKU.
			var pk int64
			var id string
			if derr := tx.QueryRowContext(ctx, `SELECT pk, id FROM products WHERE store_id = ? AND deleted_at IS NOT NULL
				AND (id = ? OR sku_key = ?) ORDER BY deleted_at DESC LIMIT 1`, e.store, strings.TrimSpace(ref), inventory.SKUKey(ref)).Scan(&pk, &id); derr == nil {
				r, err = row{pk: pk, Product: inventory.Product{ID: id}}, nil
			}
		}
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, sku, delta, stock_after, reason, source, actor, ref, created_at FROM (
			SELECT * FROM movements WHERE product_pk = ? ORDER BY id DESC LIMIT ?) ORDER BY id`, r.pk, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m inventory.Movement
			var sku, ref sql.NullString
			var at int64
			if err := rows.Scan(&m.ID, &sku, &m.Delta, &m.StockAfter, &m.Reason, &m.Source, &m.Actor, &ref, &at); err != nil {
				return err
			}
			m.ProductID = r.ID
			m.SKU = sku.String
			m.Ref = ref.String
			m.CreatedAt = inventory.Time{Time: time.UnixMilli(at).UTC()}
			out = append(out, m)
		}
		return rows.Err()
	})
	return out, err
}
