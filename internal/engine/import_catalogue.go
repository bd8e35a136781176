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

// A catalogue import works like a stock import: the file is streamed into
// temp.cat without the write lock, then checked and applied with set-based
// SQL under one BEGIN IMMEDIATE. Stock levels the file sets become moves and
// go through resolveMoves/writeMoves like every other stock change.
const catalogueDDL = `
CREATE TEMP TABLE IF NOT EXISTS cat (
    seq         INTEGER PRIMARY KEY,
    row         INTEGER NOT NULL,
    sku         TEXT    NOT NULL,
    sku_key     TEXT    NOT NULL,
    id          TEXT    NOT NULL, -- the id a new product gets
    slug_given  TEXT,             -- a slug column's value
    slug        TEXT,             -- a new product's slug (NULL: to be picked)
    slug_base   TEXT,
    title       TEXT,             -- NULL: the file does not set it
    status      TEXT,
    price       TEXT,
    compare_at  TEXT,
    barcode     TEXT,
    track       INTEGER,
    stock       INTEGER,
    threshold   INTEGER,
    backorder   INTEGER,
    description TEXT,
    pk          INTEGER,          -- the existing product
    cur_stock   INTEGER,
    cur_backorder INTEGER,
    action      TEXT,             -- create, update, same
    rejected    INTEGER NOT NULL DEFAULT 0
);
DELETE FROM temp.cat;`

var catCols = []string{"row", "sku", "sku_key", "id", "slug_given", "slug", "slug_base", "title", "status", "price",
	"compare_at", "barcode", "track", "stock", "threshold", "backorder", "description"}

