package output

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// progressInterval is the shortest time between two redraws: about ten a
// second is smooth to the eye and costs nothing next to the work measured.
const progressInterval = 100 * time.Millisecond

const progressBarWidth = 24

// progressDelay: nothing is drawn for work that ends sooner. A small file
// leaves no bar behind, and the messages printed as it starts stay on lines
// of their own.
const progressDelay = 300 * time.Millisecond

// Progress is a one-line progress bar on stderr, redrawn in place with "\r"
// at most about ten times a second. A disabled Progress (and a nil one)
// writes nothing at all; callers enable it only when stderr is a terminal
// and -q was not given. Its methods are safe for concurrent use.
type Progress struct {
	w       io.Writer
	label   string
	total   int64 // <= 0: unknown, no bar or percent
	enabled bool
	now     func() time.Time // the clock; tests replace it
	start   time.Time

	mu     sync.Mutex
	n      int64
	bytes  bool      // counts are bytes (Reader was used): shown as KiB, MiB...
	drawn  bool      // at least one line drawn
	last   time.Time // when the last line was drawn
	width  int       // runes in the last line, to blank what a shorter one leaves
	closed bool      // Done was called, or writing failed
}

// NewProgress returns a progress bar labelled label counting up to total
// (0 or less when unknown), drawn on w only if enabled.
func NewProgress(w io.Writer, label string, total int64, enabled bool) *Progress {
	return &Progress{w: w, label: label, total: total, enabled: enabled && w != nil, now: time.Now, start: time.Now()}
}

// Progress returns a progress bar on the printer's stderr, drawn only when
// stderr is a terminal and Quiet is off: never in pipes, logs or with -q.
func (p *Printer) Progress(label string, total int64) *Progress {
	return NewProgress(p.Err, label, total, p.ErrTTY && !p.Quiet)
}

// Add counts n more units done.
func (p *Progress) Add(n int64) {
	if p == nil || !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n += n
	p.tick()
}

// Set sets the count of units done.
func (p *Progress) Set(n int64) {
	if p == nil || !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n = n
	p.tick()
}

// Done draws the final state and ends the line, so what follows on stderr
// starts on a line of its own. Later calls do nothing.
func (p *Progress) Done() {
	if p == nil || !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	if p.drawn { // (work that finished before the bar was due drew nothing to end)
		p.draw(p.now())
		p.write("\n")
	}
	p.closed = true
}

// Reader returns a reader that counts the bytes read from r as progress,
// which is then shown in KiB, MiB or GiB. Disabled, it returns r itself.
func (p *Progress) Reader(r io.Reader) io.Reader {
	if p == nil || !p.enabled {
		return r
	}
	p.mu.Lock()
	p.bytes = true
	p.mu.Unlock()
	return &progressReader{r: r, p: p}
}

type progressReader struct {
	r io.Reader
	p *Progress
}

func (pr *progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	if n > 0 {
		pr.p.Add(int64(n))
	}
	return n, err
}

// tick redraws if the last line is old enough. Called with mu held.
func (p *Progress) tick() {
	if p.closed {
		return
	}
	now := p.now()
	if !p.drawn && now.Sub(p.start) < progressDelay {
		return
	}
	if p.drawn && now.Sub(p.last) < progressInterval {
		return
	}
	p.draw(now)
}

// draw writes the current line over the previous one. Called with mu held.
func (p *Progress) draw(now time.Time) {
	line := p.line()
	w := utf8.RuneCountInString(line)
	if w < p.width {
		line += strings.Repeat(" ", p.width-w)
	}
	p.width = max(p.width, w)
	p.drawn = true
	p.last = now
	p.write("\r" + line)
}

// write sends s to the terminal. If stderr is gone there is nobody to show
// progress to, so the bar closes itself instead of failing the work.
// Called with mu held.
func (p *Progress) write(s string) {
	if p.closed {
		return
	}
	if _, err := io.WriteString(p.w, s); err != nil {
		p.closed = true
	}
}

// line is the text of the bar, e.g.
// "importing [############............]  50% 500/1000".
func (p *Progress) line() string {
	if p.total <= 0 {
		return fmt.Sprintf("%s %s", p.label, p.count(p.n))
	}
	done := min(max(p.n, 0), p.total)
	filled := int(done * progressBarWidth / p.total)
	pct := done * 100 / p.total
	return fmt.Sprintf("%s [%s%s] %3d%% %s/%s", p.label,
		strings.Repeat("#", filled), strings.Repeat(".", progressBarWidth-filled),
		pct, p.count(p.n), p.count(p.total))
}

// count formats a number of units: plain for rows, binary units for bytes.
func (p *Progress) count(n int64) string {
	if !p.bytes {
		return fmt.Sprint(n)
	}
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f := float64(n) / unit
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		if f < unit || u == "TiB" {
			return fmt.Sprintf("%.1f %s", f, u)
		}
		f /= unit
	}
	return fmt.Sprint(n) // not reached
}
