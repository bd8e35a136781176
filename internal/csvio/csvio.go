// Package csvio reads the CSV files inv imports: stock files (a SKU and a
// quantity per row, in the layouts shops, spreadsheets and warehouses export)
// and product catalogues (Shopify, WooCommerce, plain).
//
// Every reader streams: memory stays flat however long the file is. Input is
// UTF-8 with or without a byte order mark, with CRLF or LF line ends (mixed
// is fine), RFC 4180 quoting, and a delimiter among , ; tab | sniffed from the
// header line unless the caller names one. Header names are matched ignoring
// case, white space, "_" and "-".
package csvio

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/inv-cli/inv/internal/inventory"
)

// bufSize is the read buffer; the delimiter is sniffed from at most this much
// of the header line.
const bufSize = 64 << 10

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// source is the plumbing both readers share: the raw bytes are hashed as they
// are read, a BOM is dropped, the delimiter is settled, and the header record
// has been read.
type source struct {
	sum        hash.Hash
	csv        *csv.Reader
	header     []string // as written in the file
	headerLine int
	delim      rune
}

func openSource(r io.Reader, delim rune) (*source, error) {
	if r == nil {
		return nil, errors.New("csvio: nil reader")
	}
	sum := sha256.New()
	br := bufio.NewReaderSize(io.TeeReader(r, sum), bufSize)

	b, err := br.Peek(len(utf8BOM))
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("reading the file: %w", err)
	}
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}) || bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return nil, inventory.Invalidf(`the file is UTF-16 text (as Excel saves "Unicode Text"); save it as "CSV UTF-8" and import that`)
	case bytes.Equal(b, utf8BOM):
		// encoding/csv does not skip a BOM; left in place it makes a quoted
		// first header ("\uFEFF\"sku\"") a syntax error and an unquoted one
		// a different name. The bytes are buffered: Discard cannot fail.
		_, _ = br.Discard(len(utf8BOM))
	}

	if delim == 0 {
		d, err := sniffDelimiter(br)
		if err != nil {
			return nil, fmt.Errorf("reading the file: %w", err)
		}
		delim = d
	} else if err := checkDelimiter(delim); err != nil {
		return nil, err
	}

	cr := csv.NewReader(br) // reuses br: it is already a large enough *bufio.Reader
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	rec, err := cr.Read()
	if err == io.EOF {
		return nil, inventory.Invalidf("the file is empty: the first line must be a header naming the columns")
	}
	if err != nil {
		return nil, readError(err)
	}
	for _, h := range rec {
		if strings.Contains(h, "\r") {
			// encoding/csv ends lines at LF only: a file with old-Mac CR line
			// endings is one long header, and would import nothing, "successfully".
			return nil, inventory.Invalidf(`the file's lines end with CR only (as old Mac spreadsheets save "CSV (Macintosh)"); save it as "CSV UTF-8" and import that`)
		}
	}
	line, _ := cr.FieldPos(0)
	return &source{
		sum:        sum,
		csv:        cr,
		header:     append([]string(nil), rec...),
		headerLine: line,
		delim:      delim,
	}, nil
}

// hexSum is the SHA-256 of every byte read so far.
func (s *source) hexSum() string { return hex.EncodeToString(s.sum.Sum(nil)) }

// checkDelimiter refuses what encoding/csv cannot split on.
func checkDelimiter(d rune) error {
	if d == '"' || d == '\r' || d == '\n' || d == utf8.RuneError || !utf8.ValidRune(d) || unicode.IsControl(d) && d != '\t' {
		return inventory.Invalidf("delimiter %q cannot separate columns; use one of , ; | or tab", d)
	}
	return nil
}

