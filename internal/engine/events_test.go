package engine

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inv-cli/inv/internal/csvio"
	"github.com/inv-cli/inv/internal/inventory"
)

// The outbox, checked from both ends: the rows a change writes into
// webhook_events / webhook_queue (read directly from the database), and the
// bodies a real HTTP receiver on loopback gets from DeliverWebhooks.

const evSecret = "whsec_engine_events_test_0001"

// evHit is one request the receiver got.
type evHit struct {
	header string // X-Webhook-Id
	sig    string
	sigOK  bool
	body   []byte
	ev     evBody
}

type evBody struct {
	ID        string         `json:"id"`
	Type      string         `json:"type"`
	Event     string         `json:"event"`
	Timestamp string         `json:"timestamp"`
	StoreID   string         `json:"storeId"`
	Data      map[string]any `json:"data"`
}

// evReceiver is an httptest server that records every body, checks its
// signature with crypto/hmac, and answers with code(n) for the n-th request.
type evReceiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits []evHit
	code func(n int) int
}

func newEvReceiver(t testing.TB) *evReceiver {
	t.Helper()
	rc := &evReceiver{code: func(int) int { return 200 }}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := evHit{header: r.Header.Get("X-Webhook-Id"), sig: r.Header.Get("X-Webhook-Signature"), body: body}
		h.sigOK = evVerify(evSecret, h.sig, body)
		_ = json.Unmarshal(body, &h.ev)
		rc.mu.Lock()
		rc.hits = append(rc.hits, h)
		n := len(rc.hits)
		code := rc.code
		rc.mu.Unlock()
		w.WriteHeader(code(n))
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *evReceiver) setCode(f func(n int) int) {
	rc.mu.Lock()
	rc.code = f
	rc.mu.Unlock()
}

func (rc *evReceiver) got() []evHit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]evHit{}, rc.hits...)
}

// evVerify checks "t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>" and a
// timestamp within 5 minutes, with the standard library only.
func evVerify(secret, header string, body []byte) bool {
	var ts, v1 string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			v1 = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || v1 == "" {
		return false
	}
	if d := time.Since(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(want), []byte(v1))
}

// evRow is one row of webhook_events.
type evRow struct {
	pk        int64
	id        string
	typ       string
	subject   string
	raw       string
	payload   map[string]any
	createdAt int64
}

