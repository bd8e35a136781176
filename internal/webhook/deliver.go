package webhook

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/go-resty/resty/v2"
)

// Result is what one attempt got.
type Result struct {
	Status    int
	Latency   time.Duration
	Err       string
	Delivered bool   // only a 2xx answer counts
	Body      string // the start of the receiver's answer
}

// Queue is where jobs come from and results go to.
type Queue interface {
	// Due returns jobs that may be attempted now: for each endpoint and
	// subject only the oldest pending event, so a product's events go out in
	// the order they happened. With all, backoff waits are ignored. Jobs
	// whose key (Job.Key) is in skip are left out.
	Due(ctx context.Context, all bool, skip []string, limit int) ([]Job, error)
	// NextDue is the earliest time a pending job may be attempted.
	NextDue(ctx context.Context) (time.Time, bool, error)
	// Record stores an attempt; a failed job is tried again at retryAt.
	Record(ctx context.Context, j Job, r Result, retryAt time.Time) error
}

// Options control a delivery run.
type Options struct {
	Budget time.Duration // stop starting attempts after this long
	// All sends every pending event now, ignoring backoff waits (an
	// operator's `inv webhook deliver`); each is attempted at most once.
	All       bool
	UserAgent string
	Timeout   time.Duration // per attempt; default 10 s
	Now       func() time.Time
}

// Summary counts a run.
type Summary struct {
	Attempts  int `json:"attempts"`
	Delivered int `json:"delivered"`
	Failed    int `json:"failed"`
}

// Client posts events. It never retries by itself (the queue does, with
// backoff, across runs) and never follows redirects: only 2xx counts.
type Client struct {
	r   *resty.Client
	now func() time.Time
	ua  string
}

type quietLogger struct{}

func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Debugf(string, ...any) {}

// NewClient returns a client with a per-attempt timeout.
func NewClient(timeout time.Duration, userAgent string, now func() time.Time) *Client {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	if now == nil {
		now = time.Now
	}
	r := resty.New().SetTimeout(timeout).SetRetryCount(0).SetLogger(quietLogger{}).
		SetRedirectPolicy(resty.NoRedirectPolicy())
	return &Client{r: r, now: now, ua: userAgent}
}

// Send posts one job and reports what happened.
func (c *Client) Send(ctx context.Context, j Job) Result {
	body := Body(j)
	start := time.Now()
	resp, err := c.r.R().SetContext(ctx).
		SetHeader("Content-Type", "application/json").
		SetHeader("User-Agent", c.ua).
		SetHeader("X-Webhook-Id", j.EventID).
		SetHeader("X-Webhook-Signature", Sign(j.Secret, c.now().Unix(), body)).
		SetBody(body). // []byte: re-sent whole if resty ever retried
		Post(j.URL)
	res := Result{Latency: time.Since(start)}
	if resp != nil && resp.RawResponse != nil {
		res.Status = resp.StatusCode()
		b := resp.Body()
		if len(b) > 512 {
			b = b[:512]
		}
		res.Body = string(b)
	}
	switch {
	case err != nil && res.Status == 0:
		res.Err = err.Error()
	case res.Status >= 200 && res.Status < 300:
		res.Delivered = true
	default:
		res.Err = fmt.Sprintf("HTTP %d %s", res.Status, http.StatusText(res.Status))
	}
	return res
}

// Deliver sends due jobs until none are left or the budget is spent. When a
// job fails, later events of the same subject wait for it.
func Deliver(ctx context.Context, q Queue, c *Client, o Options) (Summary, error) {
	var s Summary
	if o.Now == nil {
		o.Now = time.Now
	}
	deadline := o.Now().Add(o.Budget)
	// In All mode each event is tried once per run: one that failed is not
	// tried again (its later events wait, by the queue's ordering).
	var blocked []string
	for o.Now().Before(deadline) {
		if err := ctx.Err(); err != nil {
			return s, err
		}
		todo, err := q.Due(ctx, o.All, blocked, 200)
		if err != nil {
			return s, err
		}
		if len(todo) == 0 {
			if o.All {
				return s, nil
			}
			next, ok, err := q.NextDue(ctx)
			if err != nil || !ok || !next.Before(deadline) {
				return s, err
			}
			if err := ctxSleep(ctx, time.Until(next)); err != nil {
				return s, err
			}
			continue
		}
		for _, j := range todo {
			if !o.Now().Before(deadline) {
				break
			}
			// The budget bounds a hanging receiver too, not only the start of attempts.
			attemptCtx, cancel := context.WithDeadline(ctx, deadline)
			r := c.Send(attemptCtx, j)
			cancel()
			s.Attempts++
			retry := o.Now().Add(Backoff(j.Attempts+1, rand.Float64))
			if r.Delivered {
				s.Delivered++
			} else {
				s.Failed++
				if o.All {
					blocked = append(blocked, j.Key())
				}
			}
			if err := q.Record(context.WithoutCancel(ctx), j, r, retry); err != nil {
				return s, err
			}
		}
	}
	return s, nil
}