// sniffDelimiter looks at the header line without consuming it: among , ; tab
// and |, the one found most often outside quotes wins; a tie or none gives ",".
// It waits for no more input than the header line (at most bufSize bytes of
// it), so a slow pipe is not read ahead of need.
func sniffDelimiter(br *bufio.Reader) (rune, error) {
	candidates := [...]byte{',', ';', '\t', '|'}
	var counts [len(candidates)]int
	inQuotes := false
	i := 0 // bytes of the buffer already scanned
	for n := 1; ; {
		buf, err := br.Peek(n)
		for ; i < len(buf); i++ {
			c := buf[i]
			if c == '"' {
				inQuotes = !inQuotes // a doubled quote toggles twice
				continue
			}
			if inQuotes {
				continue
			}
			if c == '\n' {
				return pickDelimiter(candidates[:], counts[:]), nil
			}
			for k, d := range candidates {
				if c == d {
					counts[k]++
				}
			}
		}
		if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
			return 0, err
		}
		if err != nil || n >= br.Size() {
			return pickDelimiter(candidates[:], counts[:]), nil
		}
		n = min(br.Buffered()+1, br.Size())
	}
}

func pickDelimiter(candidates []byte, counts []int) rune {
	best, bestCount, tie := 0, 0, false
	for k, c := range counts {
		switch {
		case c > bestCount:
			best, bestCount, tie = k, c, false
		case c == bestCount && c > 0:
			tie = true
		}
	}
	if bestCount == 0 || tie {
		return ','
	}
	return rune(candidates[best])
}

// normalizeHeader is the form header names are compared in: lower case, with
// white space, "_", "-" and zero-width characters dropped. Everything else
// (parentheses, "?") stays, so "On hand (new)" and "On hand (current)" differ.
func normalizeHeader(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '_' || r == '-' || unicode.IsSpace(r):
		case r == '\uFEFF' || r == '\u200B' || r == '\u200C' || r == '\u200D':
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// alias is one accepted spelling of a column, as shown to users, and its
// normalized form.
type alias struct{ name, key string }

func aliases(names ...string) []alias {
	out := make([]alias, len(names))
	for i, n := range names {
		out[i] = alias{name: n, key: normalizeHeader(n)}
	}
	return out
}

// findColumn returns the index of the first column whose normalized header is
// key, skipping the indexes in taken; -1 if there is none.
func findColumn(norm []string, key string, taken ...int) int {
next:
	for i, h := range norm {
		if h != key {
			continue
		}
		for _, t := range taken {
			if t == i {
				continue next
			}
		}
		return i
	}
	return -1
}

// findAlias returns the column of the first alias (in priority order) found in
// the header, skipping the indexes in taken; -1 if none is.
func findAlias(norm []string, list []alias, taken ...int) int {
	for _, a := range list {
		if i := findColumn(norm, a.key, taken...); i >= 0 {
			return i
		}
	}
	return -1
}

func normalizeAll(header []string) []string {
	out := make([]string, len(header))
	for i, h := range header {
		out[i] = normalizeHeader(h)
	}
	return out
}

// quoteList renders names as "a", "b", "c".
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func aliasNames(list []alias) []string {
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.name
	}
	return out
}

// readError turns what csv.Reader returned into the error a user can act on:
// a syntax error is invalid input naming the line and column; anything else
// is a failure to read.
func readError(err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("reading the file: %w", err)
	}
	switch {
	case errors.Is(pe.Err, csv.ErrQuote) && pe.StartLine != pe.Line:
		return inventory.Invalidf(`line %d: the record starting on this line has a quoted cell that is not closed where expected (reading stopped at line %d, column %d); `+
			`check for a missing closing quote (") or a quote inside a quoted cell that is not written twice ("")`, pe.StartLine, pe.Line, pe.Column)
	case errors.Is(pe.Err, csv.ErrQuote):
		return inventory.Invalidf(`line %d, column %d: a quoted cell is not closed where expected: after its closing quote (") must come the delimiter or the end of the line; `+
			`a quote inside a quoted cell is written twice ("")`, pe.Line, pe.Column)
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return inventory.Invalidf(`line %d, column %d: a quote (") inside a cell that does not start with one; `+
			`quote the whole cell and write each quote inside it twice, as in "12"" pipe"`, pe.Line, pe.Column)
	}
	return inventory.Invalidf("line %d, column %d: %s", pe.Line, pe.Column, pe.Err)
}
