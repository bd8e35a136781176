// Package output prints what every inv command produces: data on stdout in
// the format the user chose (-o table|json|csv), messages and warnings on
// stderr.
//
// The formats:
//
//   - table, stdout a terminal: a box-drawn table (tablewriter) with the
//     headers exactly as the caller typed them and numeric columns
//     right-aligned. Tab, CR and LF inside a cell become a space and other
//     control characters become U+FFFD, so one row is one line and data can
//     never drive the terminal with escape sequences.
//   - table, stdout not a terminal: tab-separated values for cut, awk and
//     sort: one header line (dropped by NoHeaders), then one line per row, no
//     borders, padding, quoting or colour. Tab, CR, LF and CRLF inside a cell
//     become one space; nothing else is changed.
//   - json: the caller's value, indented by two spaces, with a trailing
//     newline and without HTML escaping ("&" stays "&"). A list is an array,
//     "[]" when empty, never "null".
//   - csv: RFC 4180 via encoding/csv, a header row unless NoHeaders, and
//     formula-injection protection: a cell starting with = + - @ tab or CR
//     gets a leading ' unless the whole cell is a number (-5, +20, -3.50).
//
// An empty list prints its header only (the header-only box on a terminal,
// the header line in TSV and CSV, nothing with NoHeaders) and "[]" in JSON;
// no "no rows" message is printed, so empty output looks like the same table
// with nothing in it.
//
// Write errors (a closed pipe, a full disk) are returned, never ignored.
package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// Format is an output format chosen with -o/--output.
type Format string

// The formats ParseFormat accepts.
const (
	FormatTable Format = "table"
	FormatJSON  Format = "json"
	FormatCSV   Format = "csv"
)

// ErrUnknownFormat is wrapped by the error ParseFormat returns for a value it
// does not know, so the caller can treat it as a usage error (exit 2).
var ErrUnknownFormat = errors.New("unknown output format")

// ParseFormat reads an -o/--output value, ignoring case and surrounding
// spaces.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case FormatTable, FormatJSON, FormatCSV:
		return f, nil
	}
	return "", fmt.Errorf("%w %q: valid values are table, json, csv", ErrUnknownFormat, s)
}

// Printer writes a command's results. The caller fills it once from the
// global flags: Out and Err are the command's stdout and stderr (both must
// be set), TTY and ErrTTY say whether they are terminals (decided by the
// caller, e.g. with golang.org/x/term). The zero Format means table.
type Printer struct {
	Out, Err  io.Writer
	Format    Format
	TTY       bool // stdout is a terminal
	ErrTTY    bool // stderr is a terminal (for progress)
	NoHeaders bool
	Quiet     bool
}

// Table is the tabular view of some data, used by the table and csv formats.
type Table struct {
	Header []string   // names as the user should see them, e.g. "sku", "title", "stock"
	Rows   [][]string // one slice per row, cells in Header order
	Right  []bool     // per column: right-align (numbers) in the terminal table; missing means left
}

// Print writes a list. In json it marshals v (a nil slice or nil v prints
// "[]"); in table and csv it prints t.
func (p *Printer) Print(v any, t Table) error {
	switch p.format() {
	case FormatJSON:
		if isNilList(v) {
			return writeAll(p.Out, []byte("[]\n"))
		}
		return p.writeJSON(v)
	case FormatCSV:
		return p.writeCSV(t.Header, t.Rows)
	case FormatTable:
		if p.TTY {
			return p.writeBox(t.Header, t.Rows, t.Right)
		}
		return p.writeTSV(t.Header, t.Rows)
	}
	return p.unknownFormat()
}

// Object writes one item. In json it marshals v. In table it prints fields
// vertically, one "name, value" pair per line under the header
// "field", "value". In csv it prints one header row of the field names and
// one row of their values.
func (p *Printer) Object(v any, fields [][2]string) error {
	switch p.format() {
	case FormatJSON:
		return p.writeJSON(v)
	case FormatCSV:
		names := make([]string, len(fields))
		values := make([]string, len(fields))
		for i, f := range fields {
			names[i], values[i] = f[0], f[1]
		}
		return p.writeCSV(names, [][]string{values})
	case FormatTable:
		header := []string{"field", "value"}
		rows := make([][]string, len(fields))
		for i, f := range fields {
			rows[i] = []string{f[0], f[1]}
		}
		if p.TTY {
			return p.writeBox(header, rows, nil)
		}
		return p.writeTSV(header, rows)
	}
	return p.unknownFormat()
}

// Messagef writes one informational line to stderr, unless Quiet.
func (p *Printer) Messagef(format string, args ...any) {
	if p.Quiet {
		return
	}
	p.line("", format, args...)
}

// Warnf writes one line to stderr prefixed "inv: warning: ", even when Quiet.
func (p *Printer) Warnf(format string, args ...any) {
	p.line("inv: warning: ", format, args...)
}

// line writes prefix and the formatted message to stderr, ending it with
// exactly one newline. A failure to write to stderr has nowhere to be
// reported, so it is dropped.
func (p *Printer) line(prefix, format string, args ...any) {
	if p.Err == nil {
		return
	}
	msg := prefix + strings.TrimRight(fmt.Sprintf(format, args...), "\n") + "\n"
	_, _ = io.WriteString(p.Err, msg)
}

func (p *Printer) format() Format {
	if p.Format == "" {
		return FormatTable
	}
	return p.Format
}

func (p *Printer) unknownFormat() error {
	return fmt.Errorf("%w %q: valid values are table, json, csv", ErrUnknownFormat, string(p.Format))
}

// writeJSON writes v as indented JSON followed by a newline.
func (p *Printer) writeJSON(v any) error {
	var buf bytes.Buffer
	if err := encodeJSON(&buf, "", v); err != nil {
		return err
	}
	return writeAll(p.Out, buf.Bytes())
}

// encodeJSON appends v to buf, indented by two spaces with every line but
// the first starting with prefix, followed by a newline. HTML characters are
// not escaped: this is read by people and jq, not embedded in a page.
func encodeJSON(buf *bytes.Buffer, prefix string, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("output: encode json: %w", err)
	}
	return nil
}

// isNilList reports whether v is nil or a nil slice, which a list prints as
// "[]" rather than "null".
func isNilList(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Slice && rv.IsNil()
}

// writeAll writes b to w and returns the first error, including a short
// write that the writer failed to report.
func writeAll(w io.Writer, b []byte) error {
	n, err := w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	return err
}
