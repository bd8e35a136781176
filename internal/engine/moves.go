package engine

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// Every stock change in the engine -- a set or adjust from the command line,
// each row of an import, each line of an order -- is written as a row of the
// connection's temp.moves table and then goes through resolveMoves and
// writeMoves. That is the one mutation path: the backorder rule, the
// "unchanged is not a change" rule, the ledger row and the product row are
// decided here and nowhere else.

const movesDDL = `
CREATE TEMP TABLE IF NOT EXISTS moves (
    seq        INTEGER PRIMARY KEY,
    row        INTEGER,          -- file row, for reports
    sku_in     TEXT,             -- the SKU as written in the input
    sku_key    TEXT,             -- resolve by SKU when product_pk is NULL
    product_pk INTEGER,
    is_set     INTEGER NOT NULL, -- 1: value is the new stock; 0: value is a delta
    value      INTEGER NOT NULL,
    clamp      INTEGER NOT NULL DEFAULT 0,
    event      TEXT              -- the product event of the change; NULL: product.updated
);
-- What resolveMoves decided for each move (seq = moves.seq).
CREATE TEMP TABLE IF NOT EXISTS plan (
    seq        INTEGER PRIMARY KEY,
    product_pk INTEGER,
    sku        TEXT,
    before     INTEGER,
    after      INTEGER,
    status     TEXT NOT NULL, -- 'apply', 'same', 'short', 'unknown'
    thr        INTEGER,       -- the product's low-stock threshold and tracking,
    tracked    INTEGER        -- for the alerts, without another products lookup
);
`

// move is one requested change, as inserted into temp.moves.
type move struct {
	productPK int64
	skuKey    string
	row       int
	isSet     bool
	value     int64
	clamp     bool
	reason    string
	source    string
	ref       string
	event     string // "" = product.updated; a new product's first stock: product.created
}

// resetMoves makes sure temp.moves exists on this connection and is empty.
func resetMoves(ctx context.Context, q querier) error {
	if _, err := q.ExecContext(ctx, movesDDL); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `DELETE FROM temp.moves; DELETE FROM temp.plan`)
	return err
}

// raw is the stock a move asks for, before the backorder rule.
const raw = `(CASE WHEN m.is_set = 1 THEN m.value ELSE p.stock + m.value END)`

// below is true when the move takes a product that does not allow backorder below zero.
const below = `(` + raw + ` < 0 AND p.allow_backorder = 0)`

// planCols computes, for a move m joined to its product p (NULL when there
// is none), the plan row: the backorder rule, clamping and "unchanged".
var planCols = strings.NewReplacer("RAW", raw, "BELOW", below).Replace(`
    m.seq, p.pk, p.sku, p.stock, p.low_stock_threshold, p.track_stock,
    CASE WHEN p.pk IS NULL THEN NULL WHEN BELOW AND m.clamp = 1 THEN 0 ELSE RAW END,
    CASE WHEN p.pk IS NULL THEN 'unknown'
         WHEN BELOW AND m.clamp = 0 THEN 'short'
         WHEN (CASE WHEN BELOW THEN 0 ELSE RAW END) = p.stock THEN 'same'
         ELSE 'apply' END`)

type moveCounts struct {
	apply, same, short, unknown int
}

// resolveMoves finds each move's product and decides, under the write lock,
// what it will do: apply, same (no change), short (would go below zero
// without backorder) or unknown (no such product). The decisions go to
// temp.plan, written in one sequential pass.
func (e *Engine) resolveMoves(ctx context.Context, q querier) (moveCounts, error) {
	var c moveCounts
	stmts := []struct {
		sql  string
		args []any
	}{
		{`DELETE FROM temp.plan`, nil},
		{`INSERT INTO temp.plan (seq, product_pk, sku, before, thr, tracked, after, status) SELECT` + planCols + `
		  FROM temp.moves m LEFT JOIN main.products p ON p.pk = m.product_pk AND p.deleted_at IS NULL
		  WHERE m.product_pk IS NOT NULL`, nil},
		{`INSERT INTO temp.plan (seq, product_pk, sku, before, thr, tracked, after, status) SELECT` + planCols + `
		  FROM temp.moves m LEFT JOIN main.products p ON p.store_id = ? AND p.sku_key = m.sku_key AND p.deleted_at IS NULL
		  WHERE m.product_pk IS NULL ORDER BY m.seq`, []any{e.store}},
	}
	for i, s := range stmts {
		t0 := time.Now()
		if _, err := q.ExecContext(ctx, s.sql, s.args...); err != nil {
			return c, err
		}
		e.logf("resolve step %d: %v", i, time.Since(t0))
	}
	err := q.QueryRowContext(ctx, `SELECT
		coalesce(sum(status = 'apply'), 0), coalesce(sum(status = 'same'), 0),
		coalesce(sum(status = 'short'), 0), coalesce(sum(status = 'unknown'), 0) FROM temp.plan`).
		Scan(&c.apply, &c.same, &c.short, &c.unknown)
	return c, err
}

// writeMoves applies every resolved 'apply' move: one ledger row each, in
// input order, the product's new stock, and the events of the change. The CHECK constraint on products
// backs up the backorder rule should anything ever get past resolveMoves.
func (e *Engine) writeMoves(ctx context.Context, q querier, reason, source, ref string) error {
	now := e.nowMS()
	var refArg any
	if ref != "" {
		refArg = ref
	}
	t0 := time.Now()
	defer func() { e.logf("writeMoves: %v", time.Since(t0)) }()
	if _, err := q.ExecContext(ctx, `INSERT INTO main.movements
		(store_id, product_pk, sku, delta, stock_after, reason, source, actor, ref, created_at)
		SELECT ?, product_pk, sku, after - before, after, ?, ?, ?, ?, ?
		FROM temp.plan WHERE status = 'apply' ORDER BY seq`,
		e.store, reason, source, e.actor, refArg, now); err != nil {
		return err
	}
	e.logf("ledger insert: %v", time.Since(t0))
	if _, err := q.ExecContext(ctx, `UPDATE main.products SET stock = m.after, updated_at = ?
		FROM temp.plan m WHERE m.status = 'apply' AND products.pk = m.product_pk`, now); err != nil {
		return err
	}
	return e.emitMoves(ctx, q)
}

// insertMove adds one move to temp.moves.
func insertMove(ctx context.Context, q querier, m move) error {
	var pk, key any
	if m.productPK != 0 {
		pk = m.productPK
	} else {
		key = m.skuKey
	}
	var event any
	if m.event != "" {
		event = m.event
	}
	_, err := q.ExecContext(ctx, `INSERT INTO temp.moves (row, sku_key, product_pk, is_set, value, clamp, event) VALUES (?,?,?,?,?,?,?)`,
		m.row, key, pk, m.isSet, m.value, m.clamp, event)
	return err
}

// resolvedMove is a move after resolveMoves.
type resolvedMove struct {
	before, after int64
	status        string
}

func firstMove(ctx context.Context, q querier) (resolvedMove, error) {
	var r resolvedMove
	var b, a sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT before, after, status FROM temp.plan ORDER BY seq LIMIT 1`).Scan(&b, &a, &r.status)
	r.before, r.after = b.Int64, a.Int64
	return r, err
}
