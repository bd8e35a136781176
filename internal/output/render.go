package output

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// writeTSV writes header (unless NoHeaders) and rows as tab-separated lines.
func (p *Printer) writeTSV(header []string, rows [][]string) error {
	bw := bufio.NewWriter(p.Out)
	if !p.NoHeaders {
		if err := writeTSVLine(bw, header); err != nil {
			return err
		}
	}
	for _, r := range rows {
		if err := writeTSVLine(bw, r); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// writeTSVLine writes one row as one line. bufio errors are sticky, so the
// error of the last write is the first one that happened.
func writeTSVLine(bw *bufio.Writer, cells []string) error {
	for i, c := range cells {
		if i > 0 {
			_ = bw.WriteByte('\t')
		}
		_, _ = bw.WriteString(tsvCell(c))
	}
	return bw.WriteByte('\n')
}

var lineBreaks = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ", "\t", " ")

// tsvCell keeps a cell on one line and in one column: tab, CR, LF and CRLF
// become one space. Everything else is left as it is: this output is data.
func tsvCell(s string) string {
	if !strings.ContainsAny(s, "\t\r\n") {
		return s
	}
	return lineBreaks.Replace(s)
}

// writeCSV writes header (unless NoHeaders) and rows with encoding/csv, every
// cell made safe to open in a spreadsheet.
func (p *Printer) writeCSV(header []string, rows [][]string) error {
	cw := csv.NewWriter(p.Out)
	var rec []string
	if !p.NoHeaders {
		rec = csvRecord(rec, header)
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	for _, r := range rows {
		rec = csvRecord(rec, r)
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvRecord fills rec (reused between rows: csv.Writer keeps no reference)
// with the formula-safe version of cells, leaving the caller's slice alone.
func csvRecord(rec, cells []string) []string {
	rec = rec[:0]
	for _, c := range cells {
		rec = append(rec, csvCell(c))
	}
	return rec
}

// csvCell neutralises spreadsheet formula injection: a cell a spreadsheet
// would evaluate (starting with = + - @ tab or CR) gets a leading ' unless it
// is just a number, so -5, +20 and -3.50 stay numbers.
func csvCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if !isNumber(s) {
			return "'" + s
		}
	}
	return s
}

// isNumber reports whether s is entirely a decimal number: an optional sign,
// digits with an optional fraction (at least one digit in all), and an
// optional exponent. No spaces, no thousands separators.
func isNumber(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && isDigit(s[i]) {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && isDigit(s[i]) {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// writeBox renders a box-drawn table with tablewriter. It renders into a
// buffer first because tablewriter drops the errors of the writer it is
// given; the single write to Out reports them.
func (p *Printer) writeBox(header []string, rows [][]string, right []bool) error {
	if p.NoHeaders && len(rows) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if err := renderBox(&buf, header, rows, right, !p.NoHeaders); err != nil {
		return err
	}
	return writeAll(p.Out, buf.Bytes())
}

func renderBox(w io.Writer, header []string, rows [][]string, right []bool, showHeader bool) error {
	ncols := len(header)
	for _, r := range rows {
		ncols = max(ncols, len(r))
	}
	align := make([]tw.Align, ncols)
	for i := range align {
		align[i] = tw.AlignLeft
		if i < len(right) && right[i] {
			align[i] = tw.AlignRight
		}
	}
	t := tablewriter.NewTable(w,
		// Box-drawing characters have East-Asian "ambiguous" width: measured
		// as 2 in a CJK locale they no longer line up with the terminal.
		tablewriter.WithEastAsian(tw.Off),
		// Headers as the caller typed them, not upper-cased.
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignmentConfig(tw.CellAlignment{Global: tw.AlignLeft, PerColumn: align}),
		// v1 no longer right-aligns numbers by itself.
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{Global: tw.AlignLeft, PerColumn: align}),
	)
	if showHeader {
		t.Header(ttyCells(header))
	}
	for _, r := range rows {
		// ttyCells returns a fresh slice: Append keeps a reference to it.
		if err := t.Append(ttyCells(r)); err != nil {
			return err
		}
	}
	return t.Render()
}

// ttyCells returns a new slice holding the terminal-safe version of cells.
func ttyCells(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = ttyCell(c)
	}
	return out
}

// ttyCell makes a cell safe and one line high on a terminal: tab, CR, LF and
// CRLF become one space; other control characters (ESC among them) and
// invalid UTF-8 become U+FFFD, so data can never send escape sequences to the
// user's terminal.
func ttyCell(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\r' && strings.HasPrefix(s[i:], "\r\n"):
			b.WriteByte(' ')
			size = 2
		case r == '\t' || r == '\r' || r == '\n':
			b.WriteByte(' ')
		case r == utf8.RuneError || unicode.IsControl(r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
