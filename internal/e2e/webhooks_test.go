package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Webhooks end to end: real inv processes, a real HTTP receiver on loopback.

// --- an example receiver -----------------------------------------------------
//
// This is all a receiver needs (the README points here): read the raw body,
// check X-Webhook-Signature = "t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>"
// with the standard library, refuse old timestamps, answer 2xx quickly, and
// deduplicate on the event id (delivery is at least once).

// verifyWebhook checks one request's signature over its raw body.
func verifyWebhook(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return errors.New("malformed X-Webhook-Signature")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("timestamp %v away from now: refused (replay?)", d)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body) // the raw bytes, before any JSON decoding
	if !hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(sig)) {
		return errors.New("signature mismatch")
	}
	return nil
}

// whEvent is the delivery body.
type whEvent struct {
	ID        string         `json:"id"`
	Type      string         `json:"type"`
	Event     string         `json:"event"`
	Timestamp string         `json:"timestamp"`
	StoreID   string         `json:"storeId"`
	Data      map[string]any `json:"data"`
}

// whRequest is one request the receiver got.
type whRequest struct {
	headerID string
	sigErr   error
	body     []byte
	ev       whEvent
	code     int // what the receiver answered (0: it was still hanging)
}

// whReceiver records every request, verifies it, and answers per its mode.
type whReceiver struct {
	t      testing.TB
	secret string
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []whRequest
	answer func(n int) int // status for the n-th request (1-based)
	hang   bool            // block requests until released (or the client goes away)
	unhang chan struct{}
	opened chan string // event ids of requests that arrived while hanging
}

const whSecret = "whsec_e2e_receiver_secret_0001"

// newWHReceiver starts a receiver on addr ("" = any loopback port).
func newWHReceiver(t testing.TB, addr string) *whReceiver {
	t.Helper()
	rc := &whReceiver{t: t, secret: whSecret, answer: func(int) int { return 200 },
		unhang: make(chan struct{}), opened: make(chan string, 100)}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port was just closed; give the OS a moment
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	rc.srv = httptest.NewUnstartedServer(http.HandlerFunc(rc.serve))
	rc.srv.Listener.Close()
	rc.srv.Listener = ln
	rc.srv.Start()
	t.Cleanup(func() {
		rc.release()
		rc.srv.Close()
	})
	return rc
}

func (rc *whReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(400)
		return
	}
	req := whRequest{headerID: r.Header.Get("X-Webhook-Id"), body: body}
	req.sigErr = verifyWebhook(rc.secret, r.Header.Get("X-Webhook-Signature"), body, time.Now(), 5*time.Minute)
	if err := json.Unmarshal(body, &req.ev); err != nil {
		req.sigErr = errors.Join(req.sigErr, fmt.Errorf("body is not JSON: %v", err))
	}
	rc.mu.Lock()
	hang := rc.hang
	if !hang {
		req.code = rc.answer(len(rc.reqs) + 1)
	}
	rc.reqs = append(rc.reqs, req)
	rc.mu.Unlock()
	if hang {
		rc.opened <- req.ev.ID
		select {
		case <-rc.unhang:
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
		w.WriteHeader(503)
		return
	}
	if req.sigErr != nil {
		w.WriteHeader(401)
		return
	}
	w.WriteHeader(req.code)
}

func (rc *whReceiver) release() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.hang = false
	select {
	case <-rc.unhang:
	default:
		close(rc.unhang)
	}
}

func (rc *whReceiver) setHang() {
	rc.mu.Lock()
	rc.hang = true
	rc.mu.Unlock()
}

func (rc *whReceiver) setAnswer(f func(n int) int) {
	rc.mu.Lock()
	rc.answer = f
	rc.mu.Unlock()
}

func (rc *whReceiver) requests() []whRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]whRequest{}, rc.reqs...)
}

// accepted returns the events answered 2xx, deduplicated on id, in the order
// they were first accepted; it fails the test on a bad signature or a body
// whose id differs from X-Webhook-Id.
func (rc *whReceiver) accepted(t testing.TB) []whEvent {
	t.Helper()
	seen := map[string]bool{}
	var out []whEvent
	for i, r := range rc.requests() {
		if r.sigErr != nil {
			t.Errorf("request %d (%s): %v", i+1, r.headerID, r.sigErr)
			continue
		}
		if r.headerID != r.ev.ID || r.ev.Type != r.ev.Event || r.ev.StoreID != "default" || !strings.HasPrefix(r.ev.ID, "evt_") {
			t.Errorf("request %d: X-Webhook-Id %q, body id %q, type %q, event %q, storeId %q", i+1, r.headerID, r.ev.ID, r.ev.Type, r.ev.Event, r.ev.StoreID)
		}
		if r.code < 200 || r.code > 299 || seen[r.ev.ID] {
			continue
		}
		seen[r.ev.ID] = true
		out = append(out, r.ev)
	}
	return out
}

