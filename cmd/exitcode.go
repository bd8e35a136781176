package cmd

import (
	"context"
	"errors"

	"github.com/inv-cli/inv/internal/inventory"
)

// Exit codes. This is the one place errors become exit codes; the table is
// repeated in `inv help exit-codes` and the README.
const (
	ExitOK           = 0
	ExitFailure      = 1
	ExitUsage        = 2
	ExitNotFound     = 3
	ExitConflict     = 4
	ExitInsufficient = 5
	ExitPartial      = 6
	ExitUnavailable  = 7
	ExitInterrupted  = 130
)

// usageError marks a mistake in how inv was called (flags, arguments).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(err error) error { return &usageError{err: err} }

// ExitCode maps an error to the documented exit code.
func ExitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.As(err, &ue), errors.Is(err, inventory.ErrInvalid):
		return ExitUsage
	case errors.Is(err, inventory.ErrNotFound):
		return ExitNotFound
	case errors.Is(err, inventory.ErrConflict):
		return ExitConflict
	case errors.Is(err, inventory.ErrInsufficientStock):
		return ExitInsufficient
	case errors.Is(err, inventory.ErrPartial):
		return ExitPartial
	case errors.Is(err, inventory.ErrUnavailable):
		return ExitUnavailable
	}
	return ExitFailure
}

const exitCodesHelp = `inv exits with one of these codes, so scripts and cron jobs can tell what happened:

  0    ok
  1    unexpected failure (a bug, or the machine: disk full, permissions)
  2    usage or invalid input: a bad flag or argument, a bad file (every problem is listed on stderr;
       nothing was changed)
  3    not found: no product with that SKU or id
  4    conflict: --expect did not match, duplicate SKU or slug, an idempotency key reused for another
       change, a delta file already imported
  5    insufficient stock: an adjust or set below zero on a product without backorder
  6    import partly applied (--partial): the good rows were applied, the rejected rows are listed
  7    backend unavailable: the database stayed locked past busy_timeout, or cannot be written;
       a webhook receiver did not accept events (inv webhook deliver, inv webhook test)
  130  interrupted (Ctrl-C, SIGTERM); a change in progress was rolled back`
