package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// A stream of rows must print exactly what Print prints for the same list,
// in every mode, including the empty list.
func TestStreamPrintsWhatPrintPrints(t *testing.T) {
	for _, m := range modes {
		for _, n := range []int{0, 1, 3} {
			t.Run(fmt.Sprintf("%s/%d", m.name, n), func(t *testing.T) {
				ps := products()[:n]
				want, _, _ := newPrinter(m.printer)
				if err := want.Print(ps, productTable(ps)); err != nil {
					t.Fatal(err)
				}
				p, out, errb := newPrinter(m.printer)
				tab := productTable(nil)
				s := p.Stream(tab.Header, tab.Right)
				for _, prod := range ps {
					if err := s.Row(prod, productRow(prod)); err != nil {
						t.Fatal(err)
					}
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				if got := out.String(); got != want.Out.(*bytes.Buffer).String() {
					t.Errorf("stream printed\n%s\nPrint printed\n%s", got, want.Out)
				}
				if errb.Len() != 0 {
					t.Errorf("stderr = %q", errb)
				}
			})
		}
	}
}

func TestStreamJSONIsAValidArray(t *testing.T) {
	for _, n := range []int{0, 1, 3} {
		p, out, _ := newPrinter(Printer{Format: FormatJSON})
		s := p.Stream(nil, nil)
		for _, prod := range products()[:n] {
			if err := s.Row(prod, nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		var back []product
		if err := json.Unmarshal(out.Bytes(), &back); err != nil {
			t.Fatalf("%d rows: %v:\n%s", n, err, out)
		}
		if len(back) != n || back == nil {
			t.Errorf("%d rows: parsed %#v from\n%s", n, back, out)
		}
		if n > 0 && back[n-1].SKU != products()[n-1].SKU {
			t.Errorf("%d rows: last = %+v", n, back[n-1])
		}
	}
}

// The caller may reuse its cells slice between rows (tablewriter's Append
// keeps a reference; the stream must copy).
func TestStreamTTYCopiesCells(t *testing.T) {
	p, out, _ := newPrinter(Printer{TTY: true})
	s := p.Stream([]string{"sku", "stock"}, []bool{false, true})
	cells := make([]string, 2)
	for i := 1; i <= 3; i++ {
		cells[0], cells[1] = fmt.Sprintf("SKU-%d", i), fmt.Sprint(i*10)
		if err := s.Row(nil, cells); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"│ SKU-1 │    10 │", "│ SKU-2 │    20 │", "│ SKU-3 │    30 │"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}

func TestStreamTTYIsBounded(t *testing.T) {
	const total = 25000
	p, out, errb := newPrinter(Printer{TTY: true, Quiet: true})
	s := p.Stream([]string{"sku", "before", "after"}, []bool{false, true, true})
	cells := make([]string, 3)
	for i := 1; i <= total; i++ {
		cells[0], cells[1], cells[2] = fmt.Sprintf("row-%05d", i), fmt.Sprint(i), fmt.Sprint(i+1)
		if err := s.Row(nil, cells); err != nil {
			t.Fatal(err)
		}
		if len(s.buf) > streamTableLimit {
			t.Fatalf("after %d rows the stream holds %d", i, len(s.buf))
		}
	}
	if len(s.buf) != streamTableLimit || s.hidden != total-streamTableLimit {
		t.Fatalf("holds %d rows, %d hidden; want %d and %d", len(s.buf), s.hidden, streamTableLimit, total-streamTableLimit)
	}
	if out.Len() != 0 {
		t.Fatal("terminal table printed before Close")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.buf != nil {
		t.Errorf("stream still holds %d rows after Close", len(s.buf))
	}

	got := out.String()
	shown := strings.Count(got, "│ row-")
	if shown != streamTableLimit {
		t.Errorf("rendered %d rows, want %d", shown, streamTableLimit)
	}
	for _, want := range []string{"│ sku       │ before │ after │", "│ row-00001 │      1 │     2 │", "│ row-10000 │  10000 │ 10001 │"} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	if strings.Contains(got, "row-10001") {
		t.Error("row 10,001 rendered")
	}
	// Shown even with -q: without it the table would look complete.
	if want := "… 15000 more rows not shown; use -o csv or -o json for all of them\n"; errb.String() != want {
		t.Errorf("stderr = %q, want %q", errb, want)
	}
}

// In pipeline formats rows reach stdout as they come, not at Close.
func TestStreamWritesAsItGoes(t *testing.T) {
	for _, m := range modes[1:] {
		t.Run(m.name, func(t *testing.T) {
			p, out, _ := newPrinter(m.printer)
			s := p.Stream([]string{"sku", "stock"}, nil)
			for i := 0; i < 1000; i++ {
				if err := s.Row(map[string]int{"stock": i}, []string{"SKU", fmt.Sprint(i)}); err != nil {
					t.Fatal(err)
				}
			}
			if out.Len() == 0 {
				t.Error("nothing written before Close")
			}
			if s.buf != nil {
				t.Error("rows kept in memory")
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestStreamAfterClose(t *testing.T) {
	p, out, _ := newPrinter(Printer{Format: FormatJSON})
	s := p.Stream(nil, nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Row(1, nil); err == nil {
		t.Error("Row after Close succeeded")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if out.String() != "[]\n" {
		t.Errorf("stdout = %q", out)
	}
}

func BenchmarkStreamCSV(b *testing.B) {
	p := &Printer{Format: FormatCSV, Out: discard{}, Err: discard{}}
	cells := []string{"SNK-LE-001", "-5", "+20", "=cmd"}
	b.ReportAllocs()
	s := p.Stream([]string{"sku", "before", "delta", "note"}, nil)
	for b.Loop() {
		if err := s.Row(nil, cells); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }
