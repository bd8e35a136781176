package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with the current output")

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/output -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

// product is shaped like the API's product object (camelCase JSON).
type product struct {
	ID                string `json:"id"`
	SKU               string `json:"sku"`
	Title             string `json:"title"`
	Stock             int    `json:"stock"`
	Price             string `json:"price"`
	LowStockThreshold *int   `json:"lowStockThreshold"`
	AllowBackorder    bool   `json:"allowBackorder"`
	Status            string `json:"status"`
}

func intp(n int) *int { return &n }

func products() []product {
	return []product{
		{ID: "prd_01", SKU: "SNK-LE-001", Title: `Sneaker "Night" limited edition`, Stock: -5, Price: "129.00", LowStockThreshold: intp(3), AllowBackorder: true, Status: "published"},
		{ID: "prd_02", SKU: "MUG-1", Title: "Mug & saucer, 日本製", Stock: 75, Price: "9.99", Status: "published"},
		{ID: "prd_03", SKU: "00042", Title: "Café crème <tin>", Stock: 0, Price: "12.50", LowStockThreshold: intp(10), Status: "draft"},
	}
}

func productRow(p product) []string {
	return []string{p.SKU, p.Title, itoa(p.Stock), p.Price, p.Status}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func productTable(ps []product) Table {
	t := Table{
		Header: []string{"sku", "title", "stock", "price", "status"},
		Right:  []bool{false, false, true, true, false},
	}
	for _, p := range ps {
		t.Rows = append(t.Rows, productRow(p))
	}
	return t
}

// modes are the five ways a command's data can reach the user.
var modes = []struct {
	name    string
	printer Printer
}{
	{"tty", Printer{Format: FormatTable, TTY: true}},
	{"tsv", Printer{Format: FormatTable}},
	{"tsv_noheaders", Printer{Format: FormatTable, NoHeaders: true}},
	{"csv", Printer{Format: FormatCSV}},
	{"json", Printer{Format: FormatJSON}},
}

// newPrinter returns a copy of p writing to fresh buffers.
func newPrinter(p Printer) (*Printer, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	p.Out, p.Err = &out, &errb
	return &p, &out, &errb
}

func TestPrintProducts(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			p, out, errb := newPrinter(m.printer)
			ps := products()
			if err := p.Print(ps, productTable(ps)); err != nil {
				t.Fatal(err)
			}
			if errb.Len() != 0 {
				t.Errorf("stderr = %q, want nothing", errb)
			}
			golden(t, "products_"+m.name, out.String())
		})
	}
}

func TestPrintTTYShowsHeadersAsTypedAndNumbersRight(t *testing.T) {
	p, out, _ := newPrinter(Printer{Format: FormatTable, TTY: true})
	ps := products()
	if err := p.Print(ps, productTable(ps)); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"│ sku ", "│ title ", "│    -5 │", "│    75 │", "│   9.99 │", "│ MUG-1 "} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "SKU") {
		t.Errorf("header upper-cased:\n%s", got)
	}
}

func TestPrintTSVIsOneLinePerRowWithoutPadding(t *testing.T) {
	p, out, _ := newPrinter(Printer{})
	ps := products()
	if err := p.Print(ps, productTable(ps)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %d lines, want header + 3:\n%s", len(lines), out)
	}
	if lines[0] != "sku\ttitle\tstock\tprice\tstatus" {
		t.Errorf("header line = %q", lines[0])
	}
	if lines[1] != "SNK-LE-001\tSneaker \"Night\" limited edition\t-5\t129.00\tpublished" {
		t.Errorf("first row = %q", lines[1])
	}
}

func TestPrintJSONIsTheCallersObjects(t *testing.T) {
	p, out, _ := newPrinter(Printer{Format: FormatJSON})
	ps := products()
	if err := p.Print(ps, Table{}); err != nil {
		t.Fatal(err)
	}
	var back []product
	if err := json.Unmarshal(out.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back) != 3 || back[2].SKU != "00042" || *back[0].LowStockThreshold != 3 {
		t.Errorf("round trip = %+v", back)
	}
	if !strings.Contains(out.String(), `"title": "Mug & saucer, 日本製"`) {
		t.Errorf("& or non-ASCII escaped:\n%s", out)
	}
	if !strings.HasSuffix(out.String(), "}\n]\n") {
		t.Errorf("no trailing newline:\n%q", out)
	}
}

func objectFields(p product) [][2]string {
	threshold := ""
	if p.LowStockThreshold != nil {
		threshold = itoa(*p.LowStockThreshold)
	}
	return [][2]string{
		{"id", p.ID},
		{"sku", p.SKU},
		{"title", p.Title},
		{"stock", itoa(p.Stock)},
		{"price", p.Price},
		{"low stock threshold", threshold},
		{"status", p.Status},
	}
}