func nullable[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// ImportProducts creates or updates products from a catalogue file, matched
// by SKU. All or nothing unless Partial; a dry run reports and rolls back.
func (e *Engine) ImportProducts(ctx context.Context, src inventory.CatalogueReader, o inventory.ImportOptions, sink inventory.ImportSink) (inventory.ImportReport, error) {
	rep := inventory.ImportReport{File: o.Name, Mode: "catalogue", DryRun: o.DryRun}
	if o.Reason == "" {
		o.Reason = "import"
	}
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return rep, translate(err)
	}
	defer conn.Close()
	defer conn.ExecContext(context.WithoutCancel(ctx), `DELETE FROM temp.moves; DELETE FROM temp.plan; DELETE FROM temp.problems; DELETE FROM temp.cat; DROP INDEX IF EXISTS temp.cat_slug`)
	if _, err := conn.ExecContext(ctx, movesDDL+problemsDDL+catalogueDDL+`DELETE FROM temp.moves;`); err != nil {
		return rep, translate(err)
	}
	start := time.Now()
	if err := e.stageCatalogue(ctx, conn, src, o, &rep); err != nil {
		return rep, translate(err)
	}
	e.logf("catalogue import: staged %d rows in %v", rep.Rows, time.Since(start).Round(time.Millisecond))

	tx, err := conn.BeginTx(ctx, nil) // the write lock from here on
	if err != nil {
		return rep, translate(err)
	}
	defer tx.Rollback()
	e.logf("catalogue import: applying")
	if err := e.classifyCatalogue(ctx, tx); err != nil {
		return rep, translate(err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT row) FROM temp.problems`).Scan(&rep.Problems, &rep.Rejected); err != nil {
		return rep, translate(err)
	}
	if err := e.reportProblems(ctx, tx, sink); err != nil {
		return rep, err
	}
	if rep.Problems > 0 && !o.Partial {
		// Nothing is written; still say what the good rows would have done in a dry run.
		if o.DryRun {
			if err := e.catalogueWrite(ctx, tx, o, &rep, sink); err != nil {
				return rep, err
			}
		}
		rep.Changed, rep.Created = 0, 0
		return rep, inventory.Invalidf("%s: %d problem(s) on %d row(s); nothing was changed (fix the file, or use --partial to import the good rows)",
			o.Name, rep.Problems, rep.Rejected)
	}
	if err := e.catalogueWrite(ctx, tx, o, &rep, sink); err != nil {
		return rep, err
	}
	if o.DryRun {
		return rep, nil // rolled back by the deferred Rollback
	}
	if err := tx.Commit(); err != nil {
		return rep, translate(err)
	}
	rep.Applied = true
	e.logf("catalogue import: committed in %v", time.Since(start).Round(time.Millisecond))
	if rep.Problems > 0 {
		if rep.Changed+rep.Unchanged == 0 {
			return rep, inventory.Invalidf("%s: every row was rejected (%d problem(s)); nothing was changed", o.Name, rep.Problems)
		}
		return rep, inventory.Partialf("%s: %d row(s) rejected, the other rows imported", o.Name, rep.Rejected)
	}
	return rep, nil
}

// stageCatalogue streams the file into temp.cat and the problems found while
// reading into temp.problems, holding no lock on the database.
func (e *Engine) stageCatalogue(ctx context.Context, conn *sql.Conn, src inventory.CatalogueReader, o inventory.ImportOptions, rep *inventory.ImportReport) error {
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}) // writes temp tables only
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := newStager(ctx, tx, "temp.cat", catCols...)
	if err != nil {
		return err
	}
	problem, err := tx.PrepareContext(ctx, `INSERT INTO temp.problems (row, col, value, reason) VALUES (?,?,?,?)`)
	if err != nil {
		return err
	}
	defer problem.Close()
	dups, slugs := newDupFilter(), newDupFilter()
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
		if len(rec.Problems) > 0 {
			for _, p := range rec.Problems {
				if _, err := problem.ExecContext(ctx, p.Row, p.Column, p.Value, p.Reason); err != nil {
					return err
				}
			}
			continue
		}
		f := rec.Fields
		if o.NoStock {
			f.Stock = nil
		}
		if err := checkFields(&f); err != nil {
			var de *inventory.Error
			if !errors.As(err, &de) {
				return err
			}
			if _, err := problem.ExecContext(ctx, rec.Row, "", "", de.Msg); err != nil {
				return err
			}
			continue
		}
		key := inventory.SKUKey(rec.SKU)
		dups.add(key)
		// A new product's slug: the title's, unless an earlier row may have
		// taken it (then it is picked under the lock, see pickCatalogueSlugs).
		var slug, base any
		if f.Slug == nil && f.Title != nil {
			b := inventory.Slugify(*f.Title)
			base = b
			if !slugs.add(b) {
				slug = b
			}
		}
		var comparePtr *string
		if f.CompareAtPrice != nil {
			comparePtr = *f.CompareAtPrice
		}
		var thrPtr *int64
		if f.LowStockThreshold != nil {
			thrPtr = *f.LowStockThreshold
		}
		if err := st.add(rec.Row, rec.SKU, key, newID("prod_"), nullable(f.Slug), slug, base,
			nullable(f.Title), nullable(f.Status), nullable(f.Price), nullable(comparePtr), nullable(emptyPtrNil(f.Barcode)),
			nullable(f.TrackStock), nullable(f.Stock), nullable(thrPtr), nullable(f.AllowBackorder), nullable(f.Description)); err != nil {
			return err
		}
	}
	if err := st.flush(); err != nil {
		return err
	}
	rep.SkippedNoSKU = src.SkippedNoSKU()
	rep.Rows += rep.SkippedNoSKU
	if err := catalogueDuplicates(ctx, tx, dups.cand); err != nil {
		return err
	}
	return tx.Commit()
}

// catalogueDuplicates refuses every row of a SKU that is on several rows:
// a product is described once.
func catalogueDuplicates(ctx context.Context, tx *sql.Tx, cand map[string]struct{}) error {
	if len(cand) == 0 {
		return nil
	}
	if err := loadCandidates(ctx, tx, cand); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO temp.dups SELECT c.sku_key, min(c.seq), max(c.seq), min(c.row), count(*), 0, substr(group_concat(c.row, ', ' ORDER BY c.row), 1, 60), 0
		FROM temp.cat c JOIN temp.cand USING (sku_key) GROUP BY c.sku_key HAVING count(*) > 1;
		INSERT INTO temp.problems (row, col, value, reason)
		SELECT c.row, 'sku', c.sku, 'the same SKU is on ' || d.n || ' rows (' || d.rows || CASE WHEN d.n > 8 THEN ', …' ELSE '' END || '); a product is described on one row'
		FROM temp.cat c JOIN temp.dups d USING (sku_key);
		DELETE FROM temp.cat WHERE sku_key IN (SELECT sku_key FROM temp.dups);`)
	return err
}

