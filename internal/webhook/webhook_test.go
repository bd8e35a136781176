package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// --- signing ---------------------------------------------------------------

// refSign is the receiver's side of the signature, written from API.md with
// nothing but the standard library: hex(HMAC-SHA256(secret, "<t>.<raw body>")).
func refSign(secret string, t int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(t, 10) + "."))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

func TestSignKnownAnswer(t *testing.T) {
	const secret = "whsec_test_0123456789abcdef"
	body := []byte(`{"id":"evt_1","type":"product.updated"}`)
	// Computed outside Go: python3 -c "import hmac,hashlib; print(hmac.new(
	//   b'whsec_test_0123456789abcdef', b'1700000000.' + body, hashlib.sha256).hexdigest())"
	const want = "t=1700000000,v1=4e97cbc06b5a8eeb448837cfc9fdcd3048fd845f22399d34a9849ff6ed38788e"
	if got := Sign(secret, 1700000000, body); got != want {
		t.Fatalf("Sign = %s\nwant   %s", got, want)
	}
	if got := "t=1700000000,v1=" + refSign(secret, 1700000000, body); got != want {
		t.Fatalf("the test's own HMAC disagrees with the vector: %s", got)
	}
	// Any secret, time and body: Sign is exactly the reference construction.
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		secret := fmt.Sprintf("secret-%d-%x", i, r.Uint64())
		ts := r.Int64N(4_000_000_000) + 1
		body := make([]byte, r.IntN(300))
		for j := range body {
			body[j] = byte(r.UintN(256))
		}
		want := fmt.Sprintf("t=%d,v1=%s", ts, refSign(secret, ts, body))
		if got := Sign(secret, ts, body); got != want {
			t.Fatalf("case %d: Sign = %s, want %s", i, got, want)
		}
	}
}

