package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/inv-cli/inv/internal/inventory"
)

const problemsDDL = `
CREATE TEMP TABLE IF NOT EXISTS problems (
    row    INTEGER NOT NULL,
    col    TEXT    NOT NULL,
    value  TEXT    NOT NULL,
    reason TEXT    NOT NULL
);
-- Rows refused for their quantity still name a SKU: a duplicate of it is a problem too.
CREATE TEMP TABLE IF NOT EXISTS badrows (row INTEGER NOT NULL, sku_in TEXT NOT NULL, sku_key TEXT NOT NULL);
DELETE FROM temp.problems; DELETE FROM temp.badrows;`

// stager inserts rows into a temp table in multi-row statements (up to 999
// values each): fewer statements is most of the speed of staging a million rows.
type stager struct {
	ctx   context.Context
	tx    *sql.Tx
	head  string // INSERT INTO t (a, b) VALUES
	cols  int
	batch int
	full  *sql.Stmt
	args  []any
	n     int
}

func newStager(ctx context.Context, tx *sql.Tx, table string, cols ...string) (*stager, error) {
	s := &stager{ctx: ctx, tx: tx, cols: len(cols), batch: 999 / len(cols),
		head: "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES "}
	st, err := tx.PrepareContext(ctx, s.sql(s.batch))
	if err != nil {
		return nil, err
	}
	s.full, s.args = st, make([]any, 0, s.batch*s.cols)
	return s, nil
}

func (s *stager) sql(n int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", s.cols), ",") + ")"
	return s.head + strings.TrimSuffix(strings.Repeat(one+",", n), ",")
}

func (s *stager) add(vals ...any) error {
	s.args = append(s.args, vals...)
	s.n++
	if s.n == s.batch {
		if _, err := s.full.ExecContext(s.ctx, s.args...); err != nil {
			return err
		}
		s.args, s.n = s.args[:0], 0
	}
	return nil
}

func (s *stager) flush() error {
	defer s.full.Close()
	if s.n == 0 {
		return nil
	}
	_, err := s.tx.ExecContext(s.ctx, s.sql(s.n), s.args...)
	s.args, s.n = s.args[:0], 0
	return err
}