func (rc *whReceiver) url() string { return rc.srv.URL + "/hooks/inv" }

// --- running inv with extra environment --------------------------------------

// whRun runs inv with s's environment plus env (e.g. INV_WEBHOOK_DELIVERY_BUDGET).
func (s *store) whRun(env []string, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, invBin, args...)
	cmd.Env = append(s.environ(), env...)
	cmd.Dir = s.dir
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := exitResult(args, err, out.String(), errb.String(), time.Since(start))
	if ctx.Err() != nil {
		r.err = fmt.Errorf("timed out after %v: %w", cmdTimeout, ctx.Err())
	}
	return r
}

func (s *store) whOK(t testing.TB, env []string, args ...string) result {
	t.Helper()
	r := s.whRun(env, args...)
	if r.code != 0 || r.err != nil {
		t.Fatalf("%v (err %v)\nstdout: %s", r, r.err, r.stdout)
	}
	return r
}

type whHook struct {
	ID           string   `json:"id"`
	URL          string   `json:"url"`
	Events       []string `json:"events"`
	Secret       string   `json:"secret"`
	FailureCount int      `json:"failureCount"`
	Pending      int      `json:"pending"`
}

type whDelivery struct {
	WebhookID string `json:"webhookId"`
	EventID   string `json:"eventId"`
	Type      string `json:"type"`
	Attempt   int    `json:"attempt"`
	Status    int    `json:"status"`
	Error     string `json:"error"`
	Delivered bool   `json:"delivered"`
}

func (s *store) whAdd(t testing.TB, url, events string) whHook {
	t.Helper()
	var w whHook
	s.okJSON(t, &w, "webhook", "add", url, "--events", events, "--secret", whSecret)
	if w.ID == "" || w.Secret != whSecret {
		t.Fatalf("webhook add printed %+v", w)
	}
	return w
}

func (s *store) whList(t testing.TB) []whHook {
	t.Helper()
	var ws []whHook
	s.okJSON(t, &ws, "webhook", "list")
	return ws
}

// whEventCount reads the outbox straight from the file.
func (s *store) whEventCount(t testing.TB, where string) int64 {
	t.Helper()
	db := s.openDB(t)
	defer db.Close()
	return queryInt(t, db, `SELECT count(*) FROM webhook_events `+where)
}

// whStocks is, per SKU, the data.stock of each accepted product.created
// and product.updated: the product after each change, in order. (Here every
// product is created with stock, so each of these has its ledger row.)
func whStocks(evs []whEvent) map[string][]int64 {
	out := map[string][]int64{}
	for _, ev := range evs {
		if ev.Type != "product.updated" && ev.Type != "product.created" {
			continue
		}
		sku, _ := ev.Data["sku"].(string)
		st, _ := ev.Data["stock"].(float64)
		out[sku] = append(out[sku], int64(st))
	}
	return out
}

func ledgerStocks(ms []movement) []int64 {
	var out []int64
	for _, m := range ms {
		out = append(out, m.StockAfter)
	}
	return out
}

// --- the scripted run ---------------------------------------------------------