func TestObject(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			p, out, _ := newPrinter(m.printer)
			prod := products()[0]
			if err := p.Object(prod, objectFields(prod)); err != nil {
				t.Fatal(err)
			}
			golden(t, "object_"+m.name, out.String())
		})
	}
}

func TestObjectJSONIsAnObject(t *testing.T) {
	p, out, _ := newPrinter(Printer{Format: FormatJSON})
	prod := products()[1]
	if err := p.Object(prod, objectFields(prod)); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(out.Bytes(), &back); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if back["sku"] != "MUG-1" || back["lowStockThreshold"] != nil {
		t.Errorf("object = %v", back)
	}
}

func TestPrintEmpty(t *testing.T) {
	want := map[string]string{ // the ones short enough to state here
		"tsv":           "sku\ttitle\tstock\tprice\tstatus\n",
		"tsv_noheaders": "",
		"csv":           "sku,title,stock,price,status\n",
		"json":          "[]\n",
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			p, out, errb := newPrinter(m.printer)
			var none []product // nil: must print [] in json, not null
			if err := p.Print(none, productTable(none)); err != nil {
				t.Fatal(err)
			}
			if w, ok := want[m.name]; ok && out.String() != w {
				t.Errorf("stdout = %q, want %q", out, w)
			}
			if errb.Len() != 0 {
				t.Errorf("stderr = %q, want nothing", errb)
			}
			golden(t, "empty_"+m.name, out.String())
		})
	}
}

func TestPrintJSONEmptyForms(t *testing.T) {
	for name, v := range map[string]any{"nil": nil, "nil slice": []product(nil), "empty slice": []product{}} {
		p, out, _ := newPrinter(Printer{Format: FormatJSON})
		if err := p.Print(v, Table{}); err != nil {
			t.Fatal(err)
		}
		if out.String() != "[]\n" {
			t.Errorf("%s: got %q, want \"[]\\n\"", name, out)
		}
	}
}

func TestPrintTTYEmptyWithoutHeadersPrintsNothing(t *testing.T) {
	p, out, errb := newPrinter(Printer{TTY: true, NoHeaders: true})
	if err := p.Print(nil, productTable(nil)); err != nil {
		t.Fatal(err)
	}
	if out.Len()+errb.Len() != 0 {
		t.Errorf("stdout %q, stderr %q: want nothing", out, errb)
	}
}

func TestCSVFormulaSafety(t *testing.T) {
	cases := []struct{ in, want string }{
		{"=SUM(A1)", "'=SUM(A1)"},
		{"+1", "+1"},
		{"-5", "-5"},
		{"+20", "+20"},
		{"-3.50", "-3.50"},
		{"-.5", "-.5"},
		{"-1e3", "-1e3"},
		{"@x", "'@x"},
		{"-abc", "'-abc"},
		{"-", "'-"},
		{"+", "'+"},
		{"-1,5", "'-1,5"},
		{"-5 ", "'-5 "},
		{"+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"},
		{"\tx", "'\tx"},
		{"\r=1", "'\r=1"},
		{"12", "12"},
		{"a=b", "a=b"},
	}
	if got := csvCell(""); got != "" {
		t.Errorf("csvCell(\"\") = %q", got)
	}
	var rows [][]string
	for _, c := range cases {
		if got := csvCell(c.in); got != c.want {
			t.Errorf("csvCell(%q) = %q, want %q", c.in, got, c.want)
		}
		rows = append(rows, []string{c.in})
	}

	p, out, _ := newPrinter(Printer{Format: FormatCSV})
	if err := p.Print(nil, Table{Header: []string{"value"}, Rows: rows}); err != nil {
		t.Fatal(err)
	}
	golden(t, "csv_formula", out.String())

	// What a spreadsheet reads back is the neutralised text.
	recs, err := csv.NewReader(strings.NewReader(out.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		if got := recs[i+1][0]; got != c.want {
			t.Errorf("row %d read back as %q, want %q", i+1, got, c.want)
		}
	}
	if rows[0][0] != "=SUM(A1)" {
		t.Errorf("caller's row changed to %q", rows[0][0])
	}
}

// awkward holds cells with tabs, line breaks and a terminal escape.
func awkward() Table {
	return Table{
		Header: []string{"sku", "title", "stock"},
		Right:  []bool{false, false, true},
		Rows: [][]string{
			{"TAB-1", "left\tright", "1"},
			{"NL-2", "line one\nline two", "2"},
			{"CRLF-3", "dos\r\nline", "3"},
			{"ESC-4", "\x1b[31mred\x1b[0m", "4"},
		},
	}
}

func TestCellsWithTabsAndNewlines(t *testing.T) {
	for _, m := range modes[:4] { // json prints the caller's value, not cells
		t.Run(m.name, func(t *testing.T) {
			p, out, _ := newPrinter(m.printer)
			if err := p.Print(nil, awkward()); err != nil {
				t.Fatal(err)
			}
			golden(t, "cells_"+m.name, out.String())
		})
	}
}

func TestTSVCellsStayOnOneLineAndColumn(t *testing.T) {
	p, out, _ := newPrinter(Printer{})
	if err := p.Print(nil, awkward()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d lines, want 5:\n%s", len(lines), out)
	}
	for _, l := range lines {
		if n := strings.Count(l, "\t"); n != 2 {
			t.Errorf("line %q has %d tabs, want 2", l, n)
		}
	}
	if lines[3] != "CRLF-3\tdos line\t3" {
		t.Errorf("CRLF row = %q", lines[3])
	}
}

func TestTTYTableSendsNoControlCharacters(t *testing.T) {
	p, out, _ := newPrinter(Printer{TTY: true})
	if err := p.Print(nil, awkward()); err != nil {
		t.Fatal(err)
	}
	for _, r := range strings.TrimSuffix(out.String(), "\n") {
		if r < 0x20 && r != '\n' || r == 0x7f {
			t.Fatalf("control character %U in terminal table:\n%s", r, out)
		}
	}
	// header, 4 rows, 3 rules: one line per row
	if n := strings.Count(out.String(), "\n"); n != 8 {
		t.Errorf("%d lines, want 8:\n%s", n, out)
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"table": FormatTable, "json": FormatJSON, "csv": FormatCSV, " JSON ": FormatJSON} {
		got, err := ParseFormat(in)
		if err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "yaml", "tsv"} {
		_, err := ParseFormat(in)
		if !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), "table, json, csv") {
			t.Errorf("ParseFormat(%q) error = %v", in, err)
		}
	}
}

