// Package engine is the embedded inventory engine: SQLite in one file
// (modernc.org/sqlite, pure Go), numbered migrations, the movement ledger and
// every stock rule. All stock changes pass through applyMoves.
package engine

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/inv-cli/inv/internal/inventory"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Options open an engine.
type Options struct {
	Path        string        // the database file; created with its directory when missing
	Store       string        // every read and write is scoped to this store id
	Actor       string        // recorded on ledger rows ($USER)
	BusyTimeout time.Duration // how long a write waits for another process's write lock
	Now         func() time.Time
	Logf        func(format string, args ...any) // --debug; nil = silent
}

// Engine is an open database scoped to one store.
type Engine struct {
	db    *sql.DB
	store string
	actor string
	now   func() time.Time
	logf  func(format string, args ...any)
}

// DSN builds the connection string. It is built here from constants only:
// modernc runs each _pragma value as SQL. Every read-write transaction is
// BEGIN IMMEDIATE (_txlock), so a writer waits for the lock at BEGIN, where
// the busy handler applies, instead of failing at its first write.
func DSN(path string, busy time.Duration) string {
	return path + "?_pragma=busy_timeout(" + fmt.Sprint(busy.Milliseconds()) + ")" +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)" +
		"&_txlock=immediate"
}

// Open opens (creating if needed) the database and brings its schema up to date.
func Open(ctx context.Context, o Options) (*Engine, error) {
	if o.Path == "" {
		return nil, inventory.Invalidf("no database path: set --db, INV_DB or db in the config file")
	}
	if strings.ContainsAny(o.Path, "?#") {
		return nil, inventory.Invalidf("database path %q must not contain '?' or '#'", o.Path)
	}
	if o.Store == "" {
		o.Store = "default"
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Actor == "" {
		o.Actor = "unknown"
	}
	if dir := filepath.Dir(o.Path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, inventory.Unavailablef("cannot create the database directory: %v", err)
		}
	}
	db, err := sql.Open("sqlite", DSN(o.Path, o.BusyTimeout))
	if err != nil {
		return nil, err
	}
	// A CLI process does one thing at a time; inv serve shares the pool. Each
	// connection has its own page cache, so keep the pool small.
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(time.Minute)
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, translate(fmt.Errorf("open %s: %w", o.Path, err))
	}
	return &Engine{db: db, store: o.Store, actor: o.Actor, now: o.Now, logf: o.Logf}, nil
}

// Close closes the database.
func (e *Engine) Close() error { return e.db.Close() }

// DB exposes the handle for tests and benchmarks in this module.
func (e *Engine) DB() *sql.DB { return e.db }

func (e *Engine) nowMS() int64 { return e.now().UnixMilli() }

// writeTx runs fn in one BEGIN IMMEDIATE transaction.
func (e *Engine) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return translate(err)
	}
	return translate(tx.Commit())
}

// readTx runs fn in a deferred read transaction: in WAL mode it never waits
// for a writer.
func (e *Engine) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := e.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return translate(err)
	}
	defer tx.Rollback()
	return translate(fn(tx))
}

// translate turns driver errors into the few kinds the rest of inv knows.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var de *inventory.Error
	if errors.As(err, &de) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return inventory.Unavailablef("the database is busy: another inv process held the write lock longer than the busy timeout (%v); try again, or raise busy_timeout", err)
		case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM:
			return inventory.Unavailablef("cannot write the database: %v", err)
		case sqlite3.SQLITE_INTERRUPT:
			return context.Canceled
		}
		if se.Code() == sqlite3.SQLITE_CONSTRAINT_CHECK && strings.Contains(err.Error(), "allow_backorder") {
			return inventory.Insufficientf("stock would go below zero on a product that does not allow backorder")
		}
	}
	return err
}

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID returns prefix + 20 random base-62 characters.
func newID(prefix string) string {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	out := make([]byte, len(prefix)+len(b))
	copy(out, prefix)
	for i, c := range b {
		out[len(prefix)+i] = idAlphabet[int(c)%len(idAlphabet)]
	}
	return string(out)
}