func evOpen(t testing.TB) *Engine {
	t.Helper()
	e, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "inv.db"), Actor: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func evMaxPK(t testing.TB, e *Engine) int64 {
	t.Helper()
	var n int64
	if err := e.DB().QueryRow(`SELECT coalesce(max(pk), 0) FROM webhook_events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// evOutbox returns the events written after pk after, in order.
func evOutbox(t testing.TB, e *Engine, after int64) []evRow {
	t.Helper()
	rows, err := e.DB().Query(`SELECT pk, id, type, subject, payload, created_at FROM webhook_events WHERE pk > ? ORDER BY pk`, after)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []evRow
	for rows.Next() {
		var r evRow
		if err := rows.Scan(&r.pk, &r.id, &r.typ, &r.subject, &r.raw, &r.createdAt); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(r.raw), &r.payload); err != nil {
			t.Fatalf("event %s: payload is not a JSON object: %v\n%s", r.id, err, r.raw)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func evCount(t testing.TB, e *Engine, table string) int {
	t.Helper()
	var n int
	if err := e.DB().QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func evTypes(rows []evRow) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, r.typ)
	}
	return out
}

// evJSON is v as the API prints it, decoded into generic JSON values.
func evJSON(t testing.TB, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// evSameJSON fails the test unless the event payload equals the Go API
// object field for field.
func evSameJSON(t testing.TB, what string, got, want map[string]any) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s: payload has no %q (want %#v)", what, k, w)
		} else if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: payload %q = %#v, GetProduct says %#v", what, k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: payload has extra field %q = %#v", what, k, g)
		}
	}
}

func evProduct(t testing.TB, e *Engine, ref string) map[string]any {
	t.Helper()
	p, err := e.GetProduct(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return evJSON(t, p)
}

func evAddHook(t testing.TB, e *Engine, url string, events ...string) inventory.Webhook {
	t.Helper()
	w, err := e.AddWebhook(context.Background(), url, events, evSecret)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// evDeliverAll runs an operator's delivery and wants nothing left pending.
func evDeliverAll(t testing.TB, e *Engine) inventory.DeliveryReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := e.DeliverWebhooks(ctx, 30*time.Second, true)
	if err != nil || rep.Pending != 0 || rep.Failed != 0 {
		t.Fatalf("DeliverWebhooks = %+v, %v", rep, err)
	}
	return rep
}

func evImport(t testing.TB, e *Engine, csv string, o inventory.ImportOptions) (inventory.ImportReport, error) {
	t.Helper()
	src, err := csvio.NewStockReader(strings.NewReader(csv), csvio.StockOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if o.Name == "" {
		o.Name = "stock.csv"
	}
	return e.ImportStock(context.Background(), src, o, inventory.ImportSink{})
}

func evTracked(t testing.TB, e *Engine, sku string, stock int64, threshold *int64, track bool) inventory.Product {
	t.Helper()
	f := inventory.ProductFields{Title: ptr("Product " + sku), SKU: ptr(sku), Price: ptr("4.50"), Stock: ptr(stock), TrackStock: ptr(track)}
	if threshold != nil {
		f.LowStockThreshold = &threshold
	}
	return mustCreate(t, e, f)
}

// --- no webhook, no events ---------------------------------------------------

func TestOutboxEmptyWithoutWebhook(t *testing.T) {
	ctx := context.Background()
	e := evOpen(t)
	rc := newEvReceiver(t)
	// Every kind of change, with nobody listening.
	a := evTracked(t, e, "A", 12, ptr(int64(10)), true)
	evTracked(t, e, "B", 12, nil, true)
	if _, err := e.ChangeStock(ctx, inventory.StockChange{Ref: "A", Delta: -2}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ChangeStock(ctx, inventory.StockChange{Ref: "A", IsSet: true, Set: 0}); err != nil {
		t.Fatal(err)
	}
	if _, err := evImport(t, e, "sku,qty\nA,20\nB,5\n", inventory.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := e.CreateOrder(ctx, inventory.OrderRequest{Lines: []inventory.CartLine{{SKU: "A", Quantity: 15}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.CancelOrder(ctx, res.Order.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.UpdateProduct(ctx, "B", inventory.ProductFields{Title: ptr("Renamed")}); err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteProduct(ctx, "B"); err != nil {
		t.Fatal(err)
	}
	if n, q := evCount(t, e, "webhook_events"), evCount(t, e, "webhook_queue"); n != 0 || q != 0 {
		t.Fatalf("with no webhook: %d events, %d queue rows written", n, q)
	}
	rep, err := e.DeliverWebhooks(ctx, time.Second, true)
	if err != nil || rep.Attempts != 0 {
		t.Fatalf("DeliverWebhooks with nothing queued = %+v, %v", rep, err)
	}

	// From the moment an endpoint exists, changes write events...
	w := evAddHook(t, e, rc.srv.URL, "*")
	if _, err := e.ChangeStock(ctx, inventory.StockChange{Ref: a.ID, Delta: -1}); err != nil {
		t.Fatal(err)
	}
	rows := evOutbox(t, e, 0)
	if got := strings.Join(evTypes(rows), ","); got != "product.updated" || rows[0].subject != a.ID {
		t.Fatalf("after adding a webhook, an adjust wrote %v", evTypes(rows))
	}
	if q := evCount(t, e, "webhook_queue"); q != 1 {
		t.Fatalf("%d queue rows, want 1", q)
	}
	// ...and once it is removed, they stop (and its queue goes with it).
	if err := e.RemoveWebhook(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	if q := evCount(t, e, "webhook_queue"); q != 0 {
		t.Fatalf("removing the webhook left %d queue rows", q)
	}
	last := evMaxPK(t, e)
	if _, err := e.ChangeStock(ctx, inventory.StockChange{Ref: a.ID, Delta: -1}); err != nil {
		t.Fatal(err)
	}
	if got := evOutbox(t, e, last); len(got) != 0 {
		t.Fatalf("after removing the webhook, an adjust wrote %v", evTypes(got))
	}
	if len(rc.got()) != 0 {
		t.Fatalf("the receiver was called")
	}
}

// --- edge-triggered alerts on every path ------------------------------------

// evPath changes one product's stock from 'from' to 'to' by one of the
// mutation paths.
type evPath struct {
	name   string
	change func(t *testing.T, e *Engine, sku string, from, to int64)
}

var evImportSeq int

var evPaths = []evPath{
	{"set", func(t *testing.T, e *Engine, sku string, from, to int64) {
		if _, err := e.ChangeStock(context.Background(), inventory.StockChange{Ref: sku, IsSet: true, Set: to}); err != nil {
			t.Fatal(err)
		}
	}},
	{"adjust", func(t *testing.T, e *Engine, sku string, from, to int64) {
		if _, err := e.ChangeStock(context.Background(), inventory.StockChange{Ref: sku, Delta: to - from}); err != nil {
			t.Fatal(err)
		}
	}},
	{"import-set", func(t *testing.T, e *Engine, sku string, from, to int64) {
		if _, err := evImport(t, e, fmt.Sprintf("sku,stock\n%s,%d\n", sku, to), inventory.ImportOptions{Mode: inventory.ModeSet}); err != nil {
			t.Fatal(err)
		}
	}},
	{"import-adjust", func(t *testing.T, e *Engine, sku string, from, to int64) {
		evImportSeq++ // a new file each time: an identical delta file is refused
		csv := fmt.Sprintf("sku,qty,note\n%s,%+d,%d\n", sku, to-from, evImportSeq)
		if _, err := evImport(t, e, csv, inventory.ImportOptions{Mode: inventory.ModeAdjust}); err != nil {
			t.Fatal(err)
		}
	}},
	{"product-update", func(t *testing.T, e *Engine, sku string, from, to int64) {
		if _, err := e.UpdateProduct(context.Background(), sku, inventory.ProductFields{Stock: ptr(to)}); err != nil {
			t.Fatal(err)
		}
	}},
}

// evStep is one change and the alerts it must raise.
type evStep struct {
	to     int64
	alerts string // the alert types after product.updated, comma-separated
}

func TestAlertBoundariesOnEveryPath(t *testing.T) {
	// Threshold 10, tracked: 11→10 fires, 10→9 does not fire again,
	// 9→11→10 fires again; out_of_stock on crossing to ≤ 0, re-armed above 0.
	threshold10 := []evStep{
		{10, "inventory.low_stock"},
		{9, ""},
		{11, ""},
		{10, "inventory.low_stock"},
		{5, ""},
		{11, ""},
		{50, ""},
		{0, "inventory.low_stock,inventory.out_of_stock"},
		{3, ""},
		{0, "inventory.out_of_stock"},
		{11, ""},
		{1, "inventory.low_stock"},
		{0, "inventory.out_of_stock"},
	}
	nullThreshold := []evStep{{10, ""}, {9, ""}, {11, ""}, {10, ""}, {0, "inventory.out_of_stock"}, {2, ""}}
	untracked := []evStep{{10, ""}, {9, ""}, {11, ""}, {10, ""}, {0, ""}, {2, ""}, {0, ""}}
	threshold0 := []evStep{{1, ""}, {0, "inventory.low_stock,inventory.out_of_stock"}, {1, ""}, {0, "inventory.low_stock,inventory.out_of_stock"}}
	for _, path := range evPaths {
		t.Run(path.name, func(t *testing.T) {
			e := evOpen(t)
			rc := newEvReceiver(t)
			evAddHook(t, e, rc.srv.URL, "*")
			type product struct {
				sku   string
				start int64
				thr   *int64
				track bool
				steps []evStep
			}
			for _, p := range []product{
				{"T10", 11, ptr(int64(10)), true, threshold10},
				{"TNULL", 11, nil, true, nullThreshold},
				{"UNTRACKED", 11, ptr(int64(10)), false, untracked},
				{"T0", 2, ptr(int64(0)), true, threshold0},
			} {
				created := evTracked(t, e, p.sku, p.start, p.thr, p.track)
				cur := p.start
				for i, s := range p.steps {
					before := evMaxPK(t, e)
					path.change(t, e, p.sku, cur, s.to)
					rows := evOutbox(t, e, before)
					want := "product.updated"
					if s.alerts != "" {
						want += "," + s.alerts
					}
					what := fmt.Sprintf("%s %s step %d (%d→%d)", path.name, p.sku, i+1, cur, s.to)
					if got := strings.Join(evTypes(rows), ","); got != want {
						t.Errorf("%s: events %s, want %s", what, got, want)
					}
					now := evProduct(t, e, p.sku)
					for _, r := range rows {
						if r.subject != created.ID {
							t.Errorf("%s: %s has subject %q, want the product id %s", what, r.typ, r.subject, created.ID)
						}
						evSameJSON(t, what+" "+r.typ, r.payload, now)
					}
					cur = s.to
				}
			}
			// Every event went to the endpoint, once, signed, in order per product.
			evDeliverAll(t, e)
			all := evOutbox(t, e, 0)
			hits := rc.got()
			if len(hits) != len(all) {
				t.Fatalf("receiver got %d requests for %d events", len(hits), len(all))
			}
			wantOrder, gotOrder := map[string][]string{}, map[string][]string{}
			byID := map[string]evRow{}
			for _, r := range all {
				byID[r.id] = r
				wantOrder[r.subject] = append(wantOrder[r.subject], r.id)
			}
			for i, h := range hits {
				r, ok := byID[h.header]
				if !ok || h.ev.ID != r.id || h.ev.Type != r.typ || h.ev.Event != r.typ || !h.sigOK {
					t.Errorf("request %d: id %q/%q type %q/%q sig ok %v; want %s %s", i, h.header, h.ev.ID, h.ev.Type, h.ev.Event, h.sigOK, r.id, r.typ)
					continue
				}
				gotOrder[r.subject] = append(gotOrder[r.subject], r.id)
				evSameJSON(t, "delivered "+r.id, h.ev.Data, r.payload)
			}
			if !reflect.DeepEqual(gotOrder, wantOrder) {
				t.Errorf("per-product delivery order differs from event order:\n got %v\nwant %v", gotOrder, wantOrder)
			}
		})
	}
}

// An import that crosses several products' thresholds at once fires for
// exactly those that crossed.
func TestAlertsOfOneImportAcrossProducts(t *testing.T) {
	e := evOpen(t)
	rc := newEvReceiver(t)
	evAddHook(t, e, rc.srv.URL, "*")
	ids := map[string]string{}
	for _, p := range []struct {
		sku   string
		stock int64
		thr   *int64
		track bool
	}{
		{"CROSS", 11, ptr(int64(10)), true},        // → 10: low
		{"ALREADY", 10, ptr(int64(10)), true},      // → 9: already low, nothing
		{"NULLTHR", 11, nil, true},                 // → 10: no threshold
		{"UNTRACK", 11, ptr(int64(10)), false},     // → 10: untracked
		{"EMPTY", 1, ptr(int64(0)), true},          // → 0: low and out
		{"DEEP", 30, ptr(int64(5)), true},          // → 0: low and out
		{"SAME", 7, ptr(int64(10)), true},          // → 7: unchanged: no event at all
		{"RISE", 9, ptr(int64(10)), true},          // → 12: re-armed, no alert
		{"BELOWTHR", 11, ptr(int64(10)), true},     // → 2: low
		{"NOTLOWYET", 15, ptr(int64(10)), true},    // → 11: nothing
		{"OUTNULL", 4, nil, true},                  // → 0: out only
		{"UNTRACK0", 4, ptr(int64(10)), false},     // → 0: nothing
		{"BACK", 3, ptr(int64(2)), true},           // backorder → -4: low and out
		{"BACKMORE", -1, ptr(int64(2)), true},      // backorder → -5: nothing
		{"BACKUP", -1, ptr(int64(2)), true},        // backorder → 5: nothing
		{"BACKDOWN", 5, ptr(int64(2)), true},       // backorder → 0: low and out
		{"STAYHIGH", 100, ptr(int64(10)), true},    // → 11: nothing
		{"NOSTOCKYET", 0, ptr(int64(10)), true},    // → 0: unchanged
		{"FROMZERO", 0, ptr(int64(10)), true},      // → 4: nothing (rises)
		{"TOBOUNDARY", 12, ptr(int64(11)), true},   // → 11: low
		{"JUSTABOVE", 12, ptr(int64(10)), true},    // → 11: nothing
		{"LOWTOZERO", 5, ptr(int64(10)), true},     // → 0: out only (already low)
		{"HIGHTOLOW0", 10, ptr(int64(0)), true},    // → 0: low and out
		{"ZEROTHR1", 1, ptr(int64(0)), true},       // → 1: unchanged
		{"BACKZERO", 0, ptr(int64(2)), true},       // backorder → -3: nothing (0 was already out and low)
		{"UNTRACKBK", 5, ptr(int64(2)), false},     // untracked → 0: nothing
		{"NULLTHR0", 11, nil, true},                // → 11: unchanged
		{"TRACKNULL", 1, nil, true},                // → 0: out only
		{"HALF", 20, ptr(int64(10)), true},         // → 10: low
		{"HALFMORE", 20, ptr(int64(10)), true},     // → 15: nothing
		{"BIGDROP", 1000000, ptr(int64(10)), true}, // → 10: low
	} {
		f := inventory.ProductFields{Title: ptr(p.sku), SKU: ptr(p.sku), Stock: ptr(p.stock), TrackStock: ptr(p.track)}
		if p.thr != nil {
			thr := p.thr
			f.LowStockThreshold = &thr
		}
		if strings.HasPrefix(p.sku, "BACK") {
			f.AllowBackorder = ptr(true)
		}
		ids[mustCreate(t, e, f).ID] = p.sku
	}
	file := "sku,qty\nCROSS,10\nALREADY,9\nNULLTHR,10\nUNTRACK,10\nEMPTY,0\nDEEP,0\nSAME,7\nRISE,12\nBELOWTHR,2\n" +
		"NOTLOWYET,11\nOUTNULL,0\nUNTRACK0,0\nBACK,-4\nBACKMORE,-5\nBACKUP,5\nBACKDOWN,0\nSTAYHIGH,11\nNOSTOCKYET,0\n" +
		"FROMZERO,4\nTOBOUNDARY,11\nJUSTABOVE,11\nLOWTOZERO,0\nHIGHTOLOW0,0\nZEROTHR1,1\nBACKZERO,-3\nUNTRACKBK,0\n" +
		"NULLTHR0,11\nTRACKNULL,0\nHALF,10\nHALFMORE,15\nBIGDROP,10\n"
	before := evMaxPK(t, e)
	rep, err := evImport(t, e, file, inventory.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rows := evOutbox(t, e, before)
	got := map[string][]string{}
	for _, r := range rows {
		got[ids[r.subject]] = append(got[ids[r.subject]], r.typ)
	}
	low, out, upd := "inventory.low_stock", "inventory.out_of_stock", "product.updated"
	want := map[string][]string{
		"CROSS": {upd, low}, "ALREADY": {upd}, "NULLTHR": {upd}, "UNTRACK": {upd}, "EMPTY": {upd, low, out},
		"DEEP": {upd, low, out}, "RISE": {upd}, "BELOWTHR": {upd, low}, "NOTLOWYET": {upd},
		"OUTNULL": {upd, out}, "UNTRACK0": {upd}, "BACK": {upd, low, out}, "BACKMORE": {upd}, "BACKUP": {upd},
		"BACKDOWN": {upd, low, out}, "STAYHIGH": {upd}, "FROMZERO": {upd}, "TOBOUNDARY": {upd, low},
		"JUSTABOVE": {upd}, "LOWTOZERO": {upd, out}, "HIGHTOLOW0": {upd, low, out}, "BACKZERO": {upd},
		"UNTRACKBK": {upd}, "TRACKNULL": {upd, out}, "HALF": {upd, low}, "HALFMORE": {upd}, "BIGDROP": {upd, low},
	}
	if !reflect.DeepEqual(got, want) {
		for sku := range want {
			if !reflect.DeepEqual(got[sku], want[sku]) {
				t.Errorf("%s: events %v, want %v", sku, got[sku], want[sku])
			}
		}
		for sku := range got {
			if _, ok := want[sku]; !ok {
				t.Errorf("%s: events %v, want none (unchanged)", sku, got[sku])
			}
		}
	}
	if rep.Changed != len(want) || rep.Unchanged != 4 {
		t.Errorf("import report %+v", rep)
	}
	for _, r := range rows {
		evSameJSON(t, ids[r.subject]+" "+r.typ, r.payload, evProduct(t, e, r.subject))
	}
	// Per product, the product.updated comes first, then its alerts.
	seen := map[string]bool{}
	for _, r := range rows {
		if r.typ == upd {
			seen[r.subject] = true
		} else if !seen[r.subject] {
			t.Errorf("%s: %s before its product.updated", ids[r.subject], r.typ)
		}
	}
}

func TestAlertsOnOrderAndCancel(t *testing.T) {
	ctx := context.Background()
	e := evOpen(t)
	rc := newEvReceiver(t)
	evAddHook(t, e, rc.srv.URL, "*")
	p := evTracked(t, e, "MUG", 12, ptr(int64(10)), true)
	q := evTracked(t, e, "TEE", 11, ptr(int64(10)), true)
	evTracked(t, e, "EBOOK", 0, ptr(int64(10)), false)

	order := func(lines ...inventory.CartLine) (inventory.Order, []evRow) {
		t.Helper()
		before := evMaxPK(t, e)
		res, err := e.CreateOrder(ctx, inventory.OrderRequest{Lines: lines})
		if err != nil {
			t.Fatal(err)
		}
		return res.Order, evOutbox(t, e, before)
	}
	cancel := func(o inventory.Order) []evRow {
		t.Helper()
		before := evMaxPK(t, e)
		if _, _, err := e.CancelOrder(ctx, o.ID); err != nil {
			t.Fatal(err)
		}
		return evOutbox(t, e, before)
	}
	sig := func(rows []evRow) string {
		var s []string
		for _, r := range rows {
			who := r.subject
			switch r.subject {
			case p.ID:
				who = "MUG"
			case q.ID:
				who = "TEE"
			default:
				if strings.HasPrefix(r.subject, "ord_") {
					who = "order"
				}
			}
			s = append(s, who+":"+r.typ)
		}
		return strings.Join(s, " ")
	}
	check := func(what string, rows []evRow, want string) {
		t.Helper()
		if got := sig(rows); got != want {
			t.Errorf("%s: events\n  %s\nwant\n  %s", what, got, want)
		}
		for _, r := range rows {
			if strings.HasPrefix(r.subject, "prod_") {
				evSameJSON(t, what+" "+r.typ, r.payload, evProduct(t, e, r.subject))
			} else {
				o, err := e.GetOrder(ctx, r.subject)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(r.payload, evJSON(t, o)) {
					t.Errorf("%s: %s payload %s\nGetOrder: %v", what, r.typ, r.raw, evJSON(t, o))
				}
			}
		}
	}
	a, rows := order(inventory.CartLine{SKU: "MUG", Quantity: 2}) // 12 → 10
	check("order A (MUG 12→10)", rows, "MUG:product.updated MUG:inventory.low_stock order:order.created")
	b, rows := order(inventory.CartLine{SKU: "MUG", Quantity: 1}) // 10 → 9
	check("order B (MUG 10→9)", rows, "MUG:product.updated order:order.created")
	check("cancel B (MUG 9→10)", cancel(b), "MUG:product.updated order:order.cancelled")
	check("cancel A (MUG 10→12)", cancel(a), "MUG:product.updated order:order.cancelled")
	// Cancelling twice changes nothing and says nothing.
	check("cancel A again", cancel(a), "")
	_, rows = order(inventory.CartLine{SKU: "MUG", Quantity: 1}, inventory.CartLine{SKU: "mug", Quantity: 1}) // summed: 12 → 10
	check("order C (MUG 1+1: 12→10)", rows, "MUG:product.updated MUG:inventory.low_stock order:order.created")
	d, rows := order(inventory.CartLine{SKU: "MUG", Quantity: 10}, inventory.CartLine{SKU: "TEE", Quantity: 1}, inventory.CartLine{SKU: "EBOOK", Quantity: 3})
	check("order D (MUG 10→0, TEE 11→10, EBOOK untracked)", rows,
		"MUG:product.updated TEE:product.updated TEE:inventory.low_stock MUG:inventory.out_of_stock order:order.created")
	check("cancel D (MUG 0→10, TEE 10→11)", cancel(d), "MUG:product.updated TEE:product.updated order:order.cancelled")
	_, rows = order(inventory.CartLine{SKU: "TEE", Quantity: 1}) // 11 → 10 again
	check("order E (TEE 11→10)", rows, "TEE:product.updated TEE:inventory.low_stock order:order.created")
	_, rows = order(inventory.CartLine{SKU: "EBOOK", Quantity: 1})
	check("order F (untracked only)", rows, "order:order.created")

	// A refused order writes nothing.
	before := evMaxPK(t, e)
	if _, err := e.CreateOrder(ctx, inventory.OrderRequest{Lines: []inventory.CartLine{{SKU: "MUG", Quantity: 11}}}); !errors.Is(err, inventory.ErrInsufficientStock) {
		t.Fatalf("order of 11 MUG from 10: %v", err)
	}
	if rows := evOutbox(t, e, before); len(rows) != 0 {
		t.Errorf("a refused order wrote %s", sig(rows))
	}
	evDeliverAll(t, e)
	if n := len(rc.got()); n != evCount(t, e, "webhook_events") {
		t.Errorf("receiver got %d requests for %d events", n, evCount(t, e, "webhook_events"))
	}
}

// --- the SQL renderer equals the Go API object -------------------------------

// clock hands out the next of a list of times, then the last one again.
type evClock struct {
	mu    sync.Mutex
	times []time.Time
}

func (c *evClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.times[0]
	if len(c.times) > 1 {
		c.times = c.times[1:]
	}
	return t
}

func TestEventPayloadEqualsGetProduct(t *testing.T) {
	ctx := context.Background()
	var times []time.Time
	for _, base := range []time.Time{
		time.Date(2026, 12, 3, 16, 43, 42, 0, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 12, 0, 0, 0, time.FixedZone("X", -7*3600)),
	} {
		for _, ns := range []int{0, 1_000_000, 999_000_000, 123_456_789, 500_000_000, 7_000_000, 998_999_999, 100_000_000} {
			times = append(times, base.Add(time.Duration(ns)))
		}
	}
	clk := &evClock{times: times}
	e, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "inv.db"), Actor: "tester", Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	rc := newEvReceiver(t)
	evAddHook(t, e, rc.srv.URL, "*")

	cmp := ptr("249.00")
	bc := ptr("4006381333931")
	products := []inventory.ProductFields{
		{Title: ptr("Limited Edition Sneakers"), SKU: ptr("SNK-LE-001"), Price: ptr("199.99"), Stock: ptr(int64(50)),
			TrackStock: ptr(true), LowStockThreshold: func() **int64 { v := ptr(int64(10)); return &v }()},
		{Title: ptr(`Café "Crème" <b>&</b> — ünïcødé 🚀`), SKU: ptr("cafe-1"), Price: ptr("0.00"), CompareAtPrice: &cmp,
			Barcode: bc, Status: ptr("published"), Description: ptr("line 1\nline 2\t\"quoted\" \\ back"),
			Attributes: map[string]string{"color": "blue", "size": "M", "ünï": "çødé", "empty": "", "q\"uote": "<&>"},
			Stock:      ptr(int64(3)), TrackStock: ptr(false)},
		{Title: ptr("Backorderable"), SKU: ptr("BK"), AllowBackorder: ptr(true), TrackStock: ptr(true), Stock: ptr(int64(1)),
			LowStockThreshold: func() **int64 { v := ptr(int64(0)); return &v }()},
		{Title: ptr("No SKU at all"), Price: ptr("12.30"), Stock: ptr(int64(7)), TrackStock: ptr(true)},
		{Title: ptr("Archived zero"), SKU: ptr("ARCH"), Status: ptr("archived")},
	}
	var ids []string
	for i, f := range products {
		before := evMaxPK(t, e)
		p := mustCreate(t, e, f)
		ids = append(ids, p.ID)
		rows := evOutbox(t, e, before)
		if len(rows) == 0 || rows[0].typ != "product.created" {
			t.Fatalf("create %d: events %v", i, evTypes(rows))
		}
		// The last event of the create is the product as CreateProduct returned it.
		evSameJSON(t, fmt.Sprintf("create %d %s", i, rows[len(rows)-1].typ), rows[len(rows)-1].payload, evJSON(t, p))
		evSameJSON(t, fmt.Sprintf("create %d vs GetProduct", i), rows[len(rows)-1].payload, evProduct(t, e, p.ID))
	}
	changes := []func() error{
		func() error { _, err := e.ChangeStock(ctx, inventory.StockChange{Ref: ids[0], Delta: -41}); return err },
		func() error {
			_, err := e.ChangeStock(ctx, inventory.StockChange{Ref: ids[1], IsSet: true, Set: 999_999_999_999})
			return err
		},
		func() error { _, err := e.ChangeStock(ctx, inventory.StockChange{Ref: ids[2], Delta: -5}); return err },
		func() error { _, err := e.ChangeStock(ctx, inventory.StockChange{Ref: ids[3], Delta: 1}); return err },
		func() error { _, err := e.ChangeStock(ctx, inventory.StockChange{Ref: ids[4], Delta: 1}); return err },
		func() error {
			_, err := e.UpdateProduct(ctx, ids[0], inventory.ProductFields{Title: ptr("Renamed ✓"), Price: ptr("1.05"),
				Description: ptr(""), Attributes: map[string]string{}})
			return err
		},
		func() error {
			var none *int64
			_, err := e.UpdateProduct(ctx, ids[0], inventory.ProductFields{LowStockThreshold: &none, CompareAtPrice: func() **string { s := ptr("2.00"); return &s }()})
			return err
		},
		func() error {
			var none *string
			_, err := e.UpdateProduct(ctx, ids[1], inventory.ProductFields{CompareAtPrice: &none, Barcode: ptr(""), TrackStock: ptr(true)})
			return err
		},
		func() error {
			_, err := e.UpdateProduct(ctx, ids[2], inventory.ProductFields{Status: ptr("published")})
			return err
		},
		func() error {
			_, err := e.UpdateProduct(ctx, ids[2], inventory.ProductFields{Stock: ptr(int64(-7))})
			return err
		},
		func() error {
			_, err := evImport(t, e, "sku,qty\nSNK-LE-001,0\ncafe-1,1\nBK,-8\n", inventory.ImportOptions{})
			return err
		},
	}
	for i, change := range changes {
		before := evMaxPK(t, e)
		if err := change(); err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
		rows := evOutbox(t, e, before)
		if len(rows) == 0 {
			t.Fatalf("change %d wrote no event", i)
		}
		for _, r := range rows {
			evSameJSON(t, fmt.Sprintf("change %d %s", i, r.typ), r.payload, evProduct(t, e, r.subject))
		}
	}
	// The payload's timestamps must be the API's: RFC 3339 UTC with milliseconds.
	for _, r := range evOutbox(t, e, 0) {
		for _, k := range []string{"createdAt", "updatedAt"} {
			s, _ := r.payload[k].(string)
			if _, err := time.Parse("2006-01-02T15:04:05.000Z", s); err != nil {
				t.Errorf("%s %s: %s = %q is not RFC 3339 UTC with milliseconds", r.id, r.typ, k, s)
			}
		}
	}
	// Deleted: the last word about the product, with status "deleted".
	before := evMaxPK(t, e)
	if err := e.DeleteProduct(ctx, ids[3]); err != nil {
		t.Fatal(err)
	}
	rows := evOutbox(t, e, before)
	if len(rows) != 1 || rows[0].typ != "product.deleted" || rows[0].subject != ids[3] || rows[0].payload["status"] != "deleted" || rows[0].payload["id"] != ids[3] {
		t.Errorf("delete wrote %v: %s", evTypes(rows), func() string {
			if len(rows) > 0 {
				return rows[0].raw
			}
			return ""
		}())
	}
	// What the receiver got is the outbox, byte for byte in meaning.
	evDeliverAll(t, e)
	byID := map[string]evRow{}
	for _, r := range evOutbox(t, e, 0) {
		byID[r.id] = r
	}
	for _, h := range rc.got() {
		r, ok := byID[h.ev.ID]
		if !ok {
			t.Errorf("receiver got unknown event %s", h.ev.ID)
			continue
		}
		if !h.sigOK || h.header != r.id || h.ev.StoreID != "default" || h.ev.Type != r.typ || h.ev.Event != r.typ {
			t.Errorf("%s: sig ok %v header %q storeId %q type %q event %q", r.id, h.sigOK, h.header, h.ev.StoreID, h.ev.Type, h.ev.Event)
		}
		if want := time.UnixMilli(r.createdAt).UTC().Format("2006-01-02T15:04:05.000Z"); h.ev.Timestamp != want {
			t.Errorf("%s: timestamp %q, want the time of the change %q", r.id, h.ev.Timestamp, want)
		}
		evSameJSON(t, "delivered "+r.id, h.ev.Data, r.payload)
	}
}

// Live reservations show in the payload's reserved and available exactly as
// GetProduct shows them right after the change, including when an order
// consumes the reservation.
func TestEventPayloadReservedAndAvailable(t *testing.T) {
	ctx := context.Background()
	e := evOpen(t)
	rc := newEvReceiver(t)
	evAddHook(t, e, rc.srv.URL, "*")
	p := evTracked(t, e, "HELD", 20, ptr(int64(5)), true)
	r1, _, err := e.Reserve(ctx, []inventory.CartLine{{SKU: "HELD", Quantity: 3}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Reserve(ctx, []inventory.CartLine{{SKU: "HELD", Quantity: 4}}, time.Hour); err != nil {
		t.Fatal(err)
	}
	step := func(what string, f func() error, wantReserved int64) {
		t.Helper()
		before := evMaxPK(t, e)
		if err := f(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		now := evProduct(t, e, p.ID)
		if now["reserved"] != float64(wantReserved) {
			t.Fatalf("%s: GetProduct reserved %v, want %d", what, now["reserved"], wantReserved)
		}
		n := 0
		for _, r := range evOutbox(t, e, before) {
			if r.subject == p.ID {
				n++
				evSameJSON(t, what+" "+r.typ, r.payload, now)
			}
		}
		if n == 0 {
			t.Errorf("%s: no product event", what)
		}
	}
	step("adjust with 7 reserved", func() error {
		_, err := e.ChangeStock(ctx, inventory.StockChange{Ref: "HELD", Delta: -1})
		return err
	}, 7)
	step("order without a reservation", func() error {
		_, err := e.CreateOrder(ctx, inventory.OrderRequest{Lines: []inventory.CartLine{{SKU: "HELD", Quantity: 2}}})
		return err
	}, 7)
	step("order consuming reservation 1 (3 units)", func() error {
		_, err := e.CreateOrder(ctx, inventory.OrderRequest{ReservationID: r1.ID, Lines: []inventory.CartLine{{SKU: "HELD", Quantity: 3}}})
		return err
	}, 4)
}

// One call that creates a product with stock, or updates fields and stock
// together, is one change: each product event it writes carries the product
// as that call left it, not a half-done state no reader could ever see.
func TestEventPayloadOfCreateOrUpdateWithStock(t *testing.T) {
	ctx := context.Background()
	e := evOpen(t)
	rc := newEvReceiver(t)
	evAddHook(t, e, rc.srv.URL, "*")

	before := evMaxPK(t, e)
	p := evTracked(t, e, "NEW", 12, ptr(int64(10)), true)
	rows := evOutbox(t, e, before)
	if len(rows) == 0 || rows[0].typ != "product.created" {
		t.Fatalf("create wrote %v", evTypes(rows))
	}
	for _, r := range rows {
		evSameJSON(t, "create with --stock 12: "+r.typ, r.payload, evJSON(t, p))
	}

	before = evMaxPK(t, e)
	u, err := e.UpdateProduct(ctx, "NEW", inventory.ProductFields{Title: ptr("New title"), Stock: ptr(int64(3))})
	if err != nil {
		t.Fatal(err)
	}
	rows = evOutbox(t, e, before)
	if got := evTypes(rows); len(got) == 0 || got[len(got)-1] != "inventory.low_stock" {
		t.Errorf("update title+stock 12→3 wrote %v; want product.updated … inventory.low_stock", got)
	}
	for _, r := range rows {
		evSameJSON(t, "update with title and stock: "+r.typ, r.payload, evJSON(t, u))
	}
}

// A catalogue import is one change per row: each product event carries the
// product as the import left it (all its columns, backorder turned off
// included), and stock crossings raise the same alerts as everywhere else.
func TestEventPayloadOfCatalogueImport(t *testing.T) {
	ctx := context.Background()
	e := evOpen(t)
	rc := newEvReceiver(t)
	evAddHook(t, e, rc.srv.URL, "*")
	mustCreate(t, e, inventory.ProductFields{Title: ptr("Back"), SKU: ptr("BK"), Price: ptr("1.00"), Stock: ptr(int64(5)),
		TrackStock: ptr(true), AllowBackorder: ptr(true)})
	evTracked(t, e, "LOWER", 12, ptr(int64(10)), true)
	evTracked(t, e, "TITLE", 7, nil, true)
	csv := "title,sku,price,stock,allow backorder\n" +
		"Back,BK,2.00,3,false\n" + // stock 5 → 3, backorder turned off
		"Lower,LOWER,4.50,9,false\n" + // 12 → 9: low
		"Renamed,TITLE,4.50,7,false\n" + // stock unchanged, title changed
		"New,NEW,1.00,4,false\n" // created with stock 4
	src, err := csvio.NewCatalogueReader(strings.NewReader(csv), csvio.CatalogueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before := evMaxPK(t, e)
	if _, err := e.ImportProducts(ctx, src, inventory.ImportOptions{Name: "catalogue.csv"}, inventory.ImportSink{}); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, r := range evOutbox(t, e, before) {
		sku, _ := r.payload["sku"].(string)
		got[sku] = append(got[sku], r.typ)
		evSameJSON(t, "catalogue import "+sku+" "+r.typ, r.payload, evProduct(t, e, r.subject))
	}
	want := map[string][]string{
		"BK":    {"product.updated"},
		"LOWER": {"product.updated", "inventory.low_stock"},
		"TITLE": {"product.updated"},
		"NEW":   {"product.created"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("catalogue import wrote %v\nwant %v", got, want)
	}
}

// --- refused changes write nothing ------------------------------------------

func TestEventsOfRefusedChangesDoNotExist(t *testing.T) {
	ctx := context.Background()
	e := evOpen(t)
	rc := newEvReceiver(t)
	evAddHook(t, e, rc.srv.URL, "*")
	evTracked(t, e, "A", 5, ptr(int64(10)), true)
	evTracked(t, e, "B", 12, ptr(int64(10)), true)
	if _, err := evImport(t, e, "sku,qty\nA,+1\n", inventory.ImportOptions{Mode: inventory.ModeAdjust, Name: "once.csv"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ChangeStock(ctx, inventory.StockChange{Ref: "B", Delta: -1, IdempotencyKey: "k-1"}); err != nil {
		t.Fatal(err)
	}
	before, queued := evMaxPK(t, e), evCount(t, e, "webhook_queue")
	refused := []struct {
		what string
		want error
		f    func() error
	}{
		{"adjust below zero (exit 5)", inventory.ErrInsufficientStock, func() error {
			_, err := e.ChangeStock(ctx, inventory.StockChange{Ref: "A", Delta: -7})
			return err
		}},
		{"set below zero (exit 5)", inventory.ErrInsufficientStock, func() error {
			_, err := e.ChangeStock(ctx, inventory.StockChange{Ref: "B", IsSet: true, Set: -1})
			return err
		}},
		{"compare-and-set mismatch", inventory.ErrConflict, func() error {
			_, err := e.ChangeStock(ctx, inventory.StockChange{Ref: "B", IsSet: true, Set: 1, Expect: ptr(int64(99))})
			return err
		}},
		{"set to the same value", nil, func() error {
			r, err := e.ChangeStock(ctx, inventory.StockChange{Ref: "A", IsSet: true, Set: 6})
			if err == nil && r.Changed {
				return fmt.Errorf("set to the same value changed something: %+v", r)
			}
			return err
		}},
		{"idempotent replay", nil, func() error {
			r, err := e.ChangeStock(ctx, inventory.StockChange{Ref: "B", Delta: -1, IdempotencyKey: "k-1"})
			if err == nil && !r.Replayed {
				return fmt.Errorf("not a replay: %+v", r)
			}
			return err
		}},
		{"import with a bad row (all-or-nothing)", inventory.ErrInvalid, func() error {
			_, err := evImport(t, e, "sku,qty\nA,1\nB,2\nA2,x\n", inventory.ImportOptions{})
			return err
		}},
		{"import with an unknown SKU", inventory.ErrInvalid, func() error {
			_, err := evImport(t, e, "sku,qty\nA,1\nNOPE,2\n", inventory.ImportOptions{})
			return err
		}},
		{"import going below zero", inventory.ErrInvalid, func() error {
			_, err := evImport(t, e, "sku,qty\nB,1\nA,-10\n", inventory.ImportOptions{Mode: inventory.ModeAdjust})
			return err
		}},
		{"import with duplicate SKUs", inventory.ErrInvalid, func() error {
			_, err := evImport(t, e, "sku,qty\nA,1\nB,2\na,3\n", inventory.ImportOptions{})
			return err
		}},
		{"delta file imported twice", inventory.ErrConflict, func() error {
			_, err := evImport(t, e, "sku,qty\nA,+1\n", inventory.ImportOptions{Mode: inventory.ModeAdjust, Name: "again.csv"})
			return err
		}},
		{"import dry run", nil, func() error {
			_, err := evImport(t, e, "sku,qty\nA,0\nB,0\n", inventory.ImportOptions{DryRun: true})
			return err
		}},
		{"import where every row is unchanged", nil, func() error {
			_, err := evImport(t, e, "sku,qty\nA,6\nB,11\n", inventory.ImportOptions{})
			return err
		}},
		{"order refused", inventory.ErrInsufficientStock, func() error {
			_, err := e.CreateOrder(ctx, inventory.OrderRequest{Lines: []inventory.CartLine{{SKU: "B", Quantity: 1}, {SKU: "A", Quantity: 7}}})
			return err
		}},
		{"order with an unknown SKU", inventory.ErrInsufficientStock, func() error {
			_, err := e.CreateOrder(ctx, inventory.OrderRequest{Lines: []inventory.CartLine{{SKU: "B", Quantity: 1}, {SKU: "NOPE", Quantity: 1}}})
			return err
		}},
		{"update of an unknown product", inventory.ErrNotFound, func() error {
			_, err := e.UpdateProduct(ctx, "NOPE", inventory.ProductFields{Stock: ptr(int64(1))})
			return err
		}},
		{"update that changes nothing", nil, func() error {
			_, err := e.UpdateProduct(ctx, "A", inventory.ProductFields{Stock: ptr(int64(6)), Title: ptr("Product A")})
			return err
		}},
	}
	for _, r := range refused {
		err := r.f()
		if r.want == nil && err != nil {
			t.Errorf("%s: %v", r.what, err)
		}
		if r.want != nil && !errors.Is(err, r.want) {
			t.Errorf("%s: error %v, want %v", r.what, err, r.want)
		}
		if rows := evOutbox(t, e, before); len(rows) != 0 {
			t.Errorf("%s: wrote events %v", r.what, evTypes(rows))
			before = evMaxPK(t, e)
		}
		if q := evCount(t, e, "webhook_queue"); q != queued {
			t.Errorf("%s: queue grew from %d to %d rows", r.what, queued, q)
			queued = q
		}
	}
	if a, b := stockOfEv(t, e, "A"), stockOfEv(t, e, "B"); a != 6 || b != 11 {
		t.Fatalf("stock A %d B %d, want 6 and 11", a, b)
	}
	// --partial applies the good rows: their events, and only theirs.
	before = evMaxPK(t, e)
	_, err := evImport(t, e, "sku,qty\nA,0\nNOPE,1\nB,10\n", inventory.ImportOptions{Partial: true})
	if !errors.Is(err, inventory.ErrPartial) {
		t.Fatalf("partial import: %v", err)
	}
	var got []string
	for _, r := range evOutbox(t, e, before) {
		p, _ := r.payload["sku"].(string)
		got = append(got, p+":"+r.typ)
	}
	want := "A:product.updated B:product.updated B:inventory.low_stock A:inventory.out_of_stock"
	if strings.Join(got, " ") != want {
		t.Errorf("partial import wrote %v, want %s", got, want)
	}
}

func stockOfEv(t testing.TB, e *Engine, ref string) int64 {
	t.Helper()
	p, err := e.GetProduct(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return p.Stock
}

// --- subscriptions and the queue ---------------------------------------------

func TestOutboxQueuesOnlySubscribedEndpoints(t *testing.T) {
	ctx := context.Background()
	e := evOpen(t)
	rc := newEvReceiver(t)
	hooks := map[string]string{} // webhook id → its pattern
	for _, pat := range []string{"*", "product.*", "inventory.low_stock", "order.*", "inventory.*,product.deleted"} {
		w := evAddHook(t, e, rc.srv.URL+"/"+strings.NewReplacer("*", "all", ",", "+").Replace(pat), strings.Split(pat, ",")...)
		hooks[w.ID] = pat
	}
	p := evTracked(t, e, "Q", 11, ptr(int64(10)), true)
	res, err := e.CreateOrder(ctx, inventory.OrderRequest{Lines: []inventory.CartLine{{SKU: "Q", Quantity: 11}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.CancelOrder(ctx, res.Order.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteProduct(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	types := map[int64]string{}
	for _, r := range evOutbox(t, e, 0) {
		types[r.pk] = r.typ
	}
	rows, err := e.DB().Query(`SELECT w.id, q.event_pk, q.subject, q.state FROM webhook_queue q JOIN webhooks w ON w.pk = q.webhook_pk ORDER BY w.pk, q.event_pk`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for rows.Next() {
		var wid, subject, state string
		var pk int64
		if err := rows.Scan(&wid, &pk, &subject, &state); err != nil {
			t.Fatal(err)
		}
		if state != "pending" {
			t.Errorf("queue row %s/%d is %s before any delivery", wid, pk, state)
		}
		got[hooks[wid]] = append(got[hooks[wid]], types[pk])
	}
	rows.Close()
	// A create with stock is one event, product.created, carrying that stock.
	all := []string{"product.created", "product.updated", "inventory.low_stock", "inventory.out_of_stock",
		"order.created", "product.updated", "order.cancelled", "product.deleted"}
	if got := evTypes(evOutbox(t, e, 0)); !reflect.DeepEqual(got, all) {
		t.Fatalf("outbox %v\nwant   %v", got, all)
	}
	want := map[string][]string{
		"*":                           all,
		"product.*":                   {"product.created", "product.updated", "product.updated", "product.deleted"},
		"inventory.low_stock":         {"inventory.low_stock"},
		"order.*":                     {"order.created", "order.cancelled"},
		"inventory.*,product.deleted": {"inventory.low_stock", "inventory.out_of_stock", "product.deleted"},
	}
	for pat, w := range want {
		if !reflect.DeepEqual(got[pat], w) {
			t.Errorf("endpoint %q queued %v\nwant %v", pat, got[pat], w)
		}
	}
	// Each endpoint receives what it subscribed to.
	evDeliverAll(t, e)
	perType := map[string]int{}
	for _, h := range rc.got() {
		perType[h.ev.Type]++
	}
	wantPerType := map[string]int{}
	for _, types := range want {
		for _, ty := range types {
			wantPerType[ty]++
		}
	}
	if !reflect.DeepEqual(perType, wantPerType) {
		t.Errorf("receiver got %v, want %v", perType, wantPerType)
	}
}

// --- delivery through the engine's queue -------------------------------------

func TestDeliverWebhooksFailsTwiceThenSucceeds(t *testing.T) {
	ctx := context.Background()
	e := evOpen(t)
	rc := newEvReceiver(t)
	rc.setCode(func(n int) int {
		if n <= 2 {
			return 500
		}
		return 200
	})
	w := evAddHook(t, e, rc.srv.URL, "product.updated")
	evTracked(t, e, "F", 0, nil, true) // with stock 0: no product.updated at create
	if _, err := e.ChangeStock(ctx, inventory.StockChange{Ref: "F", Delta: 3}); err != nil {
		t.Fatal(err)
	}
	rows := evOutbox(t, e, 0)
	var evID string
	for _, r := range rows {
		if r.typ == "product.updated" {
			evID = r.id
		}
	}
	// The automatic run after a command: retries within its budget.
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rep, err := e.DeliverWebhooks(dctx, 5*time.Second, false)
	if err != nil || rep.Attempts != 3 || rep.Delivered != 1 || rep.Failed != 2 || rep.Pending != 0 {
		t.Fatalf("DeliverWebhooks = %+v, %v", rep, err)
	}
	ds, err := e.Deliveries(ctx, false, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 3 {
		t.Fatalf("%d delivery rows: %+v", len(ds), ds)
	}
	for i, d := range ds {
		if d.EventID != evID || d.WebhookID != w.ID || d.Attempt != i+1 || d.Type != "product.updated" {
			t.Errorf("delivery %d: %+v", i, d)
		}
		if wantOK := i == 2; d.Delivered != wantOK || (d.Status == 200) != wantOK || (d.Error == "") != wantOK {
			t.Errorf("delivery %d: %+v", i, d)
		}
	}
	failed, _ := e.Deliveries(ctx, true, 100)
	if len(failed) != 2 {
		t.Errorf("--failed lists %d", len(failed))
	}
	hits := rc.got()
	ids := map[string]int{}
	for _, h := range hits {
		ids[h.ev.ID]++
		if !h.sigOK || string(h.body) != string(hits[0].body) {
			t.Errorf("attempt body/signature differs: sig ok %v\n%s\n%s", h.sigOK, h.body, hits[0].body)
		}
	}
	if len(hits) != 3 || len(ids) != 1 || ids[evID] != 3 {
		t.Errorf("receiver got %d requests, ids %v; want 3 of %s", len(hits), ids, evID)
	}
	ws, _ := e.ListWebhooks(ctx)
	if len(ws) != 1 || ws[0].FailureCount != 0 || ws[0].Pending != 0 || ws[0].LastTriggeredAt == nil {
		t.Errorf("webhook after success: %+v", ws)
	}
	// Nothing more to send: the event went out exactly once more than the failures.
	rep, err = e.DeliverWebhooks(dctx, time.Second, true)
	if err != nil || rep.Attempts != 0 {
		t.Errorf("second run = %+v, %v", rep, err)
	}
}

func TestDeliverWebhooksFailureCountAndBackoff(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e := evOpen(t)
	rc := newEvReceiver(t)
	rc.setCode(func(int) int { return 503 })
	evAddHook(t, e, rc.srv.URL, "*")
	evTracked(t, e, "G", 0, nil, true)                                                       // product.created
	if _, err := e.ChangeStock(ctx, inventory.StockChange{Ref: "G", Delta: 5}); err != nil { // product.updated
		t.Fatal(err)
	}
	failures := func() int {
		ws, err := e.ListWebhooks(ctx)
		if err != nil || len(ws) != 1 {
			t.Fatal(ws, err)
		}
		return ws[0].FailureCount
	}
	for i := 1; i <= 3; i++ {
		rep, err := e.DeliverWebhooks(ctx, 10*time.Second, true)
		if err != nil || rep.Attempts != 1 || rep.Failed != 1 || rep.Pending != 2 {
			t.Fatalf("run %d: %+v, %v", i, rep, err)
		}
		if f := failures(); f != i {
			t.Fatalf("after %d failed run(s) failureCount = %d", i, f)
		}
	}
	// The failed event waits for its backoff: an automatic run does not retry it now.
	var next int64
	if err := e.DB().QueryRow(`SELECT next_attempt_at FROM webhook_queue WHERE state = 'pending' ORDER BY event_pk LIMIT 1`).Scan(&next); err != nil {
		t.Fatal(err)
	}
	// Waits after failures 1, 2, 3: 250 ms, 500 ms, 1 s (±20 %).
	wait := time.Until(time.UnixMilli(next))
	if wait < 500*time.Millisecond || wait > 1250*time.Millisecond {
		t.Errorf("after 3 failures the next attempt is in %v, want 1 s ±20%%", wait)
	}
	if wait > 300*time.Millisecond { // (a loaded machine may have used up the window already)
		rep, err := e.DeliverWebhooks(ctx, 100*time.Millisecond, false)
		if err != nil || rep.Attempts != 0 {
			t.Errorf("automatic run inside the backoff window = %+v, %v", rep, err)
		}
	}
	// The receiver comes back: everything goes, failure count back to 0.
	rc.setCode(func(int) int { return 204 })
	rep := evDeliverAll(t, e)
	if rep.Delivered != 2 || failures() != 0 {
		t.Errorf("after recovery: %+v, failureCount %d", rep, failures())
	}
}

func TestDeliverWebhooksKeepsEachProductsOrder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e := evOpen(t)
	rc := newEvReceiver(t)
	// Fail about one request in three, deterministically.
	rc.setCode(func(n int) int {
		if n%3 == 1 {
			return 500
		}
		return 200
	})
	evAddHook(t, e, rc.srv.URL, "product.*")
	skus := []string{"P0", "P1", "P2", "P3"}
	for _, s := range skus {
		evTracked(t, e, s, 100, ptr(int64(10)), true)
	}
	for i := range 40 {
		if _, err := e.ChangeStock(ctx, inventory.StockChange{Ref: skus[i%4], Delta: -int64(i%7 + 1)}); err != nil {
			t.Fatal(err)
		}
		if i%5 == 0 {
			// the automatic run after a command, with a small budget
			if _, err := e.DeliverWebhooks(ctx, 50*time.Millisecond, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	for round := 0; ; round++ {
		if round == 20 {
			t.Fatal("still pending after 20 operator runs")
		}
		rep, err := e.DeliverWebhooks(ctx, 30*time.Second, true)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Pending == 0 {
			break
		}
	}
	// Per product, delivered stock values (first delivery of each id) follow the ledger.
	seen := map[string]bool{}
	got := map[string][]int64{}
	for _, h := range rc.got() {
		if !h.sigOK {
			t.Errorf("bad signature on %s", h.ev.ID)
		}
		if h.ev.ID == "" || seen[h.ev.ID] {
			continue
		}
		seen[h.ev.ID] = true
		sku, _ := h.ev.Data["sku"].(string)
		st, _ := h.ev.Data["stock"].(float64)
		got[sku] = append(got[sku], int64(st))
	}
	if len(seen) != evCount(t, e, "webhook_events") {
		t.Errorf("%d distinct events delivered of %d", len(seen), evCount(t, e, "webhook_events"))
	}
	for _, s := range skus {
		h, err := e.History(ctx, s, 0)
		if err != nil {
			t.Fatal(err)
		}
		var want []int64
		for _, m := range h {
			want = append(want, m.StockAfter)
		}
		if !reflect.DeepEqual(got[s], want) {
			t.Errorf("%s: delivered stock sequence %v\nledger                        %v", s, got[s], want)
		}
	}
}

// `inv webhook deliver` tries every pending event once, however many others
// fail: products whose first event the receiver keeps refusing must not
// starve the rest (the queue hands out jobs in pages).
func TestDeliverWebhooksAllModeReachesEveryProduct(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e := evOpen(t)
	const n, refused = 230, 210
	var mu sync.Mutex
	bad := map[string]bool{}
	rc2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev evBody
		_ = json.NewDecoder(r.Body).Decode(&ev)
		sku, _ := ev.Data["sku"].(string)
		mu.Lock()
		refuse := bad[sku]
		mu.Unlock()
		if refuse {
			w.WriteHeader(422)
			return
		}
		w.WriteHeader(200)
	}))
	defer rc2.Close()
	evAddHook(t, e, rc2.URL, "product.updated")
	for i := range n {
		sku := fmt.Sprintf("S%03d", i)
		if i < refused {
			bad[sku] = true
		}
		evTracked(t, e, sku, 0, nil, true)
		if _, err := e.ChangeStock(ctx, inventory.StockChange{Ref: sku, Delta: 1}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := e.DeliverWebhooks(ctx, time.Minute, true)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Attempts != n || rep.Delivered != n-refused || rep.Pending != refused {
		t.Errorf("one operator run over %d products (%d refused by the receiver) = %+v; want %d attempts, %d delivered, %d pending",
			n, refused, rep, n, n-refused, refused)
	}
}