func TestSignVerifyRoundTripAndRejections(t *testing.T) {
	const secret = "whsec_round_trip_secret_123"
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"evt_x","type":"inventory.low_stock","event":"inventory.low_stock","data":{"stock":3}}`)
	h := Sign(secret, now.Unix(), body)
	if err := Verify(secret, h, body, now, 5*time.Minute); err != nil {
		t.Fatalf("round trip: %v", err)
	}
	// Receivers may be lenient about spaces after the comma.
	if err := Verify(secret, strings.Replace(h, ",", ", ", 1), body, now, 5*time.Minute); err != nil {
		t.Fatalf("with a space after the comma: %v", err)
	}
	// Within the tolerance on both sides.
	if err := Verify(secret, h, body, now.Add(4*time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("4 min later: %v", err)
	}
	if err := Verify(secret, h, body, now.Add(-4*time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("4 min earlier (clock skew): %v", err)
	}
	changed := []byte(strings.Replace(string(body), `"stock":3`, `"stock":4`, 1))
	oneByte := append([]byte{}, body...)
	oneByte[len(oneByte)-2] ^= 1
	cases := map[string]struct {
		secret, header string
		body           []byte
		now            time.Time
	}{
		"changed body":         {secret, h, changed, now},
		"one bit flipped":      {secret, h, oneByte, now},
		"trailing newline":     {secret, h, append(append([]byte{}, body...), '\n'), now},
		"wrong secret":         {secret + "x", h, body, now},
		"old timestamp":        {secret, h, body, now.Add(6 * time.Minute)},
		"future timestamp":     {secret, h, body, now.Add(-6 * time.Minute)},
		"replayed old header":  {secret, Sign(secret, now.Add(-time.Hour).Unix(), body), body, now},
		"timestamp swapped":    {secret, strings.Replace(h, fmt.Sprint(now.Unix()), fmt.Sprint(now.Unix()+1), 1), body, now},
		"no v1":                {secret, fmt.Sprintf("t=%d", now.Unix()), body, now},
		"no t":                 {secret, h[strings.Index(h, "v1="):], body, now},
		"empty header":         {secret, "", body, now},
		"garbage t":            {secret, "t=abc," + h[strings.Index(h, "v1="):], body, now},
		"v1 of another secret": {secret, Sign("another-secret-0123456", now.Unix(), body), body, now},
		"truncated v1":         {secret, h[:len(h)-2], body, now},
	}
	for name, c := range cases {
		if err := Verify(c.secret, c.header, c.body, c.now, 5*time.Minute); err == nil {
			t.Errorf("%s: Verify accepted it", name)
		}
	}
}

// --- body ------------------------------------------------------------------

func TestWebhookBodyHasTypeAndEventAndDataVerbatim(t *testing.T) {
	data := `{"id":"prod_1","stock":9,"lowStockThreshold":10,"price":"199.99","compareAtPrice":null,"attributes":{"z":"1","a":"2"},"title":"Café \"quoted\" <b>"}`
	j := Job{EventID: "evt_abc", Type: "inventory.low_stock", StoreID: "shop_1", Payload: json.RawMessage(data),
		CreatedAt: time.Date(2026, 12, 3, 16, 43, 42, 123_456_789, time.FixedZone("CET", 3600))}
	b := Body(j)
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, b)
	}
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if got := strings.Join(keys, ","); got != "data,event,id,storeId,timestamp,type" {
		t.Errorf("top-level keys = %s", got)
	}
	str := func(k string) string {
		var s string
		if err := json.Unmarshal(top[k], &s); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		return s
	}
	if str("id") != "evt_abc" || str("type") != "inventory.low_stock" || str("event") != "inventory.low_stock" || str("storeId") != "shop_1" {
		t.Errorf("body = %s", b)
	}
	// API timestamps: RFC 3339, UTC, milliseconds.
	if got := str("timestamp"); got != "2026-12-03T15:43:42.123Z" {
		t.Errorf("timestamp = %q, want 2026-12-03T15:43:42.123Z", got)
	}
	// encoding/json escapes <, > and & inside the raw payload (\u003c): the
	// same JSON value, and the signature covers the bytes actually sent.
	var gotData, wantData any
	if err := json.Unmarshal(top["data"], &gotData); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal([]byte(data), &wantData)
	if fmt.Sprint(gotData) != fmt.Sprint(wantData) || !strings.Contains(string(top["data"]), `"attributes":{"z":"1","a":"2"}`) {
		t.Errorf("data is not the payload:\n got %s\nwant %s", top["data"], data)
	}
	// Without HTML characters the payload goes out byte for byte.
	plain := `{"id":"prod_1","stock":9,"lowStockThreshold":null,"trackStock":true,"title":"Café \"quoted\"","attributes":{"z":"1","a":"2"}}`
	j.Payload = json.RawMessage(plain)
	if b := Body(j); !strings.Contains(string(b), `,"data":`+plain+`}`) {
		t.Errorf("data is not the payload verbatim:\n%s", b)
	}
	// The field order of the body is the documented one.
	if b := Body(j); !strings.HasPrefix(string(b), `{"id":"evt_abc","type":"inventory.low_stock","event":"inventory.low_stock","timestamp":`) {
		t.Errorf("body starts %.90s", b)
	}
}

// --- backoff ---------------------------------------------------------------

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	mid := func() float64 { return 0.5 } // no jitter: factor 1.0
	want := 250 * time.Millisecond
	prev := time.Duration(0)
	for n := 1; n <= 60; n++ {
		got := Backoff(n, mid)
		if got < prev {
			t.Fatalf("Backoff(%d) = %v < Backoff(%d) = %v", n, got, n-1, prev)
		}
		if got != want {
			t.Fatalf("Backoff(%d) = %v, want %v", n, got, want)
		}
		prev = got
		want *= 2
		if want > time.Hour {
			want = time.Hour
		}
	}
	if Backoff(1, mid) != 250*time.Millisecond || Backoff(2, mid) != 500*time.Millisecond || Backoff(5, mid) != 4*time.Second {
		t.Errorf("first steps: %v %v %v", Backoff(1, mid), Backoff(2, mid), Backoff(5, mid))
	}
	for _, n := range []int{15, 16, 30, 64, 1000, 1 << 30} {
		if got := Backoff(n, mid); got != time.Hour {
			t.Errorf("Backoff(%d) = %v, want the 1h cap", n, got)
		}
		lo, hi := Backoff(n, func() float64 { return 0 }), Backoff(n, func() float64 { return 0.999999 })
		if lo != 48*time.Minute || hi < 71*time.Minute || hi > 72*time.Minute {
			t.Errorf("Backoff(%d) with jitter extremes = %v .. %v, want 48m .. 72m (1h ±20%%)", n, lo, hi)
		}
	}
}

func TestBackoffJitterBounds(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for n := 1; n <= 20; n++ {
		base := Backoff(n, func() float64 { return 0.5 })
		seen := map[time.Duration]bool{}
		for range 200 {
			d := Backoff(n, r.Float64)
			if d < base*8/10 || d > base*12/10 {
				t.Fatalf("Backoff(%d) = %v outside %v ±20%%", n, d, base)
			}
			seen[d] = true
		}
		if len(seen) < 50 {
			t.Errorf("Backoff(%d): only %d distinct waits in 200 draws: no real jitter", n, len(seen))
		}
	}
}

// --- subscriptions ---------------------------------------------------------

func TestWebhookValidPatternAndMatches(t *testing.T) {
	for _, p := range append([]string{"*", "product.*", "inventory.*", "order.*"}, EventTypes...) {
		if err := ValidPattern(p); err != nil {
			t.Errorf("ValidPattern(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"", "product", "product.", ".*", "**", "product.**", "products.*", "foo.*", "foo.bar",
		"Product.updated", "inventory.low_stock.*", "product.updated ", "webhook.test", "*.updated"} {
		if err := ValidPattern(p); err == nil {
			t.Errorf("ValidPattern(%q) accepted an unknown event", p)
		}
	}
	cases := []struct {
		pattern, typ string
		want         bool
	}{
		{"product.*", "product.updated", true},
		{"product.*", "product.created", true},
		{"product.*", "product.deleted", true},
		{"product.*", "inventory.low_stock", false},
		{"product.*", "order.created", false},
		{"inventory.*", "inventory.low_stock", true},
		{"inventory.*", "inventory.out_of_stock", true},
		{"inventory.*", "product.updated", false},
		{"*", "product.updated", true},
		{"*", "inventory.out_of_stock", true},
		{"*", "order.cancelled", true},
		{"inventory.low_stock", "inventory.low_stock", true},
		{"inventory.low_stock", "inventory.out_of_stock", false},
		{"product.updated", "product.created", false},
		{"order.*", "order.updated", true},
	}
	for _, c := range cases {
		if got := Matches(c.pattern, c.typ); got != c.want {
			t.Errorf("Matches(%q, %q) = %v, want %v", c.pattern, c.typ, got, c.want)
		}
	}
}

func TestWebhookValidURLAndSecret(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8080/h", "https://erp.example.com/hooks/inv"} {
		if err := ValidURL(u); err != nil {
			t.Errorf("ValidURL(%q) = %v", u, err)
		}
	}
	for _, u := range []string{"", "ftp://x/y", "http://", "127.0.0.1:80/h", "/hooks"} {
		if err := ValidURL(u); err == nil {
			t.Errorf("ValidURL(%q) accepted it", u)
		}
	}
	a, b := NewSecret(), NewSecret()
	if a == b || !strings.HasPrefix(a, "whsec_") || len(a) < MinSecretLen {
		t.Errorf("NewSecret: %q, %q", a, b)
	}
}

// --- delivery loop ---------------------------------------------------------

// memQueue is an in-memory Queue with the contract of the engine's outbox:
// per endpoint and subject only the oldest pending event is due. It exists
// only to test Deliver's loop; the engine tests run the real queue.
type memQueue struct {
	mu      sync.Mutex
	items   []*memItem
	records []memRecord
}

type memItem struct {
	job       Job
	subject   string
	delivered bool
	attempts  int
	next      time.Time
}

type memRecord struct {
	eventID string
	attempt int
	res     Result
	retryAt time.Time
	at      time.Time
}

func (q *memQueue) add(url, secret, subject string, payload string) *memItem {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.items) + 1
	it := &memItem{subject: subject, job: Job{WebhookPK: 1, EventPK: int64(n), WebhookID: "wh_1", URL: url, Secret: secret,
		EventID: fmt.Sprintf("evt_%03d", n), Type: "product.updated", StoreID: "default",
		Payload: json.RawMessage(payload), CreatedAt: time.Now()}}
	q.items = append(q.items, it)
	return it
}

func (q *memQueue) Due(ctx context.Context, all bool, skip []string, limit int) ([]Job, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	skipped := map[string]bool{}
	for _, k := range skip {
		skipped[k] = true
	}
	var out []Job
	blocked := map[string]bool{}
	for _, it := range q.items { // in event order
		if it.delivered {
			continue
		}
		if blocked[it.subject] {
			continue
		}
		blocked[it.subject] = true
		if skipped[it.job.Key()] {
			continue
		}
		if all || !it.next.After(now) {
			j := it.job
			j.Attempts = it.attempts
			out = append(out, j)
			if len(out) == limit {
				break
			}
		}
	}
	return out, nil
}

func (q *memQueue) NextDue(ctx context.Context) (time.Time, bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var next time.Time
	ok := false
	for _, it := range q.items {
		if !it.delivered && (!ok || it.next.Before(next)) {
			next, ok = it.next, true
		}
	}
	return next, ok, nil
}

func (q *memQueue) Record(ctx context.Context, j Job, r Result, retryAt time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, it := range q.items {
		if it.job.EventPK != j.EventPK {
			continue
		}
		it.attempts++
		q.records = append(q.records, memRecord{eventID: j.EventID, attempt: it.attempts, res: r, retryAt: retryAt, at: time.Now()})
		if r.Delivered {
			it.delivered = true
		} else {
			it.next = retryAt
		}
		return nil
	}
	return fmt.Errorf("no job %d", j.EventPK)
}

func (q *memQueue) pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, it := range q.items {
		if !it.delivered {
			n++
		}
	}
	return n
}

// hit is one request a test receiver got.
type hit struct {
	at      time.Time
	path    string
	id      string
	sig     string
	ctype   string
	body    []byte
	sigOK   bool
	eventID string
}

// receiver is an httptest server on loopback that records every request,
// checks its signature, and answers with what answer says for the n-th
// request (1-based).
type receiver struct {
	*httptest.Server
	secret string
	mu     sync.Mutex
	hits   []hit
}

func newReceiver(t *testing.T, secret string, answer func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{secret: secret}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := hit{at: time.Now(), path: r.URL.Path, id: r.Header.Get("X-Webhook-Id"), sig: r.Header.Get("X-Webhook-Signature"),
			ctype: r.Header.Get("Content-Type"), body: body}
		h.sigOK = Verify(secret, h.sig, body, time.Now(), 5*time.Minute) == nil
		var ev struct{ ID string }
		_ = json.Unmarshal(body, &ev)
		h.eventID = ev.ID
		rc.mu.Lock()
		rc.hits = append(rc.hits, h)
		n := len(rc.hits)
		rc.mu.Unlock()
		answer(n, w, r)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) got() []hit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hit{}, rc.hits...)
}

const testSecret = "whsec_deliver_test_secret_0001"

func TestDeliver2xxIsDelivered(t *testing.T) {
	for _, code := range []int{200, 201, 202, 204, 299} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			rc := newReceiver(t, testSecret, func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) })
			q := &memQueue{}
			q.add(rc.URL+"/hook", testSecret, "prod_a", `{"id":"prod_a","stock":5}`)
			q.add(rc.URL+"/hook", testSecret, "prod_b", `{"id":"prod_b","stock":7}`)
			fixed := time.Now()
			c := NewClient(5*time.Second, "inv-test/1", func() time.Time { return fixed })
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s, err := Deliver(ctx, q, c, Options{Budget: 5 * time.Second})
			if err != nil || s != (Summary{Attempts: 2, Delivered: 2}) {
				t.Fatalf("Deliver = %+v, %v", s, err)
			}
			if q.pending() != 0 {
				t.Fatalf("%d still pending", q.pending())
			}
			hits := rc.got()
			if len(hits) != 2 {
				t.Fatalf("receiver got %d requests", len(hits))
			}
			for i, h := range hits {
				want := fmt.Sprintf("evt_%03d", i+1)
				if h.id != want || h.eventID != want || !h.sigOK || h.ctype != "application/json" || h.path != "/hook" {
					t.Errorf("request %d: id %q body id %q sig ok %v content type %q path %q", i, h.id, h.eventID, h.sigOK, h.ctype, h.path)
				}
				if h.sig != Sign(testSecret, fixed.Unix(), h.body) {
					t.Errorf("request %d: signature %q is not Sign(secret, now, raw body)", i, h.sig)
				}
				var ev map[string]any
				_ = json.Unmarshal(h.body, &ev)
				if ev["type"] != "product.updated" || ev["event"] != "product.updated" || ev["storeId"] != "default" {
					t.Errorf("request %d: body %s", i, h.body)
				}
			}
		})
	}
}

func TestDeliverRetries500AfterBackoffWithinBudget(t *testing.T) {
	rc := newReceiver(t, testSecret, func(n int, w http.ResponseWriter, r *http.Request) {
		if n <= 2 {
			http.Error(w, "try later", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	q := &memQueue{}
	q.add(rc.URL, testSecret, "prod_a", `{"id":"prod_a"}`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	s, err := Deliver(ctx, q, NewClient(5*time.Second, "inv-test/1", nil), Options{Budget: 5 * time.Second})
	took := time.Since(start)
	if err != nil || s != (Summary{Attempts: 3, Failed: 2, Delivered: 1}) {
		t.Fatalf("Deliver = %+v, %v", s, err)
	}
	// Waits: 250 ms and 500 ms, each ±20 %.
	if took < 550*time.Millisecond || took > 4*time.Second {
		t.Errorf("three attempts with backoff took %v; want about 0.75 s", took)
	}
	hits := rc.got()
	if len(hits) != 3 {
		t.Fatalf("receiver got %d requests", len(hits))
	}
	for i, h := range hits {
		if h.id != "evt_001" || !h.sigOK {
			t.Errorf("attempt %d: id %q, signature ok %v", i+1, h.id, h.sigOK)
		}
		if i > 0 && string(h.body) != string(hits[0].body) {
			t.Errorf("attempt %d sent another body:\n%s\n%s", i+1, h.body, hits[0].body)
		}
	}
	gaps := []time.Duration{hits[1].at.Sub(hits[0].at), hits[2].at.Sub(hits[1].at)}
	if gaps[0] < 200*time.Millisecond || gaps[1] < 400*time.Millisecond {
		t.Errorf("gaps between attempts %v; want ≥ 200 ms then ≥ 400 ms (250 ms, 500 ms −20 %%)", gaps)
	}
	if len(q.records) != 3 {
		t.Fatalf("%d records", len(q.records))
	}
	for i, r := range q.records[:2] {
		base := Backoff(i+1, func() float64 { return 0.5 })
		if w := r.retryAt.Sub(r.at); w < base*8/10-50*time.Millisecond || w > base*12/10+50*time.Millisecond {
			t.Errorf("record %d: retry after %v, want %v ±20%%", i+1, w, base)
		}
		if r.res.Delivered || r.res.Status != 500 || !strings.Contains(r.res.Err, "500") || r.res.Body != "try later\n" {
			t.Errorf("record %d: %+v", i+1, r.res)
		}
	}
	if r := q.records[2].res; !r.Delivered || r.Status != 200 || r.Err != "" {
		t.Errorf("record 3: %+v", r)
	}
}

func TestDeliverStopsAtBudget(t *testing.T) {
	rc := newReceiver(t, testSecret, func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	q := &memQueue{}
	q.add(rc.URL, testSecret, "prod_a", `{}`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	s, err := Deliver(ctx, q, NewClient(5*time.Second, "inv-test/1", nil), Options{Budget: 1200 * time.Millisecond})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	// 0 → 250 ms → 750 ms → (1.75 s: past the budget) with jitter: 2 or 3 attempts.
	if s.Delivered != 0 || s.Attempts < 2 || s.Attempts > 4 || s.Failed != s.Attempts {
		t.Errorf("Deliver = %+v", s)
	}
	if took > 2*time.Second {
		t.Errorf("a 1.2 s budget took %v", took)
	}
	if q.pending() != 1 {
		t.Errorf("the failed event must stay pending")
	}
}

func TestDeliverDoesNotFollowRedirects(t *testing.T) {
	for _, code := range []int{301, 302, 303, 307, 308} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			var mu sync.Mutex
			followed := 0
			rc := newReceiver(t, testSecret, func(n int, w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/elsewhere" {
					mu.Lock()
					followed++
					mu.Unlock()
					w.WriteHeader(200)
					return
				}
				w.Header().Set("Location", "/elsewhere")
				w.WriteHeader(code)
			})
			q := &memQueue{}
			q.add(rc.URL+"/hook", testSecret, "prod_a", `{}`)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s, err := Deliver(ctx, q, NewClient(5*time.Second, "inv-test/1", nil), Options{Budget: 2 * time.Second, All: true})
			if err != nil || s != (Summary{Attempts: 1, Failed: 1}) {
				t.Fatalf("Deliver = %+v, %v", s, err)
			}
			mu.Lock()
			defer mu.Unlock()
			if followed != 0 {
				t.Errorf("the redirect was followed %d time(s)", followed)
			}
			if q.pending() != 1 || len(q.records) != 1 {
				t.Fatalf("pending %d, records %d", q.pending(), len(q.records))
			}
			if r := q.records[0].res; r.Delivered || r.Status != code || !strings.Contains(r.Err, fmt.Sprint(code)) {
				t.Errorf("result %+v, want a failure with status %d", r, code)
			}
		})
	}
}

func TestDeliverAllModeTriesEachJobOnce(t *testing.T) {
	rc := newReceiver(t, testSecret, func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	q := &memQueue{}
	a1 := q.add(rc.URL, testSecret, "prod_a", `{"n":1}`)
	q.add(rc.URL, testSecret, "prod_a", `{"n":2}`) // waits behind a1
	b1 := q.add(rc.URL, testSecret, "prod_b", `{"n":3}`)
	c1 := q.add(rc.URL, testSecret, "prod_c", `{"n":4}`)
	// Pretend earlier failures scheduled them far in the future: All ignores waits.
	for _, it := range []*memItem{a1, b1, c1} {
		it.next = time.Now().Add(time.Hour)
		it.attempts = 3
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	s, err := Deliver(ctx, q, NewClient(5*time.Second, "inv-test/1", nil), Options{Budget: 10 * time.Minute, All: true})
	if err != nil || s != (Summary{Attempts: 3, Failed: 3}) {
		t.Fatalf("Deliver = %+v, %v", s, err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("All mode waited: %v", took)
	}
	ids := map[string]int{}
	for _, h := range rc.got() {
		ids[h.id]++
	}
	if len(ids) != 3 || ids["evt_001"] != 1 || ids["evt_003"] != 1 || ids["evt_004"] != 1 || ids["evt_002"] != 0 {
		t.Errorf("attempts per event: %v; want evt_001, evt_003, evt_004 once each and evt_002 (behind evt_001) never", ids)
	}
	for _, r := range q.records {
		if r.attempt != 4 {
			t.Errorf("%s: recorded as attempt %d, want 4", r.eventID, r.attempt)
		}
	}
}

func TestDeliverAllModeDeliversEverythingInOrder(t *testing.T) {
	rc := newReceiver(t, testSecret, func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	q := &memQueue{}
	for i := range 30 {
		q.add(rc.URL, testSecret, fmt.Sprintf("prod_%d", i%3), fmt.Sprintf(`{"seq":%d}`, i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Deliver(ctx, q, NewClient(5*time.Second, "inv-test/1", nil), Options{Budget: time.Minute, All: true})
	if err != nil || s != (Summary{Attempts: 30, Delivered: 30}) {
		t.Fatalf("Deliver = %+v, %v", s, err)
	}
	last := map[string]int{}
	for _, h := range rc.got() {
		var ev struct{ Data struct{ Seq int } }
		if err := json.Unmarshal(h.body, &ev); err != nil {
			t.Fatal(err)
		}
		subj := fmt.Sprintf("prod_%d", ev.Data.Seq%3)
		if prev, ok := last[subj]; ok && ev.Data.Seq <= prev {
			t.Errorf("%s: seq %d after %d", subj, ev.Data.Seq, prev)
		}
		last[subj] = ev.Data.Seq
	}
}

func TestDeliverKeepsSubjectOrderAcrossRetries(t *testing.T) {
	// The first event of prod_a fails once; its second must not overtake it,
	// while prod_b goes ahead.
	var mu sync.Mutex
	failed := false
	rc := newReceiver(t, testSecret, func(n int, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("X-Webhook-Id") == "evt_001" && !failed {
			failed = true
			w.WriteHeader(500)
			return
		}
		w.WriteHeader(200)
	})
	q := &memQueue{}
	q.add(rc.URL, testSecret, "prod_a", `{}`)
	q.add(rc.URL, testSecret, "prod_a", `{}`)
	q.add(rc.URL, testSecret, "prod_b", `{}`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Deliver(ctx, q, NewClient(5*time.Second, "inv-test/1", nil), Options{Budget: 5 * time.Second})
	if err != nil || s != (Summary{Attempts: 4, Delivered: 3, Failed: 1}) {
		t.Fatalf("Deliver = %+v, %v", s, err)
	}
	var order []string
	for _, h := range rc.got() {
		order = append(order, h.id)
	}
	if got := strings.Join(order, " "); got != "evt_001 evt_003 evt_001 evt_002" {
		t.Errorf("delivery order %s, want evt_001 evt_003 evt_001 evt_002", got)
	}
}

func TestDeliverSendTimesOutAndCountsNoAnswerAsFailure(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, testSecret, func(n int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	defer close(release)
	c := NewClient(300*time.Millisecond, "inv-test/1", nil)
	start := time.Now()
	r := c.Send(context.Background(), Job{URL: rc.URL, Secret: testSecret, EventID: "evt_t", Type: "product.updated", Payload: json.RawMessage(`{}`)})
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("a 300 ms timeout took %v", took)
	}
	if r.Delivered || r.Status != 0 || r.Err == "" {
		t.Errorf("result %+v, want a failure without status", r)
	}
	// A closed port is a failure too, not an error of Deliver.
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	r = c.Send(context.Background(), Job{URL: url, Secret: testSecret, EventID: "evt_t", Payload: json.RawMessage(`{}`)})
	if r.Delivered || r.Err == "" {
		t.Errorf("closed port: %+v", r)
	}
	// 4xx is not delivered either.
	rc404 := newReceiver(t, testSecret, func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) })
	r = c.Send(context.Background(), Job{URL: rc404.URL, Secret: testSecret, EventID: "evt_t", Payload: json.RawMessage(`{}`)})
	if r.Delivered || r.Status != 404 {
		t.Errorf("404: %+v", r)
	}
}

// The budget bounds the whole run, including an attempt in flight: a
// receiver that hangs must not hold a command for the client's per-attempt
// timeout.
func TestDeliverBudgetBoundsAHangingAttempt(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, testSecret, func(n int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		case <-time.After(15 * time.Second):
		}
	})
	defer close(release)
	q := &memQueue{}
	q.add(rc.URL, testSecret, "prod_a", `{}`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	// The client's own per-attempt timeout is 3 s here (10 s in inv).
	s, err := Deliver(ctx, q, NewClient(3*time.Second, "inv-test/1", nil), Options{Budget: 500 * time.Millisecond})
	took := time.Since(start)
	if took > 2*time.Second {
		t.Errorf("Deliver with a 500 ms budget took %v against a hanging receiver (the attempt is not bounded by the budget)", took)
	}
	if err != nil || s.Delivered != 0 || q.pending() != 1 {
		t.Errorf("Deliver = %+v, %v; pending %d", s, err, q.pending())
	}
}