// ImportStock applies a stock file: every row is checked, then all of it is
// applied in one transaction, or (default) none of it when any row is wrong.
//
// The file is streamed into a temporary table on this connection without
// holding the database's write lock; checking and applying are set-based SQL
// under one BEGIN IMMEDIATE, so other processes wait only for the apply.
func (e *Engine) ImportStock(ctx context.Context, src inventory.StockReader, o inventory.ImportOptions, sink inventory.ImportSink) (inventory.ImportReport, error) {
	rep := inventory.ImportReport{File: o.Name, Mode: o.Mode, DryRun: o.DryRun}
	if o.Mode == "" {
		o.Mode = inventory.ModeSet
		rep.Mode = o.Mode
	}
	if o.Mode != inventory.ModeSet && o.Mode != inventory.ModeAdjust {
		return rep, inventory.Invalidf("--mode %q must be set or adjust", o.Mode)
	}
	switch o.OnDuplicate {
	case "":
		o.OnDuplicate = inventory.OnDuplicateError
	case inventory.OnDuplicateError, inventory.OnDuplicateSum, inventory.OnDuplicateLast:
	default:
		return rep, inventory.Invalidf("--on-duplicate %q must be error, sum or last", o.OnDuplicate)
	}
	if o.Reason == "" {
		o.Reason = "import"
	}
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return rep, translate(err)
	}
	defer conn.Close()
	// Leave nothing behind on the pooled connection.
	defer conn.ExecContext(context.WithoutCancel(ctx), `DELETE FROM temp.moves; DELETE FROM temp.plan; DELETE FROM temp.problems`)

	start := time.Now()
	if err := e.stage(ctx, conn, src, o, &rep); err != nil {
		return rep, translate(err)
	}
	e.logf("import: staged %d rows in %v", rep.Rows, time.Since(start).Round(time.Millisecond))

	tx, err := conn.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock from here on
	if err != nil {
		return rep, translate(err)
	}
	defer tx.Rollback()
	e.logf("import: applying")
	applyStart := time.Now()

	hash := src.Hash()
	if o.Mode == inventory.ModeAdjust && !o.Force { // a dry run says so too: it is the pre-check
		var name string
		var at int64
		err := tx.QueryRowContext(ctx, `SELECT name, created_at FROM imports WHERE store_id = ? AND hash = ? AND mode = 'adjust' ORDER BY created_at DESC LIMIT 1`,
			e.store, hash).Scan(&name, &at)
		if err == nil {
			return rep, inventory.Conflictf("this delta file (same content as %s) was already imported on %s; importing it again would apply every delta twice. Use --force if that is what you want",
				name, time.UnixMilli(at).UTC().Format(time.RFC3339))
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return rep, translate(err)
		}
	}

	counts, err := e.resolveMoves(ctx, tx)
	if err != nil {
		return rep, translate(err)
	}
	if counts.unknown > 0 {
		if o.SkipUnknown {
			rep.SkippedUnknown = counts.unknown
		} else if _, err := tx.ExecContext(ctx, `INSERT INTO temp.problems (row, col, value, reason)
			SELECT m.row, ?, m.sku_in, 'no product with this SKU in store ' || ? || ' (create it first, or use --skip-unknown)'
			FROM temp.plan p JOIN temp.moves m USING (seq) WHERE p.status = 'unknown'`, src.SKUColumn(), fmt.Sprintf("%q", e.store)); err != nil {
			return rep, translate(err)
		}
	}
	if counts.short > 0 {
		what := `'would take stock from ' || p.before || ' to ' || (CASE WHEN m.is_set = 1 THEN m.value ELSE p.before + m.value END)`
		if _, err := tx.ExecContext(ctx, `INSERT INTO temp.problems (row, col, value, reason)
			SELECT m.row, ?, CAST(m.value AS TEXT), `+what+` || ' below zero; the product does not allow backorder'
			FROM temp.plan p JOIN temp.moves m USING (seq) WHERE p.status = 'short'`, src.QtyColumn()); err != nil {
			return rep, translate(err)
		}
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT row) FROM temp.problems`).Scan(&rep.Problems, &rep.Rejected); err != nil {
		return rep, translate(err)
	}
	rep.Changed, rep.Unchanged = counts.apply, counts.same
	e.logf("import: %d to change, %d unchanged, %d problems (resolved in %v)", counts.apply, counts.same, rep.Problems, time.Since(applyStart).Round(time.Millisecond))

	if err := e.reportProblems(ctx, tx, sink); err != nil {
		return rep, err
	}
	apply := !o.DryRun && (rep.Problems == 0 || o.Partial)
	if !apply {
		if !o.DryRun {
			rep.Changed = 0
		}
		if o.DryRun {
			if err := e.reportChanges(ctx, tx, sink); err != nil {
				return rep, err
			}
		}
		if rep.Problems > 0 {
			return rep, inventory.Invalidf("%s: %d problem(s) on %d row(s); nothing was changed (fix the file, or use --partial to apply the good rows)",
				o.Name, rep.Problems, rep.Rejected)
		}
		return rep, nil
	}
	source := "import:" + o.Name
	if err := e.writeMoves(ctx, tx, o.Reason, source, ""); err != nil {
		return rep, translate(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO imports (store_id, hash, mode, name, rows, changed, actor, created_at) VALUES (?,?,?,?,?,?,?,?)`,
		e.store, hash, o.Mode, o.Name, rep.Rows, rep.Changed, e.actor, e.nowMS()); err != nil {
		return rep, translate(err)
	}
	if err := tx.Commit(); err != nil {
		return rep, translate(err)
	}
	rep.Applied = true
	e.logf("import: committed in %v", time.Since(applyStart).Round(time.Millisecond))
	// The import is committed: list all of it even if Ctrl-C arrives now,
	// rather than end with "interrupted" over a change that was made.
	// (temp tables outlive the transaction on this connection.)
	if err := e.reportChanges(context.WithoutCancel(ctx), conn, sink); err != nil {
		return rep, fmt.Errorf("%s was applied (%d changes), but listing them failed: %w", o.Name, rep.Changed, err)
	}
	if rep.Problems > 0 {
		if rep.Changed+rep.Unchanged == 0 {
			return rep, inventory.Invalidf("%s: every row was rejected (%d problem(s)); nothing was changed", o.Name, rep.Problems)
		}
		if o.Mode == inventory.ModeAdjust {
			return rep, inventory.Partialf("%s: %d row(s) rejected, %d change(s) applied; the good rows' deltas are applied now: fix and import only the rejected rows, not the whole file again", o.Name, rep.Rejected, rep.Changed)
		}
		return rep, inventory.Partialf("%s: %d row(s) rejected, %d change(s) applied", o.Name, rep.Rejected, rep.Changed)
	}
	return rep, nil
}

