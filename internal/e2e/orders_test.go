package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// Carts, reservations and orders across real inv processes on one database
// file: no oversell when many orders race for the last units, one order per
// external id even when the same id arrives at the same instant, carts summed
// per product, reservations held and expired without any process running,
// cancellation restoring stock exactly once, and `validate && create` in a
// shell pipeline.

// --- JSON shapes of the order commands' output (the API's camelCase objects) ---

type orderItemJSON struct {
	ProductID     string `json:"productId"`
	SKU           string `json:"sku"`
	TitleSnapshot string `json:"titleSnapshot"`
	Quantity      int64  `json:"quantity"`
	UnitPrice     string `json:"unitPrice"`
	Deducted      int64  `json:"deducted"`
}

type orderJSON struct {
	ID            string          `json:"id"`
	OrderNumber   string          `json:"orderNumber"`
	ExternalID    *string         `json:"externalId"`
	Status        string          `json:"status"`
	Items         []orderItemJSON `json:"items"`
	Total         string          `json:"total"`
	ReservationID *string         `json:"reservationId"`
}

type cartLineJSON struct {
	ProductID string `json:"productId"`
	SKU       string `json:"sku"`
	Title     string `json:"title"`
	Requested int64  `json:"requested"`
	Available int64  `json:"available"`
	OK        bool   `json:"ok"`
	Reason    string `json:"reason"`
}

type cartReportJSON struct {
	OK    bool           `json:"ok"`
	Lines []cartLineJSON `json:"lines"`
}

type reservationJSON struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	ExpiresAt time.Time `json:"expiresAt"`
	Items     []struct {
		SKU      string `json:"sku"`
		Quantity int64  `json:"quantity"`
	} `json:"items"`
}

// heldProduct is a product with what reservations hold of it.
type heldProduct struct {
	ID        string `json:"id"`
	SKU       string `json:"sku"`
	Stock     int64  `json:"stock"`
	Reserved  int64  `json:"reserved"`
	Available int64  `json:"available"`
}

// refMovement is a ledger row with the ref naming the order that made it.
type refMovement struct {
	movement
	Ref string `json:"ref"`
}

// --- helpers ---

// decodeOut decodes a finished process's JSON stdout (whatever its exit code).
func decodeOut(t testing.TB, r result, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		t.Fatalf("inv %s: decoding stdout: %v\nstdout: %s\nstderr: %s", strings.Join(r.args, " "), err, r.stdout, r.stderr)
	}
}

// expect runs inv and fails the test unless it exits with code, without a
// lock error on stderr.
func (s *store) expect(t testing.TB, code int, args ...string) result {
	t.Helper()
	r := s.run(args...)
	if r.err != nil || r.code != code {
		t.Fatalf("want exit %d: %v (err %v)\nstdout: %s", code, r, r.err, r.stdout)
	}
	if msg := lockError(r.stderr); msg != "" {
		t.Fatalf("inv %s: stderr reports a lock error: %q", strings.Join(args, " "), msg)
	}
	return r
}

// validate runs `inv -o json cart validate ARGS`, wants exit code, and
// returns the verdict.
func (s *store) validate(t testing.TB, code int, args ...string) cartReportJSON {
	t.Helper()
	var rep cartReportJSON
	decodeOut(t, s.expect(t, code, append([]string{"-o", "json", "cart", "validate"}, args...)...), &rep)
	return rep
}

func (s *store) orders(t testing.TB) []orderJSON {
	t.Helper()
	var list []orderJSON
	s.okJSON(t, &list, "order", "list")
	return list
}

func (s *store) held(t testing.TB, ref string) heldProduct {
	t.Helper()
	var p heldProduct
	s.okJSON(t, &p, "product", "get", ref)
	return p
}

func (s *store) reservations(t testing.TB, all bool) []reservationJSON {
	t.Helper()
	args := []string{"reservation", "list"}
	if all {
		args = append(args, "--all")
	}
	var rs []reservationJSON
	s.okJSON(t, &rs, args...)
	return rs
}

// ledger is a product's ledger with refs, in commit order.
func (s *store) ledger(t testing.TB, sku string) []refMovement {
	t.Helper()
	var ms []refMovement
	s.okJSON(t, &ms, "stock", "history", sku, "--limit", "1000")
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
	return ms
}

