package output

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
)

// streamTableLimit is how many rows a Stream shows in a terminal table. A
// terminal table needs every row before it can size its columns, so beyond
// this the rows are only counted, keeping memory bounded.
const streamTableLimit = 10000

type streamMode int

const (
	streamTSV streamMode = iota
	streamCSV
	streamJSON
	streamBox
)

// Stream prints rows one at a time, for outputs of unknown size such as the
// rows an import changed. Create it with Printer.Stream, call Row for each
// row and Close once at the end, even after an error.
//
// In json, tsv and csv rows are written as they come (through a buffer
// flushed by Close) and nothing is kept. On a terminal table the first
// 10,000 rows are kept and rendered by Close, the rest only counted and
// reported on stderr as "… N more rows not shown; use -o csv or -o json for
// all of them".
type Stream struct {
	p      *Printer
	mode   streamMode
	header []string
	right  []bool

	bw  *bufio.Writer // tsv, json
	cw  *csv.Writer   // csv
	rec []string      // csv: reused formula-safe record
	js  bytes.Buffer  // json: one encoded row

	started bool       // header (tsv, csv) or "[" (json) written
	buf     [][]string // terminal table: rows kept for Close
	hidden  int64      // terminal table: rows past the limit
	err     error      // first write error, returned by every later call
	closed  bool
}

// errStreamClosed is returned by Row after Close.
var errStreamClosed = errors.New("output: row written to a closed stream")

// Stream starts a stream of rows with the given header and per-column
// right alignment (used by the terminal table only). Nothing is written
// until the first Row or Close.
func (p *Printer) Stream(header []string, right []bool) *Stream {
	s := &Stream{
		p:      p,
		header: append([]string(nil), header...),
		right:  append([]bool(nil), right...),
	}
	switch p.format() {
	case FormatJSON:
		s.mode = streamJSON
		s.bw = bufio.NewWriter(p.Out)
	case FormatCSV:
		s.mode = streamCSV
		s.cw = csv.NewWriter(p.Out)
	case FormatTable:
		if p.TTY {
			s.mode = streamBox
		} else {
			s.mode = streamTSV
			s.bw = bufio.NewWriter(p.Out)
		}
	default:
		s.err = p.unknownFormat()
		s.closed = true
	}
	return s
}

// Row adds one row: v is what json prints (one element of the array), cells
// what table and csv print. The stream does not keep cells, so the caller
// may reuse the slice.
func (s *Stream) Row(v any, cells []string) error {
	if s.err != nil {
		return s.err
	}
	if s.closed {
		return errStreamClosed
	}
	s.err = s.row(v, cells)
	return s.err
}

func (s *Stream) row(v any, cells []string) error {
	switch s.mode {
	case streamBox:
		if len(s.buf) < streamTableLimit {
			s.buf = append(s.buf, append([]string(nil), cells...))
		} else {
			s.hidden++
		}
		return nil
	case streamTSV:
		if err := s.start(); err != nil {
			return err
		}
		return writeTSVLine(s.bw, cells)
	case streamCSV:
		if err := s.start(); err != nil {
			return err
		}
		s.rec = csvRecord(s.rec, cells)
		return s.cw.Write(s.rec)
	case streamJSON:
		s.js.Reset()
		// Elements are indented as json.MarshalIndent indents an array's,
		// so a stream prints exactly what Print prints for the same list.
		if err := encodeJSON(&s.js, "  ", v); err != nil {
			return err
		}
		sep := ",\n  "
		if !s.started {
			s.started = true
			sep = "[\n  "
		}
		_, _ = s.bw.WriteString(sep)
		_, err := s.bw.Write(bytes.TrimSuffix(s.js.Bytes(), []byte("\n")))
		return err
	}
	return nil
}

// start writes the tsv or csv header once, before the first row.
func (s *Stream) start() error {
	if s.started {
		return nil
	}
	s.started = true
	if s.p.NoHeaders {
		return nil
	}
	switch s.mode {
	case streamTSV:
		return writeTSVLine(s.bw, s.header)
	case streamCSV:
		s.rec = csvRecord(s.rec, s.header)
		return s.cw.Write(s.rec)
	}
	return nil
}

// Close ends the stream: it writes what an empty stream prints (the header,
// or "[]"), closes the json array, flushes, and on a terminal table renders
// the rows kept and reports those left out. It returns the first error the
// stream met. Calling it again returns that error and writes nothing.
func (s *Stream) Close() error {
	if s.closed {
		return s.err
	}
	s.closed = true
	if s.err != nil {
		return s.err
	}
	s.err = s.close()
	return s.err
}

func (s *Stream) close() error {
	switch s.mode {
	case streamBox:
		rows := s.buf
		s.buf = nil
		if err := s.p.writeBox(s.header, rows, s.right); err != nil {
			return err
		}
		if s.hidden > 0 && s.p.Err != nil {
			// Not silenced by Quiet: without it the table would look complete.
			_, _ = fmt.Fprintf(s.p.Err, "… %d more rows not shown; use -o csv or -o json for all of them\n", s.hidden)
		}
		return nil
	case streamTSV:
		if err := s.start(); err != nil {
			return err
		}
		return s.bw.Flush()
	case streamCSV:
		if err := s.start(); err != nil {
			return err
		}
		s.cw.Flush()
		return s.cw.Error()
	case streamJSON:
		end := "\n]\n"
		if !s.started {
			end = "[]\n"
		}
		_, _ = s.bw.WriteString(end)
		return s.bw.Flush()
	}
	return nil
}
