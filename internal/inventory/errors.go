// Package inventory holds the domain of inv: products, movements, the typed
// errors every layer speaks, and the pure parsers for quantities, SKUs,
// barcodes, prices and slugs. It does no I/O.
package inventory

import (
	"errors"
	"fmt"
)

// The kinds of failure a command can end in. Every error that reaches the
// user wraps at most one of these; cmd maps them to exit codes in one place.
var (
	ErrInvalid           = errors.New("invalid input")         // exit 2
	ErrNotFound          = errors.New("not found")             // exit 3
	ErrConflict          = errors.New("conflict")              // exit 4
	ErrInsufficientStock = errors.New("insufficient stock")    // exit 5
	ErrPartial           = errors.New("import partly applied") // exit 6
	ErrUnavailable       = errors.New("backend unavailable")   // exit 7
)

// Error is a domain error: a kind (one of the Err* values) and a message
// written for the person reading it, with the numbers and the way out.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Is lets errors.Is(err, ErrConflict) match an *Error of that kind.
func (e *Error) Is(target error) bool { return e.Kind == target }

// Unwrap exposes the kind, so wrapping with %w keeps it visible.
func (e *Error) Unwrap() error { return e.Kind }

func newf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Invalidf, NotFoundf, Conflictf, Insufficientf, Partialf and Unavailablef
// build an *Error of their kind.
func Invalidf(format string, args ...any) error  { return newf(ErrInvalid, format, args...) }
func NotFoundf(format string, args ...any) error { return newf(ErrNotFound, format, args...) }
func Conflictf(format string, args ...any) error { return newf(ErrConflict, format, args...) }
func Insufficientf(format string, args ...any) error {
	return newf(ErrInsufficientStock, format, args...)
}
func Partialf(format string, args ...any) error     { return newf(ErrPartial, format, args...) }
func Unavailablef(format string, args ...any) error { return newf(ErrUnavailable, format, args...) }

// Problem is one thing wrong with one row of an input file: where it is
// (row as a spreadsheet numbers it, the header being row 1), which column,
// the value as written, and why it was refused.
type Problem struct {
	Row    int    `json:"row"`
	Column string `json:"column"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

func (p Problem) String() string {
	if p.Column == "" {
		return fmt.Sprintf("row %d: %s", p.Row, p.Reason)
	}
	return fmt.Sprintf("row %d, column %q, value %q: %s", p.Row, p.Column, p.Value, p.Reason)
}
