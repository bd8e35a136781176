package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/inv-cli/inv/internal/inventory"
)

const catalogueDDL = `
CREATE TEMP TABLE IF NOT EXISTS seen (sku_key TEXT PRIMARY KEY, row INTEGER NOT NULL) WITHOUT ROWID;
CREATE TEMP TABLE IF NOT EXISTS changes (
    row INTEGER, sku TEXT, title TEXT, action TEXT, before INTEGER, after INTEGER
);
DELETE FROM temp.seen; DELETE FROM temp.changes;`

// ImportProducts upserts products from a catalogue file, matched by SKU.
// Product fields are written row by row; every stock level the file sets is
// queued in temp.moves and goes through the one mutation path at the end, so
// it lands in the ledger like any other change. All or nothing unless
// Partial; a dry run rolls everything back after reporting.
func (e *Engine) ImportProducts(ctx context.Context, src inventory.CatalogueReader, o inventory.ImportOptions, sink inventory.ImportSink) (inventory.ImportReport, error) {
	rep := inventory.ImportReport{File: o.Name, Mode: "catalogue", DryRun: o.DryRun}
	if o.Reason == "" {
		o.Reason = "import"
	}
	source := "import:" + o.Name
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return rep, translate(err)
	}
	defer conn.Close()
	defer conn.ExecContext(context.WithoutCancel(ctx), `DELETE FROM temp.moves; DELETE FROM temp.plan; DELETE FROM temp.problems; DELETE FROM temp.seen; DELETE FROM temp.changes`)
	if _, err := conn.ExecContext(ctx, movesDDL+problemsDDL+catalogueDDL+`DELETE FROM temp.moves;`); err != nil {
		return rep, translate(err)
	}
	// Row-by-row inserts land all over the products indexes (ids are
	// random); with SQLite's default 2 MB page cache a large import spills
	// and re-reads pages constantly. A bounded 64 MB cache for this
	// connection, for the length of the import, keeps memory flat.
	if _, err := conn.ExecContext(ctx, `PRAGMA main.cache_size = -65536`); err != nil {
		return rep, translate(err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA main.cache_size = -2000`)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return rep, translate(err)
	}
	defer tx.Rollback()
	start := time.Now()
	q := newStmtCache(tx)
	defer q.Close()

	addProblem := func(p inventory.Problem) error {
		_, err := q.ExecContext(ctx, `INSERT INTO temp.problems (row, col, value, reason) VALUES (?,?,?,?)`, p.Row, p.Column, p.Value, p.Reason)
		return err
	}
	for n := 0; ; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return rep, ctx.Err()
		}
		rec, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return rep, err
		}
		rep.Rows++
		if len(rec.Problems) > 0 {
			for _, p := range rec.Problems {
				if err := addProblem(p); err != nil {
					return rep, translate(err)
				}
			}
			continue
		}
		key := inventory.SKUKey(rec.SKU)
		res, err := q.ExecContext(ctx, `INSERT OR IGNORE INTO temp.seen (sku_key, row) VALUES (?, ?)`, key, rec.Row)
		if err != nil {
			return rep, translate(err)
		}
		if k, _ := res.RowsAffected(); k == 0 {
			var first int
			_ = tx.QueryRowContext(ctx, `SELECT row FROM temp.seen WHERE sku_key = ?`, key).Scan(&first)
			if err := addProblem(inventory.Problem{Row: rec.Row, Column: "sku", Value: rec.SKU,
				Reason: fmt.Sprintf("SKU appears again (first on row %d); each product must be on one row", first)}); err != nil {
				return rep, translate(err)
			}
			continue
		}
		if err := e.upsertRow(ctx, q, rec, &rep, addProblem); err != nil {
			return rep, translate(err)
		}
	}
	rep.SkippedNoSKU = src.SkippedNoSKU()
	rep.Rows += rep.SkippedNoSKU

	// Stock levels: one pass through the mutation path.
	counts, err := e.resolveMoves(ctx, tx)
	if err != nil {
		return rep, translate(err)
	}
	if counts.short > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO temp.problems (row, col, value, reason)
			SELECT m.row, 'stock', CAST(m.value AS TEXT), 'stock below zero needs backorder allowed on the product'
			FROM temp.plan p JOIN temp.moves m USING (seq) WHERE p.status = 'short'`); err != nil {
			return rep, translate(err)
		}
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT row) FROM temp.problems`).Scan(&rep.Problems, &rep.Rejected); err != nil {
		return rep, translate(err)
	}
	if err := e.reportProblems(ctx, tx, sink); err != nil {
		return rep, err
	}
	if err := e.reportCatalogueChanges(ctx, tx, sink); err != nil {
		return rep, err
	}
	e.logf("catalogue import: %d rows checked in %v", rep.Rows, time.Since(start).Round(time.Millisecond))
	if o.DryRun || (rep.Problems > 0 && !o.Partial) {
		if rep.Problems > 0 {
			if !o.DryRun {
				rep.Changed, rep.Created = 0, 0
			}
			return rep, inventory.Invalidf("%s: %d problem(s) on %d row(s); nothing was changed (fix the file, or use --partial to import the good rows)",
				o.Name, rep.Problems, rep.Rejected)
		}
		return rep, nil // dry run: rolled back by the deferred Rollback
	}
	if err := e.writeMoves(ctx, tx, o.Reason, source, ""); err != nil {
		return rep, translate(err)
	}
	if err := tx.Commit(); err != nil {
		return rep, translate(err)
	}
	rep.Applied = true
	if rep.Problems > 0 {
		return rep, inventory.Partialf("%s: %d row(s) rejected, the other rows imported", o.Name, rep.Rejected)
	}
	return rep, nil
}

// upsertRow creates or updates the product of one row. A domain error is a
// problem of that row; anything else stops the import.
func (e *Engine) upsertRow(ctx context.Context, tx querier, rec inventory.CatalogueRecord, rep *inventory.ImportReport, addProblem func(inventory.Problem) error) error {
	f := rec.Fields
	stock := f.Stock
	f.Stock = nil // stock goes through temp.moves
	rowProblem := func(err error) error {
		var de *inventory.Error
		if errors.As(err, &de) {
			return addProblem(inventory.Problem{Row: rec.Row, Column: "", Value: "", Reason: de.Msg})
		}
		return err
	}
	r, err := e.findSKU(ctx, tx, rec.SKU)
	switch {
	case errors.Is(err, inventory.ErrNotFound):
		if f.TrackStock == nil && stock != nil {
			t := true
			f.TrackStock = &t
		}
		created, err := e.create(ctx, tx, f, "import", false)
		if err != nil {
			return rowProblem(err)
		}
		rep.Created++
		rep.Changed++
		after := int64(0)
		if stock != nil {
			after = *stock
			if err := insertMove(ctx, tx, move{productPK: created.pk, row: rec.Row, isSet: true, value: *stock}); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO temp.changes VALUES (?,?,?,?,?,?)`, rec.Row, created.SKUOrID(), created.Title, "created", 0, after)
		return err
	case err != nil:
		return err
	}
	changed := fieldsDiffer(r.Product, f)
	stockChanges := stock != nil && *stock != r.Stock
	if !changed && !stockChanges {
		rep.Unchanged++
		return nil
	}
	if changed {
		if _, err := e.updateTx(ctx, tx, r, f, "import"); err != nil {
			return rowProblem(err)
		}
	}
	after := r.Stock
	if stockChanges {
		after = *stock
		if err := insertMove(ctx, tx, move{productPK: r.pk, row: rec.Row, isSet: true, value: *stock}); err != nil {
			return err
		}
	}
	rep.Changed++
	_, err = tx.ExecContext(ctx, `INSERT INTO temp.changes VALUES (?,?,?,?,?,?)`, rec.Row, r.SKUOrID(), r.Title, "updated", r.Stock, after)
	return err
}

