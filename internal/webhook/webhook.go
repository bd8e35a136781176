// Package webhook delivers the events of the outbox: it builds the body the
// store API defines, signs it, posts it, and reschedules what failed with
// exponential backoff and jitter. Where the events live is the Queue's
// business (the engine's outbox tables).
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"time"
)

// Event types inv emits.
var EventTypes = []string{
	"product.created", "product.updated", "product.deleted",
	"inventory.low_stock", "inventory.out_of_stock",
	"order.created", "order.updated", "order.cancelled",
}

// ValidPattern checks an event subscription: a known type, a "product.*"
// style wildcard over a known prefix, or "*".
func ValidPattern(p string) error {
	if p == "*" {
		return nil
	}
	for _, t := range EventTypes {
		if p == t {
			return nil
		}
		if prefix, ok := strings.CutSuffix(p, ".*"); ok && strings.HasPrefix(t, prefix+".") {
			return nil
		}
	}
	return fmt.Errorf("unknown event %q: use one of %s, a wildcard such as product.* or inventory.*, or *", p, strings.Join(EventTypes, ", "))
}

// Matches reports whether pattern subscribes to event type t.
func Matches(pattern, t string) bool {
	if pattern == "*" || pattern == t {
		return true
	}
	prefix, ok := strings.CutSuffix(pattern, ".*")
	return ok && strings.HasPrefix(t, prefix+".")
}

// ValidURL checks an endpoint URL: http or https, with a host.
func ValidURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("webhook URL %q must be an http:// or https:// URL with a host", s)
	}
	return nil
}

// NewSecret returns a signing secret: "whsec_" and 32 random characters.
func NewSecret() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 32)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic(err)
		}
		b[i] = alphabet[n.Int64()]
	}
	return "whsec_" + string(b)
}

// MinSecretLen is the shortest secret accepted.
const MinSecretLen = 16

// Job is one event to deliver to one endpoint.
type Job struct {
	WebhookPK, EventPK int64
	WebhookID, URL     string
	Secret             string
	EventID, Type      string
	StoreID            string
	Payload            json.RawMessage
	CreatedAt          time.Time
	Attempts           int // attempts made before this one
}

// Key names a job (endpoint and event) for Queue.Due's skip list.
func (j Job) Key() string { return fmt.Sprintf("%d:%d", j.WebhookPK, j.EventPK) }

// Body is the JSON posted for an event. The guides call the type "type";
// their sample handler reads "event": both are sent.
func Body(j Job) []byte {
	b, _ := json.Marshal(struct {
		ID        string          `json:"id"`
		Type      string          `json:"type"`
		Event     string          `json:"event"`
		Timestamp string          `json:"timestamp"`
		StoreID   string          `json:"storeId"`
		Data      json.RawMessage `json:"data"`
	}{j.EventID, j.Type, j.Type, j.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00"), j.StoreID, j.Payload})
	return b
}

// Sign returns the X-Webhook-Signature value for a body sent at unix time
// t: "t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>".
func Sign(secret string, t int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.", t)
	mac.Write(body)
	return fmt.Sprintf("t=%d,v1=%s", t, hex.EncodeToString(mac.Sum(nil)))
}

// Verify checks a signature header against a body, as a receiver does, and
// refuses timestamps further than tolerance from now.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var t int64
	var v1 string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			if _, err := fmt.Sscan(v, &t); err != nil {
				return fmt.Errorf("bad timestamp in signature header")
			}
		case "v1":
			v1 = v
		}
	}
	if t == 0 || v1 == "" {
		return fmt.Errorf("signature header must be t=…,v1=…")
	}
	if d := now.Sub(time.Unix(t, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("signature timestamp is %v away from now", d.Round(time.Second))
	}
	want := Sign(secret, t, body)
	if !hmac.Equal([]byte(want[strings.Index(want, "v1=")+3:]), []byte(v1)) {
		return fmt.Errorf("signature does not match")
	}
	return nil
}

// Backoff is the wait after the n-th failed attempt (n ≥ 1): 250 ms
// doubling, at most an hour, with ±20 % jitter so that endpoints coming back
// are not hit by every sender at once.
func Backoff(n int, jitter func() float64) time.Duration {
	d := 250 * time.Millisecond
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	if d > time.Hour {
		d = time.Hour
	}
	return time.Duration(float64(d) * (0.8 + 0.4*jitter()))
}

// ctxSleep waits d or until ctx is done.
func ctxSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
