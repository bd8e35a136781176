package output

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

// fakeClock moves step forward each time it is read.
type fakeClock struct {
	t    time.Time
	step time.Duration
}

func (c *fakeClock) now() time.Time {
	c.t = c.t.Add(c.step)
	return c.t
}

func newTestProgress(w io.Writer, label string, total int64, enabled bool, step time.Duration) *Progress {
	p := NewProgress(w, label, total, enabled)
	p.now = (&fakeClock{t: time.Unix(0, 0), step: step}).now
	p.start = time.Unix(0, 0)
	return p
}

func TestProgressDisabledWritesNothing(t *testing.T) {
	var w bytes.Buffer
	p := newTestProgress(&w, "importing", 100, false, time.Second)
	for i := 0; i < 100; i++ {
		p.Add(1)
	}
	p.Set(50)
	r := p.Reader(strings.NewReader("sku,qty\nA,1\n"))
	if _, err := io.ReadAll(r); err != nil {
		t.Fatal(err)
	}
	p.Done()
	if w.Len() != 0 {
		t.Errorf("disabled progress wrote %q", w.String())
	}

	var nilp *Progress // safe to call, like a disabled one
	nilp.Add(1)
	nilp.Set(1)
	nilp.Done()
	if nilp.Reader(strings.NewReader("x")) == nil {
		t.Error("nil progress returned a nil reader")
	}
}

func TestProgressRedrawsAtMostTenTimesASecond(t *testing.T) {
	const n = 1_000_000
	var w bytes.Buffer
	// 1µs per Add: the million Adds take one (fake) second.
	p := newTestProgress(&w, "importing", n, true, time.Microsecond)
	for i := 0; i < n; i++ {
		p.Add(1)
	}
	p.Done()
	got := w.String()
	draws := strings.Count(got, "\r")
	// first draw, one per 100ms over 1s, the final one from Done
	if draws < 2 || draws > 12 {
		t.Errorf("%d redraws for %d Adds over 1s, want at most 12", draws, n)
	}
	if !strings.HasSuffix(got, "\rimporting [########################] 100% 1000000/1000000\n") {
		t.Errorf("final line = %q", got[strings.LastIndex(got, "\r"):])
	}
	if strings.Count(got, "\n") != 1 {
		t.Errorf("progress used more than one line: %q", got)
	}
}

func TestProgressLine(t *testing.T) {
	var w bytes.Buffer
	p := newTestProgress(&w, "importing", 1000, true, time.Second)
	p.Set(250)
	p.Add(250)
	p.Done()
	p.Done() // twice is harmless
	want := "\rimporting [######..................]  25% 250/1000" +
		"\rimporting [############............]  50% 500/1000" +
		"\rimporting [############............]  50% 500/1000\n"
	if w.String() != want {
		t.Errorf("got  %q\nwant %q", w.String(), want)
	}
}

func TestProgressUnknownTotal(t *testing.T) {
	var w bytes.Buffer
	p := newTestProgress(&w, "reading", 0, true, time.Second)
	p.Add(7)
	p.Done()
	if want := "\rreading 7\rreading 7\n"; w.String() != want {
		t.Errorf("got %q, want %q", w.String(), want)
	}
}

func TestProgressReaderCountsBytes(t *testing.T) {
	var w bytes.Buffer
	data := strings.Repeat("x", 3<<20) // 3 MiB
	p := newTestProgress(&w, "reading", int64(len(data)), true, time.Second)
	n, err := io.Copy(io.Discard, p.Reader(strings.NewReader(data)))
	if err != nil || n != int64(len(data)) {
		t.Fatalf("copied %d, %v", n, err)
	}
	p.Done()
	got := w.String()
	// Trailing spaces blank what a longer earlier line ("32.0 KiB") left.
	if !strings.HasSuffix(strings.TrimRight(got, " \n"), "100% 3.0 MiB/3.0 MiB") {
		t.Errorf("final line = %q", got[strings.LastIndex(got, "\r"):])
	}
}

// A shorter line must blank what the longer one before it left.
func TestProgressBlanksLeftovers(t *testing.T) {
	var w bytes.Buffer
	p := newTestProgress(&w, "reading", 0, true, time.Second)
	p.Set(12345)
	p.Set(1)
	p.Done()
	if want := "\rreading 12345\rreading 1    \rreading 1    \n"; w.String() != want {
		t.Errorf("got %q, want %q", w.String(), want)
	}
}

// If stderr goes away, the work goes on and progress goes quiet.
func TestProgressWriteErrorStopsDrawing(t *testing.T) {
	fw := &failWriter{limit: 0}
	p := newTestProgress(fw, "importing", 10, true, time.Second)
	for i := 0; i < 10; i++ {
		p.Add(1)
	}
	p.Done()
	if fw.n != 0 {
		t.Errorf("wrote %d bytes", fw.n)
	}
}

func TestPrinterProgressOnlyOnATerminalAndNotQuiet(t *testing.T) {
	for _, c := range []struct {
		errTTY, quiet, draws bool
	}{{true, false, true}, {false, false, false}, {true, true, false}} {
		var w bytes.Buffer
		p := &Printer{Out: io.Discard, Err: &w, ErrTTY: c.errTTY, Quiet: c.quiet}
		bar := p.Progress("importing", 2)
		bar.start = bar.start.Add(-time.Second) // long-running work: the bar is due
		bar.Add(2)
		bar.Done()
		if got := w.Len() > 0; got != c.draws {
			t.Errorf("ErrTTY %v, Quiet %v: drew %v, want %v (%q)", c.errTTY, c.quiet, got, c.draws, w.String())
		}
	}
}

// Work that ends before the bar is due leaves nothing on the terminal, not
// even an empty line: a small import's messages stay clean.
func TestProgressQuickWorkDrawsNothing(t *testing.T) {
	var w bytes.Buffer
	p := newTestProgress(&w, "reading", 1000, true, time.Millisecond)
	p.Add(500)
	p.Add(500)
	p.Done()
	if w.Len() != 0 {
		t.Errorf("a 2ms job drew %q", w.String())
	}
}