// fieldsDiffer reports whether writing f would change p (stock aside).
func fieldsDiffer(p inventory.Product, f inventory.ProductFields) bool {
	if err := checkFields(&f); err != nil {
		return true // let the update report it
	}
	switch {
	case f.Title != nil && *f.Title != p.Title,
		f.Slug != nil && *f.Slug != p.Slug,
		f.Status != nil && *f.Status != p.Status,
		f.Price != nil && *f.Price != p.Price,
		f.CompareAtPrice != nil && !eqStrPtr(*f.CompareAtPrice, p.CompareAtPrice),
		f.SKU != nil && !eqStrPtr(emptyPtrNil(f.SKU), p.SKU),
		f.Barcode != nil && !eqStrPtr(emptyPtrNil(f.Barcode), p.Barcode),
		f.TrackStock != nil && *f.TrackStock != p.TrackStock,
		f.LowStockThreshold != nil && !eqIntPtr(*f.LowStockThreshold, p.LowStockThreshold),
		f.AllowBackorder != nil && *f.AllowBackorder != p.AllowBackorder,
		f.Description != nil && *f.Description != p.Description:
		return true
	}
	for k, v := range f.Attributes {
		if p.Attributes[k] != v {
			return true
		}
	}
	return false
}

func (e *Engine) reportCatalogueChanges(ctx context.Context, q querier, sink inventory.ImportSink) error {
	if sink.Change == nil {
		return nil
	}
	rows, err := q.QueryContext(ctx, `SELECT row, sku, title, action, before, after FROM temp.changes ORDER BY rowid`)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var c inventory.ImportChange
		if err := rows.Scan(&c.Row, &c.SKU, &c.Title, &c.Action, &c.Before, &c.After); err != nil {
			return err
		}
		c.Delta = c.After - c.Before
		if err := sink.Change(c); err != nil {
			return err
		}
	}
	return rows.Err()
}