// differs is true when a staged row would change its existing product p.
const differs = `(c.title IS NOT NULL AND c.title IS NOT p.title) OR (c.status IS NOT NULL AND c.status IS NOT p.status)
	OR (c.price IS NOT NULL AND c.price IS NOT p.price) OR (c.compare_at IS NOT NULL AND c.compare_at IS NOT p.compare_at_price)
	OR (c.barcode IS NOT NULL AND c.barcode IS NOT p.barcode) OR (c.track IS NOT NULL AND c.track IS NOT p.track_stock)
	OR (c.threshold IS NOT NULL AND c.threshold IS NOT p.low_stock_threshold) OR (c.backorder IS NOT NULL AND c.backorder IS NOT p.allow_backorder)
	OR (c.description IS NOT NULL AND c.description IS NOT p.description) OR (c.slug_given IS NOT NULL AND c.slug_given IS NOT p.slug)
	OR c.sku IS NOT p.sku`

// classifyCatalogue matches rows to products, decides create/update/same,
// picks slugs and records every problem, under the write lock.
func (e *Engine) classifyCatalogue(ctx context.Context, tx *sql.Tx) error {
	stmts := []string{
		`UPDATE temp.cat AS c SET pk = p.pk, cur_stock = p.stock, cur_backorder = p.allow_backorder,
		        action = CASE WHEN ` + differs + ` THEN 'update' ELSE 'same' END
		 FROM main.products p WHERE p.store_id = ?1 AND p.sku_key = c.sku_key AND p.deleted_at IS NULL`,
		`UPDATE temp.cat SET action = 'create' WHERE pk IS NULL`,
		`INSERT INTO temp.problems (row, col, value, reason)
		 SELECT row, 'title', '', 'a new product needs a title' FROM temp.cat WHERE action = 'create' AND title IS NULL`,
		`INSERT INTO temp.problems (row, col, value, reason)
		 SELECT row, 'stock', stock, 'stock below zero needs backorder allowed on the product'
		 FROM temp.cat WHERE stock < 0 AND coalesce(backorder, cur_backorder, 0) = 0`,
		`INSERT INTO temp.problems (row, col, value, reason)
		 SELECT row, 'allow backorder', '0', 'backorder cannot be turned off while stock is ' || cur_stock || '; set stock to 0 or more in the same row'
		 FROM temp.cat WHERE backorder = 0 AND cur_backorder = 1 AND coalesce(stock, cur_stock) < 0`,
		`INSERT INTO temp.problems (row, col, value, reason)
		 SELECT c.row, 'slug', c.slug_given, 'slug is already used by another product'
		 FROM temp.cat c WHERE c.slug_given IS NOT NULL AND EXISTS (SELECT 1 FROM main.products p
		   WHERE p.store_id = ?1 AND p.slug = c.slug_given AND p.deleted_at IS NULL AND p.pk IS NOT c.pk)`,
		// A derived slug another product already has is picked again below.
		`UPDATE temp.cat AS c SET slug = NULL WHERE c.action = 'create' AND c.slug IS NOT NULL AND EXISTS
		   (SELECT 1 FROM main.products p WHERE p.store_id = ?1 AND p.slug = c.slug AND p.deleted_at IS NULL)`,
		`UPDATE temp.cat SET slug = slug_given WHERE action = 'create' AND slug_given IS NOT NULL`,
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s, e.store); err != nil {
			return err
		}
	}
	if err := e.pickCatalogueSlugs(ctx, tx); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE temp.cat SET rejected = 1 WHERE row IN (SELECT row FROM temp.problems)`)
	return err
}

// pickCatalogueSlugs gives the few new products whose title's slug is taken
// (by a product, or by an earlier row of the file) the next free "-N".
func (e *Engine) pickCatalogueSlugs(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT seq, slug_base FROM temp.cat WHERE action = 'create' AND slug IS NULL AND slug_base IS NOT NULL ORDER BY seq`)
	if err != nil {
		return err
	}
	type pick struct {
		seq  int64
		base string
	}
	var picks []pick
	for rows.Next() {
		var p pick
		if err := rows.Scan(&p.seq, &p.base); err != nil {
			rows.Close()
			return err
		}
		picks = append(picks, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(picks) == 0 {
		return nil
	}
	// An index for the lookups below, built only when there is something to pick.
	if _, err := tx.ExecContext(ctx, `CREATE INDEX IF NOT EXISTS temp.cat_slug ON cat (slug)`); err != nil {
		return err
	}
	taken := func(s string) (bool, error) {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM main.products WHERE store_id = ? AND slug = ? AND deleted_at IS NULL)
			+ (SELECT count(*) FROM temp.cat WHERE slug = ?)`, e.store, s, s).Scan(&n)
		return n > 0, err
	}
	for _, p := range picks {
		slug := ""
		for i := 1; i <= 50 && slug == ""; i++ {
			c := p.base
			if i > 1 {
				c = fmt.Sprintf("%s-%d", p.base, i)
			}
			t, err := taken(c)
			if err != nil {
				return err
			}
			if !t {
				slug = c
			}
		}
		if slug == "" {
			slug = strings.ToLower(p.base + "-" + newID("")[:8])
		}
		if _, err := tx.ExecContext(ctx, `UPDATE temp.cat SET slug = ? WHERE seq = ?`, slug, p.seq); err != nil {
			return err
		}
	}
	return nil
}

// catalogueWrite creates and updates the products of the rows not
// rejected, applies their stock through the mutation path, and reports.
func (e *Engine) catalogueWrite(ctx context.Context, tx *sql.Tx, o inventory.ImportOptions, rep *inventory.ImportReport, sink inventory.ImportSink) error {
	now := e.nowMS()
	stmts := []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO main.products (id, store_id, title, slug, status, price, compare_at_price, sku, sku_key, barcode,
		    track_stock, stock, low_stock_threshold, allow_backorder, description, attributes, created_at, updated_at)
		  SELECT id, ?, title, slug, coalesce(status, 'draft'), coalesce(price, '0.00'), compare_at, sku, sku_key, barcode,
		    coalesce(track, stock IS NOT NULL), 0, threshold, coalesce(backorder, 0), coalesce(description, ''), '{}', ?, ?
		  FROM temp.cat WHERE action = 'create' AND rejected = 0 ORDER BY seq`, []any{e.store, now, now}},
		// Backorder is turned on before stock may go negative, and off only after stock is set.
		{`UPDATE main.products SET title = coalesce(c.title, products.title), status = coalesce(c.status, products.status),
		    price = coalesce(c.price, products.price), compare_at_price = coalesce(c.compare_at, products.compare_at_price),
		    barcode = coalesce(c.barcode, products.barcode), track_stock = coalesce(c.track, products.track_stock),
		    low_stock_threshold = coalesce(c.threshold, products.low_stock_threshold),
		    allow_backorder = CASE WHEN c.backorder = 1 THEN 1 ELSE products.allow_backorder END,
		    description = coalesce(c.description, products.description), slug = coalesce(c.slug_given, products.slug),
		    sku = c.sku, updated_at = ?
		  FROM temp.cat c WHERE c.action = 'update' AND c.rejected = 0 AND products.pk = c.pk`, []any{now}},
		// Backorder off, where stock is not negative now: before the moves, so
		// their events show it.
		{`UPDATE main.products SET allow_backorder = 0
		  FROM temp.cat c WHERE c.action = 'update' AND c.rejected = 0 AND c.backorder = 0
		    AND products.allow_backorder = 1 AND products.stock >= 0 AND products.pk = c.pk`, nil},
		{`DELETE FROM temp.moves`, nil},
		{`INSERT INTO temp.moves (seq, row, sku_in, sku_key, is_set, value, event)
		  SELECT seq, row, sku, sku_key, 1, stock, CASE WHEN action = 'create' THEN 'product.created' END
		  FROM temp.cat WHERE stock IS NOT NULL AND rejected = 0 ORDER BY seq`, nil},
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s.sql, s.args...); err != nil {
			return translate(err)
		}
	}
	if _, err := e.resolveMoves(ctx, tx); err != nil {
		return translate(err)
	}
	if err := e.writeMoves(ctx, tx, o.Reason, "import:"+o.Name, ""); err != nil {
		return translate(err)
	}
	// Rows whose stock did not move still have their event: one per product,
	// showing it after the whole row was applied.
	if subs, err := e.subscribers(ctx, tx); err != nil {
		return translate(err)
	} else if len(subs) > 0 {
		if err := e.emit(ctx, tx, subs, `SELECT CASE c.action WHEN 'create' THEN 'product.created' ELSE 'product.updated' END AS type,
			p.id AS subject, `+productJSONBatch+` AS payload
			FROM temp.cat c JOIN main.products p ON p.store_id = ? AND p.sku_key = c.sku_key AND p.deleted_at IS NULL`+liveReservedJoin+`
			WHERE c.action IN ('create', 'update') AND c.rejected = 0
			  AND NOT EXISTS (SELECT 1 FROM temp.plan pl WHERE pl.seq = c.seq AND pl.status = 'apply')
			ORDER BY c.seq`, e.store); err != nil {
			return translate(err)
		}
	}
	// Backorder off where stock was negative: only now that the row's stock is set.
	if _, err := tx.ExecContext(ctx, `UPDATE main.products SET allow_backorder = 0, updated_at = ?
		FROM temp.cat c WHERE c.action = 'update' AND c.rejected = 0 AND c.backorder = 0
		  AND products.allow_backorder = 1 AND products.pk = c.pk`, now); err != nil {
		return translate(err)
	}
	err := tx.QueryRowContext(ctx, `SELECT
		coalesce(sum(c.action = 'create'), 0),
		coalesce(sum(c.action = 'create' OR c.action = 'update' OR pl.status = 'apply'), 0),
		coalesce(sum(c.action = 'same' AND pl.status IS NOT 'apply'), 0)
		FROM temp.cat c LEFT JOIN temp.plan pl ON pl.seq = c.seq WHERE c.rejected = 0`).Scan(&rep.Created, &rep.Changed, &rep.Unchanged)
	if err != nil {
		return translate(err)
	}
	if sink.Change == nil {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT c.row, c.sku, coalesce(c.title, p.title),
		CASE WHEN c.action = 'create' THEN 'created' ELSE 'updated' END,
		coalesce(pl.before, CASE WHEN c.action = 'create' THEN 0 ELSE c.cur_stock END),
		coalesce(pl.after, CASE WHEN c.action = 'create' THEN 0 ELSE c.cur_stock END)
		FROM temp.cat c JOIN main.products p ON p.store_id = ? AND p.sku_key = c.sku_key AND p.deleted_at IS NULL
		LEFT JOIN temp.plan pl ON pl.seq = c.seq
		WHERE c.rejected = 0 AND (c.action != 'same' OR pl.status = 'apply') ORDER BY c.seq`, e.store)
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