func TestWebhookScriptedRun(t *testing.T) {
	s := newStore(t)
	rc := newWHReceiver(t, "")
	s.whAdd(t, rc.url(), "*")

	s.ok(t, "product", "create", "--title", "Mug", "--sku", "MUG", "--price", "3.50", "--stock", "15", "--track-stock", "--low-stock-threshold", "10")
	s.ok(t, "product", "create", "--title", "Tee", "--sku", "TEE", "--price", "12.00", "--stock", "12", "--track-stock", "--low-stock-threshold", "10")
	s.ok(t, "product", "create", "--title", "Sticker", "--sku", "STK", "--price", "1.00", "--stock", "30", "--track-stock")
	s.ok(t, "product", "create", "--title", "E-book", "--sku", "EBOOK", "--price", "9.00", "--stock", "5", "--low-stock-threshold", "10")
	steps := [][]string{
		{"stock", "adjust", "MUG", "-5"},  // 15 → 10: low
		{"stock", "adjust", "MUG", "-1"},  // 10 → 9: still low, no alert
		{"stock", "adjust", "MUG", "-1"},  // 9 → 8: still low
		{"stock", "adjust", "MUG", "+3"},  // 8 → 11: re-armed
		{"stock", "adjust", "MUG", "-1"},  // 11 → 10: low again
		{"stock", "set", "TEE", "10"},     // 12 → 10: low
		{"stock", "set", "TEE", "10"},     // unchanged: nothing
		{"stock", "adjust", "STK", "-30"}, // 30 → 0: out (no threshold)
		{"stock", "adjust", "EBOOK", "-5"},
	}
	for _, a := range steps {
		s.ok(t, a...)
	}
	// A bulk import: MUG 10 → 20 (re-armed), TEE 10 → 4 (still low), STK 0 → 8, EBOOK 0 → 0.
	s.ok(t, "bulk", "import", s.writeWHFile(t, "count.csv", "sku,qty\nMUG,20\nTEE,4\nSTK,8\nEBOOK,0\n"))
	// An order (MUG 20 → 9: low; TEE 4 → 0: out; EBOOK untracked) and its cancel.
	var ord struct {
		ID string `json:"id"`
	}
	s.okJSON(t, &ord, "order", "create", "MUG=11", "TEE=4", "EBOOK=2", "--id", "web-1")
	s.ok(t, "order", "cancel", ord.ID) // MUG 9 → 20, TEE 0 → 4
	s.ok(t, "stock", "adjust", "MUG", "-10")
	s.ok(t, "stock", "adjust", "TEE", "-4") // 4 → 0: out again
	// Each command delivered its events itself; an operator run finds nothing.
	var rep struct{ Attempts, Delivered, Failed, Pending int }
	s.okJSON(t, &rep, "webhook", "deliver")
	if rep.Pending != 0 {
		t.Fatalf("deliver left %d pending", rep.Pending)
	}

	evs := rc.accepted(t)
	total := s.whEventCount(t, "")
	if int64(len(evs)) != total {
		t.Errorf("receiver accepted %d distinct events; the outbox holds %d", len(evs), total)
	}
	for _, r := range rc.requests() {
		if r.code != 200 {
			t.Errorf("request for %s answered %d", r.ev.ID, r.code)
		}
	}
	if n := len(rc.requests()); n != len(evs) {
		t.Errorf("%d requests for %d events: something was sent twice", n, len(evs))
	}
	// Every change exactly once, in the ledger's order, per product.
	got := whStocks(evs)
	for _, sku := range []string{"MUG", "TEE", "STK", "EBOOK"} {
		want := ledgerStocks(s.history(t, sku))
		if !reflect.DeepEqual(got[sku], want) {
			t.Errorf("%s: product event stock sequence %v\nledger (stock history)    %v", sku, got[sku], want)
		}
	}
	// Alerts: exactly at the crossings, never repeated while stock stays low.
	alerts := map[string][]string{}
	for _, ev := range evs {
		if strings.HasPrefix(ev.Type, "inventory.") {
			sku, _ := ev.Data["sku"].(string)
			st, _ := ev.Data["stock"].(float64)
			alerts[sku] = append(alerts[sku], fmt.Sprintf("%s@%d", strings.TrimPrefix(ev.Type, "inventory."), int64(st)))
		}
	}
	wantAlerts := map[string][]string{
		"MUG": {"low_stock@10", "low_stock@10", "low_stock@9", "low_stock@10"},
		"TEE": {"low_stock@10", "out_of_stock@0", "out_of_stock@0"},
		"STK": {"out_of_stock@0"},
	}
	if !reflect.DeepEqual(alerts, wantAlerts) {
		t.Errorf("alerts %v\nwant   %v", alerts, wantAlerts)
	}
	// Per product, the events arrive in the order they happened: an alert
	// right after the product.updated of its change.
	last := map[string]string{}
	for _, ev := range evs {
		sku, _ := ev.Data["sku"].(string)
		if strings.HasPrefix(ev.Type, "inventory.") && last[sku] != "product.updated" && last[sku] != "inventory.low_stock" {
			t.Errorf("%s: %s arrived after %s", sku, ev.Type, last[sku])
		}
		if ev.Type != "order.created" && ev.Type != "order.cancelled" {
			last[sku] = ev.Type
		}
	}
	var orders []string
	for _, ev := range evs {
		if strings.HasPrefix(ev.Type, "order.") {
			orders = append(orders, ev.Type+":"+fmt.Sprint(ev.Data["status"]))
		}
	}
	if strings.Join(orders, " ") != "order.created:paid order.cancelled:cancelled" {
		t.Errorf("order events %v", orders)
	}

	t.Run("sample handler", func(t *testing.T) {
		whSampleHandlerAgrees(t, evs)
	})
}