// withReason returns the ledger rows with this reason.
func withReason(ms []refMovement, reason string) []refMovement {
	var out []refMovement
	for _, m := range ms {
		if m.Reason == reason {
			out = append(out, m)
		}
	}
	return out
}

func strOrNil(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// newProduct creates a product priced 2.50; track says whether its stock is tracked.
func (s *store) newProduct(t testing.TB, sku string, stock int, track bool, extra ...string) heldProduct {
	t.Helper()
	args := []string{"product", "create", "--title", "Product " + sku, "--sku", sku, "--price", "2.50", "--stock", fmt.Sprint(stock)}
	if track {
		args = append(args, "--track-stock")
	}
	s.ok(t, append(args, extra...)...)
	return s.held(t, sku)
}

// sh runs a shell script with inv on $PATH and the store's environment.
func (s *store) sh(t testing.TB, script string) result {
	t.Helper()
	shell, err := exec.LookPath("sh")
	if err != nil {
		t.Fatalf("the pipeline test needs a POSIX sh: %v", err)
	}
	env := s.environ()
	for i, kv := range env {
		if strings.HasPrefix(kv, "PATH=") {
			env[i] = "PATH=" + filepath.Dir(invBin) + string(os.PathListSeparator) + strings.TrimPrefix(kv, "PATH=")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	args := []string{"-c", script}
	cmd := exec.CommandContext(ctx, shell, args...)
	cmd.Env = env
	cmd.Dir = s.dir
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err = cmd.Run()
	r := exitResult(append([]string{"(sh -c)"}, args...), err, out.String(), errb.String(), time.Since(start))
	if ctx.Err() != nil {
		t.Fatalf("sh -c %q: timed out after %v", script, cmdTimeout)
	}
	if r.err != nil {
		t.Fatalf("sh -c %q: %v", script, r.err)
	}
	return r
}

func (s *store) writeFile(t testing.TB, name, content string) string {
	t.Helper()
	p := s.path(name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// --- the tests ---

// TestOrdersNeverOversell: 5 tracked units, 20 `inv order create --id O-n X=1`
// processes released together. Exactly 5 orders are placed, 15 refused with
// exit 5 naming X as insufficient at 0 available; stock ends at 0 and never
// went below it in the ledger. Three rounds, each on a fresh database.
func TestOrdersNeverOversell(t *testing.T) {
	const (
		stock = 5
		procs = 20
	)
	for round := 1; round <= 3; round++ {
		t.Run(fmt.Sprintf("round%d", round), func(t *testing.T) {
			s := newStore(t)
			s.newProduct(t, "X", stock, true)

			results := make([]result, procs)
			start := time.Now()
			runAll(procs, func(i int) {
				results[i] = s.run("-o", "json", "order", "create", "--id", fmt.Sprintf("O-%d", i), "X=1")
			})
			t.Logf("%d concurrent order creates in %v", procs, time.Since(start).Round(time.Millisecond))

			placed := map[string]string{} // external id -> order id
			refused := 0
			for i, r := range results {
				if msg := lockError(r.stderr); msg != "" {
					t.Errorf("process %d: lock error on stderr: %q", i, msg)
				}
				switch {
				case r.err != nil:
					t.Errorf("process %d: %v (err %v)", i, r, r.err)
				case r.code == 0:
					var o orderJSON
					decodeOut(t, r, &o)
					if ext := fmt.Sprintf("O-%d", i); strOrNil(o.ExternalID) != ext || o.Status != "paid" {
						t.Errorf("process %d: placed %+v, want a paid order with externalId %s", i, o, ext)
					}
					if !strings.Contains(r.stderr, "placed") {
						t.Errorf("process %d: exit 0 but stderr does not say the order was placed: %q", i, r.stderr)
					}
					placed[strOrNil(o.ExternalID)] = o.ID
				case r.code == 5:
					refused++
					// Refused only once X had really run out, and saying so.
					if !strings.Contains(r.stderr, "X (insufficient: 1 requested, 0 available)") {
						t.Errorf("process %d: refused, but stderr does not name X as insufficient at 0 available: %q", i, r.stderr)
					}
				default:
					t.Errorf("process %d: %v", i, r)
				}
			}
			if len(placed) != stock || refused != procs-stock {
				t.Errorf("%d orders placed and %d refused (exit 5), want %d and %d", len(placed), refused, stock, procs-stock)
			}

			if got := s.stockOf(t, "X"); got != 0 {
				t.Errorf("final stock = %d, want 0", got)
			}
			listed := s.orders(t)
			if len(listed) != stock {
				t.Errorf("order list has %d orders, want %d", len(listed), stock)
			}
			numbers := map[string]bool{}
			for _, o := range listed {
				numbers[o.OrderNumber] = true
				if placed[strOrNil(o.ExternalID)] != o.ID {
					t.Errorf("listed order %s (%s, externalId %s) is not one a process reported placing", o.OrderNumber, o.ID, strOrNil(o.ExternalID))
				}
			}
			for n := 1; n <= stock; n++ {
				if num := fmt.Sprintf("ORD-%06d", n); !numbers[num] {
					t.Errorf("no order %s: numbers are %v", num, numbers)
				}
			}

			ms := s.ledger(t, "X")
			want := int64(stock)
			refs := map[string]bool{}
			for _, m := range ms {
				if m.StockAfter < 0 {
					t.Errorf("ledger row %+v: stock went negative", m)
				}
				if m.Reason != "order" {
					continue
				}
				want--
				refs[m.Ref] = true
				if m.Delta != -1 || m.StockAfter != want {
					t.Errorf("ledger row %+v: want delta -1, stockAfter %d", m, want)
				}
			}
			if got := len(withReason(ms, "order")); got != stock {
				t.Errorf("ledger has %d order rows, want %d", got, stock)
			}
			for ext, id := range placed {
				if !refs[id] {
					t.Errorf("order %s (%s) has no ledger row with ref %s", ext, id, id)
				}
			}
		})
	}
}

// TestSameExternalIDOnce: 2, then 8 processes send the same --id at once.
// Every one exits 0 with the same order, exactly one order exists per id, and
// stock went down by the quantity once: one ledger row with reason order.
func TestSameExternalIDOnce(t *testing.T) {
	s := newStore(t)
	s.newProduct(t, "X", 50, true)
	stock := int64(50)
	for round, n := range []int{2, 8} {
		ext := fmt.Sprintf("web-%d", n)
		results := make([]result, n)
		runAll(n, func(i int) {
			results[i] = s.run("-o", "json", "order", "create", "--id", ext, "X=3")
		})
		ids := map[string]int{}
		placedMsgs, existingMsgs := 0, 0
		for i, r := range results {
			if r.code != 0 || r.err != nil {
				t.Errorf("%d at once, process %d: %v (err %v)", n, i, r, r.err)
				continue
			}
			if msg := lockError(r.stderr); msg != "" {
				t.Errorf("%d at once, process %d: lock error on stderr: %q", n, i, msg)
			}
			var o orderJSON
			decodeOut(t, r, &o)
			ids[o.ID]++
			if strings.Contains(r.stderr, "placed; stock deducted") {
				placedMsgs++
			}
			if strings.Contains(r.stderr, "already exists; nothing was deducted") {
				existingMsgs++
			}
		}
		orderID := ""
		for id := range ids {
			orderID = id
		}
		if len(ids) != 1 {
			t.Errorf("%d processes with --id %s got %d different orders: %v", n, ext, len(ids), ids)
		}
		if placedMsgs != 1 || existingMsgs != n-1 {
			t.Errorf("%d processes with --id %s: %d said placed and %d said it already exists, want 1 and %d", n, ext, placedMsgs, existingMsgs, n-1)
		}

		stock -= 3
		if got := s.stockOf(t, "X"); got != stock {
			t.Errorf("after %d processes with --id %s: stock %d, want %d (deducted once)", n, ext, got, stock)
		}
		listed := s.orders(t)
		withExt := 0
		for _, o := range listed {
			if strOrNil(o.ExternalID) == ext {
				withExt++
			}
		}
		if withExt != 1 || len(listed) != round+1 {
			t.Errorf("after --id %s: %d orders with that id, %d in all; want 1 and %d", ext, withExt, len(listed), round+1)
		}
		rows := withReason(s.ledger(t, "X"), "order")
		if len(rows) != round+1 {
			t.Errorf("after --id %s: %d ledger rows with reason order, want %d: %+v", ext, len(rows), round+1, rows)
		}
		if len(rows) > 0 && len(ids) == 1 {
			if last := rows[len(rows)-1]; last.Ref != orderID || last.Delta != -3 {
				t.Errorf("after --id %s: last order row %+v, want delta -3 with ref %s", ext, last, orderID)
			}
		}
	}
}

// TestCartSameSKUTwice: lines naming the same product are summed before the
// check, whether the SKU differs in case or spaces, or one line names the
// product by id and the other by SKU.
func TestCartSameSKUTwice(t *testing.T) {
	s := newStore(t)
	s.newProduct(t, "X", 1, true)
	mug := s.newProduct(t, "MUG-BLU", 1, true)

	s.validate(t, 0, "X=1")
	for _, args := range [][]string{{"X=1", "x=1"}, {"X=1", " x =1"}} {
		rep := s.validate(t, 5, args...)
		if rep.OK || len(rep.Lines) != 1 {
			t.Fatalf("cart validate %q: %+v, want one summed line, not ok", args, rep)
		}
		if l := rep.Lines[0]; l.SKU != "X" || l.Requested != 2 || l.Available != 1 || l.OK || l.Reason != "insufficient" {
			t.Errorf("cart validate %q: line %+v, want X requested 2, available 1, insufficient", args, l)
		}
	}
	// An order of the same lines is refused whole, and deducts nothing.
	r := s.expect(t, 5, "order", "create", "X=1", "x=1", "--id", "twice")
	if !strings.Contains(r.stderr, "X (insufficient: 2 requested, 1 available)") {
		t.Errorf("order create X=1 x=1: stderr %q, want X insufficient with 2 requested", r.stderr)
	}
	if got := s.stockOf(t, "X"); got != 1 {
		t.Errorf("stock of X after a refused order = %d, want 1", got)
	}
	if listed := s.orders(t); len(listed) != 0 {
		t.Errorf("a refused order was stored: %+v", listed)
	}

	// A storefront cart: the mug once by productId, once by SKU in another case with a space.
	cart := s.writeFile(t, "cart.json", fmt.Sprintf(`{"items":[{"productId":%q,"quantity":1},{"sku":"mug-blu ","quantity":1}]}`, mug.ID))
	rep := s.validate(t, 5, cart)
	if rep.OK || len(rep.Lines) != 1 {
		t.Fatalf("cart.json: %+v, want one summed line, not ok", rep)
	}
	if l := rep.Lines[0]; l.ProductID != mug.ID || l.SKU != "MUG-BLU" || l.Requested != 2 || l.Available != 1 || l.Reason != "insufficient" {
		t.Errorf("cart.json: line %+v, want MUG-BLU (%s) requested 2, available 1, insufficient", l, mug.ID)
	}
	one := s.writeFile(t, "one.json", fmt.Sprintf(`{"items":[{"productId":%q,"quantity":1}]}`, mug.ID))
	s.validate(t, 0, one)
}

// TestReservationAcrossProcesses: a reservation made by one process holds
// units against every other process's carts and orders; it stops counting
// when released, when its TTL passes (no process running), or when an order
// consumes it.
func TestReservationAcrossProcesses(t *testing.T) {
	s := newStore(t)
	s.newProduct(t, "X", 3, true)

	// Process A holds 2 of 3 for 3 s.
	var res reservationJSON
	decodeOut(t, s.expect(t, 0, "-o", "json", "cart", "reserve", "X=2", "--ttl", "3s"), &res)
	if res.ID == "" || res.Status != "active" || len(res.Items) != 1 || res.Items[0].Quantity != 2 {
		t.Fatalf("cart reserve X=2: %+v, want an active reservation of 2 X", res)
	}
	// Process B sees 1 available, until A's reservation is released.
	repShort := s.validate(t, 5, "X=2")
	s.validate(t, 0, "X=1")
	p := s.held(t, "X")
	live := s.reservations(t, false)
	if time.Now().After(res.ExpiresAt) {
		t.Fatalf("the checks took past the reservation's 3 s TTL (expires %v): this machine is too slow for this test", res.ExpiresAt)
	}
	if l := repShort.Lines; len(l) != 1 || l[0].Available != 1 || l[0].Reason != "insufficient" {
		t.Errorf("cart validate X=2 while 2 of 3 are held: %+v, want available 1, insufficient", repShort)
	}
	if p.Stock != 3 || p.Reserved != 2 || p.Available != 1 {
		t.Errorf("product get X while 2 are held: stock %d, reserved %d, available %d; want 3, 2, 1", p.Stock, p.Reserved, p.Available)
	}
	if len(live) != 1 || live[0].ID != res.ID || live[0].Status != "active" {
		t.Errorf("reservation list: %+v, want %s active", live, res.ID)
	}

	r := s.expect(t, 0, "reservation", "release", res.ID)
	if !strings.Contains(r.stderr, "released") {
		t.Errorf("reservation release: stderr %q, want it to say released", r.stderr)
	}
	s.validate(t, 0, "X=2")
	if p := s.held(t, "X"); p.Reserved != 0 || p.Available != 3 {
		t.Errorf("after release: reserved %d, available %d; want 0, 3", p.Reserved, p.Available)
	}

	// A new reservation expires by itself: B's cart becomes valid once the
	// TTL has passed, while nothing touches the reservation.
	var res2 reservationJSON
	decodeOut(t, s.expect(t, 0, "-o", "json", "cart", "reserve", "X=2", "--ttl", "3s"), &res2)
	deadline := time.Now().Add(6 * time.Second)
	polls := 0
	var validAt time.Time
	for time.Now().Before(deadline) {
		polls++
		begin := time.Now()
		r := s.run("cart", "validate", "X=2")
		end := time.Now()
		if r.err != nil || (r.code != 0 && r.code != 5) {
			t.Fatalf("poll %d: %v (err %v)", polls, r, r.err)
		}
		if r.code == 5 && begin.After(res2.ExpiresAt.Add(50*time.Millisecond)) {
			t.Errorf("poll %d, started %v after the reservation expired: still refused", polls, begin.Sub(res2.ExpiresAt).Round(time.Millisecond))
		}
		if r.code == 0 {
			if end.Before(res2.ExpiresAt) {
				t.Errorf("poll %d: cart valid %v before the reservation expires", polls, res2.ExpiresAt.Sub(end).Round(time.Millisecond))
			}
			validAt = end
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if validAt.IsZero() {
		t.Fatalf("cart validate X=2 still refused 6 s after a 3 s reservation was made (%d polls)", polls)
	}
	t.Logf("cart valid again %v after the reservation's expiry (%d polls)", validAt.Sub(res2.ExpiresAt).Round(time.Millisecond), polls)
	if p := s.held(t, "X"); p.Stock != 3 || p.Reserved != 0 || p.Available != 3 {
		t.Errorf("after expiry: stock %d, reserved %d, available %d; want 3, 0, 3", p.Stock, p.Reserved, p.Available)
	}
	for _, lr := range s.reservations(t, false) {
		t.Errorf("reservation list after expiry still lists %+v", lr)
	}
	for _, lr := range s.reservations(t, true) {
		if lr.ID == res2.ID && lr.Status != "expired" {
			t.Errorf("reservation list --all: %s is %q, want expired", lr.ID, lr.Status)
		}
	}

	// An order consumes a reservation: the held units are its to take, and
	// another process's order cannot take them meanwhile.
	var res3 reservationJSON
	decodeOut(t, s.expect(t, 0, "-o", "json", "cart", "reserve", "X=2", "--ttl", "1m"), &res3)
	s.expect(t, 5, "order", "create", "X=2", "--id", "not-mine")
	var o orderJSON
	decodeOut(t, s.expect(t, 0, "-o", "json", "order", "create", "X=2", "--reservation", res3.ID, "--id", "web-r"), &o)
	if strOrNil(o.ReservationID) != res3.ID || len(o.Items) != 1 || o.Items[0].Deducted != 2 {
		t.Errorf("order create --reservation: %+v, want reservationId %s and 2 deducted", o, res3.ID)
	}
	if p := s.held(t, "X"); p.Stock != 1 || p.Reserved != 0 || p.Available != 1 {
		t.Errorf("after the order: stock %d, reserved %d, available %d; want 1, 0, 1", p.Stock, p.Reserved, p.Available)
	}
	for _, lr := range s.reservations(t, false) {
		t.Errorf("reservation list after the order consumed it still lists %+v", lr)
	}
	found := false
	for _, lr := range s.reservations(t, true) {
		if lr.ID == res3.ID {
			found = true
			if lr.Status != "consumed" {
				t.Errorf("reservation list --all: %s is %q, want consumed", lr.ID, lr.Status)
			}
		}
	}
	if !found {
		t.Errorf("reservation list --all does not list %s", res3.ID)
	}
	// A consumed reservation is not used twice.
	s.expect(t, 4, "order", "create", "X=1", "--reservation", res3.ID, "--id", "web-r2")
	if got := s.stockOf(t, "X"); got != 1 {
		t.Errorf("stock after reusing a consumed reservation = %d, want 1", got)
	}
}

// TestCancelRestoresOnce: cancelling restores each tracked line once (ledger
// reason order_cancelled, ref = the order id), again changes nothing, and
// never touches an untracked product. Fulfil after cancel and cancel after
// fulfil are conflicts (exit 4).
func TestCancelRestoresOnce(t *testing.T) {
	s := newStore(t)
	s.newProduct(t, "X", 5, true)
	s.newProduct(t, "U", 7, false) // untracked
	untrackedRows := len(s.ledger(t, "U"))

	var o orderJSON
	decodeOut(t, s.expect(t, 0, "-o", "json", "order", "create", "X=2", "U=3", "--id", "c-1"), &o)
	if len(o.Items) != 2 || o.Items[0].Deducted != 2 || o.Items[1].Deducted != 0 {
		t.Fatalf("order create X=2 U=3: %+v, want X deducted 2 and U (untracked) 0", o)
	}
	if got := s.stockOf(t, "X"); got != 3 {
		t.Errorf("stock of X after the order = %d, want 3", got)
	}

	r := s.expect(t, 0, "order", "cancel", "c-1")
	if !strings.Contains(r.stderr, "cancelled; stock restored") {
		t.Errorf("first cancel: stderr %q", r.stderr)
	}
	r = s.expect(t, 0, "order", "cancel", o.ID)
	if !strings.Contains(r.stderr, "already cancelled") {
		t.Errorf("second cancel: stderr %q, want it to say already cancelled", r.stderr)
	}
	if got := s.stockOf(t, "X"); got != 5 {
		t.Errorf("stock of X after cancelling twice = %d, want 5 (restored once)", got)
	}
	if got := s.stockOf(t, "U"); got != 7 {
		t.Errorf("stock of untracked U = %d, want 7 untouched", got)
	}
	ms := s.ledger(t, "X")
	ordered, cancelled := withReason(ms, "order"), withReason(ms, "order_cancelled")
	if len(ordered) != 1 || ordered[0].Delta != -2 || ordered[0].Ref != o.ID {
		t.Errorf("ledger of X: order rows %+v, want one -2 with ref %s", ordered, o.ID)
	}
	if len(cancelled) != 1 || cancelled[0].Delta != 2 || cancelled[0].StockAfter != 5 || cancelled[0].Ref != o.ID {
		t.Errorf("ledger of X: order_cancelled rows %+v, want one +2 to 5 with ref %s", cancelled, o.ID)
	}
	if n := len(s.ledger(t, "U")); n != untrackedRows {
		t.Errorf("ledger of untracked U has %d rows, want %d (no order rows)", n, untrackedRows)
	}

	// Fulfil after cancel: conflict, and the order stays cancelled.
	r = s.expect(t, 4, "order", "fulfill", "c-1")
	if !strings.Contains(r.stderr, "cancelled") {
		t.Errorf("fulfill after cancel: stderr %q", r.stderr)
	}
	var got orderJSON
	s.okJSON(t, &got, "order", "get", "c-1")
	if got.Status != "cancelled" {
		t.Errorf("order c-1 is %q after a refused fulfil, want cancelled", got.Status)
	}

	// Fulfilled, then cancel: conflict, and stock stays deducted.
	var o2 orderJSON
	decodeOut(t, s.expect(t, 0, "-o", "json", "order", "create", "X=1", "--id", "c-2"), &o2)
	s.expect(t, 0, "order", "fulfill", "c-2")
	r = s.expect(t, 0, "order", "fulfill", "c-2")
	if !strings.Contains(r.stderr, "already fulfilled") {
		t.Errorf("second fulfil: stderr %q", r.stderr)
	}
	s.expect(t, 4, "order", "cancel", "c-2")
	if got := s.stockOf(t, "X"); got != 4 {
		t.Errorf("stock of X after cancelling a fulfilled order = %d, want 4", got)
	}
	s.okJSON(t, &got, "order", "get", o2.OrderNumber)
	if got.Status != "fulfilled" {
		t.Errorf("order %s is %q after a refused cancel, want fulfilled", o2.OrderNumber, got.Status)
	}

	// Six processes cancel the same order at once: restored once.
	var o3 orderJSON
	decodeOut(t, s.expect(t, 0, "-o", "json", "order", "create", "X=3", "--id", "c-3"), &o3)
	const procs = 6
	results := make([]result, procs)
	runAll(procs, func(i int) { results[i] = s.run("order", "cancel", "c-3") })
	restored := 0
	for i, r := range results {
		if r.code != 0 || r.err != nil {
			t.Errorf("concurrent cancel %d: %v (err %v)", i, r, r.err)
		}
		if strings.Contains(r.stderr, "cancelled; stock restored") {
			restored++
		}
	}
	if restored != 1 {
		t.Errorf("%d of %d concurrent cancels said they restored stock, want 1", restored, procs)
	}
	if got := s.stockOf(t, "X"); got != 4 {
		t.Errorf("stock of X after concurrent cancels = %d, want 4", got)
	}
	rows := 0
	for _, m := range withReason(s.ledger(t, "X"), "order_cancelled") {
		if m.Ref == o3.ID {
			rows++
		}
	}
	if rows != 1 {
		t.Errorf("%d order_cancelled rows for %s, want 1", rows, o3.ID)
	}
}

// TestValidateThenCreatePipeline: `inv cart validate cart.json && inv order
// create cart.json --id web-1` in sh, with a storefront cart naming products
// by id. A good cart runs both; a short one stops at validate (exit 5).
func TestValidateThenCreatePipeline(t *testing.T) {
	s := newStore(t)
	mug := s.newProduct(t, "MUG-BLU", 3, true)
	tee := s.newProduct(t, "TEE-M", 1, true)
	s.writeFile(t, "cart.json", fmt.Sprintf(`{"items":[{"productId":%q,"quantity":2},{"productId":%q,"quantity":1}]}`, mug.ID, tee.ID))

	r := s.sh(t, `inv cart validate cart.json && inv order create cart.json --id web-1`)
	if r.code != 0 {
		t.Fatalf("pipeline with a good cart: %v\nstdout: %s", r, r.stdout)
	}
	if !strings.Contains(r.stderr, "the cart can be fulfilled") || !strings.Contains(r.stderr, "order ORD-000001 placed") {
		t.Errorf("pipeline with a good cart: stderr %q, want validate's and create's messages", r.stderr)
	}
	listed := s.orders(t)
	if len(listed) != 1 || strOrNil(listed[0].ExternalID) != "web-1" || len(listed[0].Items) != 2 {
		t.Fatalf("orders after the pipeline: %+v, want web-1 with 2 items", listed)
	}
	if m, tm := s.stockOf(t, "MUG-BLU"), s.stockOf(t, "TEE-M"); m != 1 || tm != 0 {
		t.Errorf("after the pipeline: MUG-BLU %d, TEE-M %d; want 1, 0", m, tm)
	}

	// The same cart again is now short: validate exits 5, create never runs.
	r = s.sh(t, `inv cart validate cart.json && inv order create cart.json --id web-2`)
	if r.code != 5 {
		t.Fatalf("pipeline with a short cart: %v, want exit 5", r)
	}
	if strings.Contains(r.stderr, "placed") || !strings.Contains(r.stderr, "MUG-BLU (insufficient)") {
		t.Errorf("pipeline with a short cart: stderr %q, want validate's refusal only", r.stderr)
	}
	if listed := s.orders(t); len(listed) != 1 {
		t.Errorf("orders after the short pipeline: %d, want 1", len(listed))
	}
	s.expect(t, 3, "order", "get", "web-2")
	if m, tm := s.stockOf(t, "MUG-BLU"), s.stockOf(t, "TEE-M"); m != 1 || tm != 0 {
		t.Errorf("after the short pipeline: MUG-BLU %d, TEE-M %d; want 1, 0", m, tm)
	}

	// The cart from stdin, as in `inv cart validate - < cart.json && …`.
	s.ok(t, "stock", "adjust", "MUG-BLU", "+1")
	s.ok(t, "stock", "adjust", "TEE-M", "+1")
	r = s.sh(t, `inv cart validate - < cart.json && inv order create - --id web-3 < cart.json`)
	if r.code != 0 {
		t.Fatalf("pipeline from stdin: %v", r)
	}
	if listed := s.orders(t); len(listed) != 2 || strOrNil(listed[1].ExternalID) != "web-3" {
		t.Errorf("orders after the stdin pipeline: %+v, want web-1 and web-3", listed)
	}
	if m, tm := s.stockOf(t, "MUG-BLU"), s.stockOf(t, "TEE-M"); m != 0 || tm != 0 {
		t.Errorf("after the stdin pipeline: MUG-BLU %d, TEE-M %d; want 0, 0", m, tm)
	}
}