func TestUnknownFormatIsAnError(t *testing.T) {
	p, out, _ := newPrinter(Printer{Format: "yaml"})
	if err := p.Print(nil, Table{}); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("Print: %v", err)
	}
	if err := p.Object(nil, nil); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("Object: %v", err)
	}
	s := p.Stream([]string{"a"}, nil)
	if err := s.Row(nil, []string{"x"}); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("Row: %v", err)
	}
	if err := s.Close(); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("Close: %v", err)
	}
	if out.Len() != 0 {
		t.Errorf("wrote %q", out)
	}
}

func TestMessages(t *testing.T) {
	p, out, errb := newPrinter(Printer{})
	p.Messagef("imported %d rows", 3)
	p.Messagef("done\n")
	p.Warnf("column %q ignored", "colour")
	if want := "imported 3 rows\ndone\ninv: warning: column \"colour\" ignored\n"; errb.String() != want {
		t.Errorf("stderr = %q, want %q", errb, want)
	}
	if out.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", out)
	}

	p, _, errb = newPrinter(Printer{Quiet: true})
	p.Messagef("imported %d rows", 3)
	p.Warnf("careful")
	if want := "inv: warning: careful\n"; errb.String() != want {
		t.Errorf("quiet stderr = %q, want %q", errb, want)
	}
}

// failWriter accepts limit bytes, then fails every write.
type failWriter struct {
	limit int
	n     int
}

var errDiskFull = errors.New("no space left on device")

func (w *failWriter) Write(b []byte) (int, error) {
	if w.n+len(b) > w.limit {
		k := w.limit - w.n
		w.n = w.limit
		return k, errDiskFull
	}
	w.n += len(b)
	return len(b), nil
}

func TestWriteErrorsAreReturned(t *testing.T) {
	ps := products()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			for _, limit := range []int{0, 10} {
				p := m.printer
				p.Out, p.Err = &failWriter{limit: limit}, io.Discard
				if err := p.Print(ps, productTable(ps)); !errors.Is(err, errDiskFull) {
					t.Errorf("Print, limit %d: %v", limit, err)
				}
				p.Out = &failWriter{limit: limit}
				if err := p.Object(ps[0], objectFields(ps[0])); !errors.Is(err, errDiskFull) {
					t.Errorf("Object, limit %d: %v", limit, err)
				}
			}
		})
	}
}

func TestClosedPipeIsAnError(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			r, w := io.Pipe()
			r.Close() // the reader went away, like `inv product list | head -1`
			p := m.printer
			p.Out, p.Err = w, io.Discard
			ps := products()
			if err := p.Print(ps, productTable(ps)); !errors.Is(err, io.ErrClosedPipe) {
				t.Errorf("Print: %v", err)
			}
			s := p.Stream(productTable(nil).Header, nil)
			var err error
			for i := 0; i < 5000 && err == nil; i++ {
				err = s.Row(ps[0], productRow(ps[0]))
			}
			if cerr := s.Close(); err == nil {
				err = cerr
			}
			if !errors.Is(err, io.ErrClosedPipe) {
				t.Errorf("Stream: %v", err)
			}
		})
	}
}