func (s *store) writeWHFile(t testing.TB, name, content string) string {
	t.Helper()
	p := s.path(name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// whSampleHandlerAgrees runs the store API guides' sample handler logic,
// unchanged in spirit, over our payloads: it switches on payload["event"],
// reads payload["data"]["stock"] and ["lowStockThreshold"], and calls a
// product low when stock <= lowStockThreshold. Our alerts must agree with it:
// every inventory.low_stock is low by its rule, and every time its view of a
// product turns from not-low to low, an inventory.low_stock came with it.
func whSampleHandlerAgrees(t *testing.T, evs []whEvent) {
	isLow := func(data map[string]any) (bool, bool) {
		stock, ok1 := data["stock"].(float64)
		thr, ok2 := data["lowStockThreshold"].(float64)
		if !ok1 || !ok2 { // null threshold: the handler never alerts
			return false, ok1
		}
		track, _ := data["trackStock"].(bool)
		return track && stock <= thr, true
	}
	wasLow := map[string]bool{}
	pendingLow := map[string]bool{} // a crossing seen in product.updated, waiting for its alert
	for i, ev := range evs {
		var payload map[string]any
		raw, _ := json.Marshal(ev)
		if err := json.Unmarshal(raw, &payload); err != nil {
			t.Fatal(err)
		}
		data, _ := payload["data"].(map[string]any)
		id, _ := data["id"].(string)
		switch payload["event"] {
		case "product.updated":
			if pendingLow[id] {
				t.Errorf("event %d: the handler saw %v turn low but no inventory.low_stock followed", i, data["sku"])
			}
			low, ok := isLow(data)
			if !ok {
				t.Errorf("event %d: data.stock missing: %v", i, data)
			}
			pendingLow[id] = low && !wasLow[id]
			wasLow[id] = low
		case "inventory.low_stock":
			if low, _ := isLow(data); !low {
				t.Errorf("event %d: inventory.low_stock for %v with stock %v, threshold %v: the handler's stock <= lowStockThreshold says no",
					i, data["sku"], data["stock"], data["lowStockThreshold"])
			}
			if !pendingLow[id] {
				t.Errorf("event %d: inventory.low_stock for %v that the handler did not see coming (repeated while low?)", i, data["sku"])
			}
			pendingLow[id] = false
		case "inventory.out_of_stock":
			if st, _ := data["stock"].(float64); st > 0 {
				t.Errorf("event %d: out_of_stock with stock %v", i, st)
			}
		case "product.created": // a new product: the handler learns its state
			low, _ := isLow(data)
			wasLow[id] = low
		case "order.created", "order.cancelled":
		default:
			t.Errorf("event %d: the handler does not know %v", i, payload["event"])
		}
	}
	for id, p := range pendingLow {
		if p {
			t.Errorf("%s turned low without an inventory.low_stock", id)
		}
	}
}

// --- fails twice, then succeeds -------------------------------------------------

func TestWebhookFailsTwiceThenSucceeds(t *testing.T) {
	s := newStore(t)
	rc := newWHReceiver(t, "")
	rc.setAnswer(func(n int) int {
		if n <= 2 {
			return 500
		}
		return 200
	})
	s.ok(t, "product", "create", "--title", "Retry", "--sku", "R", "--price", "1.00", "--track-stock")
	w := s.whAdd(t, rc.url(), "product.updated")
	// The command itself retries within its delivery budget (2 s by default):
	// 0 s, 250 ms, 750 ms.
	r := s.ok(t, "stock", "adjust", "R", "+5")
	if strings.Contains(r.stderr, "not delivered") {
		t.Errorf("stderr: %s", r.stderr)
	}
	var ds []whDelivery
	s.okJSON(t, &ds, "webhook", "deliveries")
	if len(ds) != 3 {
		t.Fatalf("%d delivery attempts logged, want 3: %+v", len(ds), ds)
	}
	for i, d := range ds {
		ok := i == 2
		if d.Attempt != i+1 || d.EventID != ds[0].EventID || d.WebhookID != w.ID || d.Type != "product.updated" || d.Delivered != ok ||
			(ok && d.Status != 200) || (!ok && (d.Status != 500 || d.Error == "")) {
			t.Errorf("attempt %d: %+v", i+1, d)
		}
	}
	var failed []whDelivery
	s.okJSON(t, &failed, "webhook", "deliveries", "--failed")
	if len(failed) != 2 {
		t.Errorf("deliveries --failed lists %d", len(failed))
	}
	reqs := rc.requests()
	ids := map[string]int{}
	for _, q := range reqs {
		ids[q.ev.ID]++
		if q.sigErr != nil || !bytes.Equal(q.body, reqs[0].body) {
			t.Errorf("attempt for %s: signature %v, same body %v", q.ev.ID, q.sigErr, bytes.Equal(q.body, reqs[0].body))
		}
	}
	if len(reqs) != 3 || len(ids) != 1 || ids[ds[0].EventID] != 3 {
		t.Errorf("receiver got %d bodies with ids %v; want the one event %s 3 times", len(reqs), ids, ds[0].EventID)
	}
	if evs := rc.accepted(t); len(evs) != 1 || evs[0].Data["stock"] != float64(5) {
		t.Errorf("accepted %+v", evs)
	}
	ws := s.whList(t)
	if len(ws) != 1 || ws[0].FailureCount != 0 || ws[0].Pending != 0 {
		t.Errorf("webhook list: %+v", ws)
	}
	// Nothing is sent again.
	s.ok(t, "webhook", "deliver")
	if n := len(rc.requests()); n != 3 {
		t.Errorf("after deliver the receiver has %d requests", n)
	}
}

// --- receiver down during 50 changes ---------------------------------------------

func TestWebhookReceiverDownDuring50Changes(t *testing.T) {
	s := newStore(t)
	// A port nobody listens on (yet).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	fast := []string{"INV_WEBHOOK_DELIVERY_BUDGET=100ms"}
	s.whAdd(t, "http://"+addr+"/hooks/inv", "*")
	skus := []string{"P1", "P2", "P3", "P4", "P5"}
	for i, sku := range skus {
		r := s.whOK(t, fast, "product", "create", "--title", "Product "+sku, "--sku", sku, "--price", "2.00", "--stock", "16", "--track-stock", "--low-stock-threshold", "10")
		if i == 0 && !strings.Contains(r.stderr, "not delivered yet") {
			t.Errorf("with the receiver down, stderr should say the event is kept: %q", r.stderr)
		}
	}
	cur := map[string]int{}
	for _, sku := range skus {
		cur[sku] = 16
	}
	start := time.Now()
	for i := range 50 {
		sku := skus[i%5]
		if i%7 == 3 { // now and then a set (always to another value: every change is a change)
			cur[sku] += 4
			s.whOK(t, fast, "stock", "set", sku, fmt.Sprint(cur[sku]))
		} else {
			cur[sku] -= i%3 + 1
			s.whOK(t, fast, "stock", "adjust", sku, fmt.Sprintf("-%d", i%3+1))
		}
	}
	t.Logf("50 changes with the receiver down took %v", time.Since(start).Round(time.Millisecond))
	ws := s.whList(t)
	if len(ws) != 1 || ws[0].Pending == 0 || ws[0].FailureCount == 0 {
		t.Fatalf("while down: %+v", ws)
	}
	// Still down: deliver says so with exit 7 and keeps everything.
	if r := s.run("webhook", "deliver"); r.code != 7 {
		t.Errorf("deliver with the receiver down: %v", r)
	}
	if updates := s.whEventCount(t, "WHERE type = 'product.updated'"); updates != 50 {
		t.Fatalf("%d product.updated events in the outbox, want 50", updates)
	}

	rc := newWHReceiver(t, addr)
	r := s.ok(t, "-o", "json", "webhook", "deliver")
	var rep struct{ Attempts, Delivered, Failed, Pending int }
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	total := s.whEventCount(t, "")
	if rep.Pending != 0 || rep.Failed != 0 || int64(rep.Delivered) != total {
		t.Errorf("deliver after the receiver came back: %+v (outbox %d)", rep, total)
	}
	evs := rc.accepted(t)
	if int64(len(evs)) != total {
		t.Errorf("receiver accepted %d distinct events of %d", len(evs), total)
	}
	got := whStocks(evs)
	n := 0
	for _, sku := range skus {
		want := ledgerStocks(s.history(t, sku))
		n += len(got[sku])
		if !reflect.DeepEqual(got[sku], want) {
			t.Errorf("%s: delivered stock sequence %v\nledger                   %v", sku, got[sku], want)
		}
	}
	if n != 55 {
		t.Errorf("%d product events delivered, want 55 (5 product.created, 50 product.updated)", n)
	}
	updated := 0
	for _, ev := range evs {
		if ev.Type == "product.updated" {
			updated++
		}
	}
	if updated != 50 {
		t.Errorf("%d product.updated delivered, want all 50", updated)
	}
	alerts := 0
	for _, ev := range evs {
		if ev.Type == "inventory.low_stock" {
			alerts++
		}
	}
	if alerts == 0 {
		t.Errorf("no low_stock alert among %d events (every product went below 10)", len(evs))
	}
	whSampleHandlerAgrees(t, evs)
	ws = s.whList(t)
	if len(ws) != 1 || ws[0].Pending != 0 || ws[0].FailureCount != 0 {
		t.Errorf("after delivery: %+v", ws)
	}
}

// --- killed after commit, before delivery --------------------------------------------

func TestWebhookKilledAfterCommitLosesNoEvent(t *testing.T) {
	s := newStore(t)
	rc := newWHReceiver(t, "")
	s.ok(t, "product", "create", "--title", "Killed", "--sku", "K", "--price", "1.00", "--stock", "5", "--track-stock")
	s.whAdd(t, rc.url(), "product.updated")
	rc.setHang()

	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, invBin, "stock", "adjust", "K", "-1")
	cmd.Env = append(s.environ(), "INV_WEBHOOK_DELIVERY_BUDGET=30s")
	cmd.Dir = s.dir
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	t.Cleanup(func() { // a test that failed half-way leaves no process behind
		_ = cmd.Process.Kill()
		<-done
	})
	var hungID string
	select {
	case hungID = <-rc.opened:
	case <-done:
		t.Fatalf("inv ended before its delivery reached the receiver: %v\n%s", waitErr, errb.String())
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery reached the receiver within 30 s")
	}
	// The receiver holds the request open: inv committed and is delivering. Kill it.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("inv did not die")
	}
	if st := s.stockOf(t, "K"); st != 4 {
		t.Fatalf("stock %d after the killed adjust; the change was committed before delivery, want 4", st)
	}
	if ws := s.whList(t); len(ws) != 1 || ws[0].Pending != 1 {
		t.Fatalf("after the kill: %+v; want the event still pending", ws)
	}
	rc.release()
	s.ok(t, "webhook", "deliver")
	evs := rc.accepted(t)
	if len(evs) != 1 || evs[0].ID != hungID || evs[0].Data["stock"] != float64(4) {
		t.Fatalf("after deliver the receiver accepted %+v; want event %s with stock 4", evs, hungID)
	}
	if ws := s.whList(t); ws[0].Pending != 0 {
		t.Errorf("still pending: %+v", ws)
	}
}

// --- a hanging receiver does not hold the command ---------------------------------------

// "After each change inv tries to deliver what is pending for up to
// webhook.delivery_budget": a receiver that accepts the connection and never
// answers must not keep `inv stock adjust` running past that budget.
func TestWebhookHangingReceiverDoesNotHoldCommand(t *testing.T) {
	s := newStore(t)
	rc := newWHReceiver(t, "")
	s.ok(t, "product", "create", "--title", "Slow", "--sku", "SL", "--price", "1.00", "--stock", "5", "--track-stock")
	s.whAdd(t, rc.url(), "product.updated")
	rc.setHang()
	r := s.whOK(t, []string{"INV_WEBHOOK_DELIVERY_BUDGET=500ms"}, "stock", "adjust", "SL", "-1")
	if r.dur > 3*time.Second {
		t.Errorf("inv stock adjust took %v with a 500ms delivery budget and a receiver that never answers", r.dur.Round(time.Millisecond))
	}
	if st := s.stockOf(t, "SL"); st != 4 {
		t.Errorf("stock %d", st)
	}
	rc.release()
	s.ok(t, "webhook", "deliver")
	if evs := rc.accepted(t); len(evs) != 1 {
		t.Errorf("accepted %d events after deliver", len(evs))
	}
}