// stage streams the file into temp.moves and the problems found by reading
// it into temp.problems. It holds no lock on the database file.
func (e *Engine) stage(ctx context.Context, conn *sql.Conn, src inventory.StockReader, o inventory.ImportOptions, rep *inventory.ImportReport) error {
	if _, err := conn.ExecContext(ctx, movesDDL+problemsDDL+`DELETE FROM temp.moves;`); err != nil {
		return err
	}
	// A deferred transaction that writes only temp tables takes no lock on the main database.
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := newStager(ctx, tx, "temp.moves", "row", "sku_in", "sku_key", "is_set", "value")
	if err != nil {
		return err
	}
	problem, err := tx.PrepareContext(ctx, `INSERT INTO temp.problems (row, col, value, reason) VALUES (?,?,?,?)`)
	if err != nil {
		return err
	}
	defer problem.Close()
	badRow, err := tx.PrepareContext(ctx, `INSERT INTO temp.badrows (row, sku_in, sku_key) VALUES (?,?,?)`)
	if err != nil {
		return err
	}
	defer badRow.Close()
	isSet := o.Mode == inventory.ModeSet
	blankOK := src.BlankMeansNoChange()
	dups := newDupFilter()
	// refuseQty records a row whose quantity is refused; its SKU still takes
	// part in the duplicate check, so one run lists every problem.
	refuseQty := func(rec inventory.StockRecord, reason string) error {
		if _, err := problem.ExecContext(ctx, rec.Row, src.QtyColumn(), rec.Qty, reason); err != nil {
			return err
		}
		key := inventory.SKUKey(rec.SKU)
		dups.add(key)
		_, err := badRow.ExecContext(ctx, rec.Row, rec.SKU, key)
		return err
	}
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		rec, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		rep.Rows++
		if rec.Problem != "" {
			if _, err := problem.ExecContext(ctx, rec.Row, "", "", rec.Problem); err != nil {
				return err
			}
			continue
		}
		if rec.SKU == "" {
			rep.SkippedNoSKU++
			continue
		}
		if blankOK && strings.TrimSpace(rec.Qty) == "" {
			rep.SkippedBlank++
			continue
		}
		if isSet && strings.HasPrefix(strings.TrimSpace(rec.Qty), "+") {
			// "+5" in a file of stock levels is most likely a delta file
			// imported in the wrong mode: setting stock to 5 would be wrong.
			if err := refuseQty(rec, "a + sign in a set-mode file looks like a delta: import the file with --mode adjust, or drop the sign"); err != nil {
				return err
			}
			continue
		}
		q, err := inventory.ParseQuantity(rec.Qty)
		if err != nil {
			var qe *inventory.QuantityError
			reason := err.Error()
			if errors.As(err, &qe) {
				reason = qe.Reason
			}
			if err := refuseQty(rec, reason); err != nil {
				return err
			}
			continue
		}
		key := inventory.SKUKey(rec.SKU)
		dups.add(key)
		if err := st.add(rec.Row, rec.SKU, key, isSet, q); err != nil {
			return err
		}
	}
	if err := st.flush(); err != nil {
		return err
	}
	e.logf("import: %d rows read and staged", rep.Rows)
	if err := e.duplicates(ctx, tx, src.SKUColumn(), o, dups.cand); err != nil {
		return err
	}
	return tx.Commit()
}

const dupDDL = `
CREATE TEMP TABLE IF NOT EXISTS cand (sku_key TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TEMP TABLE IF NOT EXISTS dups (
    sku_key TEXT PRIMARY KEY, first_seq INTEGER, last_seq INTEGER, first_row INTEGER,
    n INTEGER, total INTEGER, rows TEXT, bad INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
DELETE FROM temp.cand; DELETE FROM temp.dups;`

// loadCandidates (re)creates temp.cand and temp.dups and fills temp.cand
// with the keys a dupFilter flagged, for an exact check of those only.
func loadCandidates(ctx context.Context, tx *sql.Tx, cand map[string]struct{}) error {
	if _, err := tx.ExecContext(ctx, dupDDL); err != nil {
		return err
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO temp.cand (sku_key) VALUES (?)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	for k := range cand {
		if _, err := ins.ExecContext(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

// duplicates applies --on-duplicate to SKUs that appear on several rows.
// cand holds every key that may be duplicated (see dupFilter); only those
// are checked.
func (e *Engine) duplicates(ctx context.Context, tx *sql.Tx, skuCol string, o inventory.ImportOptions, cand map[string]struct{}) error {
	if len(cand) == 0 {
		return nil
	}
	if err := loadCandidates(ctx, tx, cand); err != nil {
		return err
	}
	// Every row naming the SKU: staged ones, and those refused for their quantity.
	const rows = `(SELECT sku_key, seq, row, value, sku_in, 0 AS bad FROM temp.moves
		UNION ALL SELECT sku_key, NULL, row, 0, sku_in, 1 FROM temp.badrows)`
	if _, err := tx.ExecContext(ctx, `INSERT INTO temp.dups
		SELECT m.sku_key, min(m.seq), max(m.seq), min(m.row), count(*), sum(m.value), substr(group_concat(m.row, ', ' ORDER BY m.row), 1, 60), sum(m.bad)
		FROM `+rows+` m JOIN temp.cand c ON c.sku_key = m.sku_key
		GROUP BY m.sku_key HAVING count(*) > 1`); err != nil {
		return err
	}
	// A SKU on several rows is a problem of each row, unless --on-duplicate
	// combines them; rows cannot be combined when one has a refused quantity.
	combine := o.OnDuplicate != inventory.OnDuplicateError
	for _, s := range []string{
		`INSERT INTO temp.problems (row, col, value, reason)
		 SELECT m.row, '` + strings.ReplaceAll(skuCol, "'", "''") + `', m.sku_in,
		        'the same SKU is on ' || d.n || ' rows (' || d.rows || CASE WHEN d.n > 8 THEN ', …' ELSE '' END ||
		        CASE WHEN ?1 THEN '); one has a quantity that was refused, so they cannot be combined'
		             ELSE '); use --on-duplicate sum or last to combine them' END
		 FROM ` + rows + ` m JOIN temp.dups d ON d.sku_key = m.sku_key WHERE NOT ?1 OR d.bad > 0`,
		`DELETE FROM temp.moves WHERE sku_key IN (SELECT sku_key FROM temp.dups WHERE NOT ?1 OR bad > 0)`,
		`DELETE FROM temp.dups WHERE NOT ?1 OR bad > 0`,
	} {
		if _, err := tx.ExecContext(ctx, s, combine); err != nil {
			return err
		}
	}
	// What is left in temp.dups is combined as --on-duplicate says.
	var stmts []string
	switch o.OnDuplicate {
	case inventory.OnDuplicateSum:
		stmts = []string{
			`UPDATE temp.moves SET value = d.total FROM temp.dups d WHERE moves.seq = d.first_seq`,
			`DELETE FROM temp.moves WHERE sku_key IN (SELECT sku_key FROM temp.dups) AND seq NOT IN (SELECT first_seq FROM temp.dups)`,
		}
	case inventory.OnDuplicateLast:
		stmts = []string{
			`DELETE FROM temp.moves WHERE sku_key IN (SELECT sku_key FROM temp.dups) AND seq NOT IN (SELECT last_seq FROM temp.dups)`,
		}
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) reportProblems(ctx context.Context, q querier, sink inventory.ImportSink) error {
	if sink.Problem == nil {
		return nil
	}
	rows, err := q.QueryContext(ctx, `SELECT row, col, value, reason FROM temp.problems ORDER BY row, rowid`)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var p inventory.Problem
		if err := rows.Scan(&p.Row, &p.Column, &p.Value, &p.Reason); err != nil {
			return err
		}
		if err := sink.Problem(p); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (e *Engine) reportChanges(ctx context.Context, q querier, sink inventory.ImportSink) error {
	if sink.Change == nil {
		return nil
	}
	rows, err := q.QueryContext(ctx, `SELECT m.row, coalesce(p.sku, m.sku_in), pr.title, p.before, p.after
		FROM temp.plan p JOIN temp.moves m USING (seq) JOIN main.products pr ON pr.pk = p.product_pk
		WHERE p.status = 'apply' ORDER BY p.seq`)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var c inventory.ImportChange
		if err := rows.Scan(&c.Row, &c.SKU, &c.Title, &c.Before, &c.After); err != nil {
			return err
		}
		c.Delta = c.After - c.Before
		if err := sink.Change(c); err != nil {
			return err
		}
	}
	return rows.Err()
}
