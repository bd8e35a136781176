package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/inv-cli/inv/internal/inventory"
	"github.com/inv-cli/inv/internal/webhook"
)

// AddWebhook registers an endpoint. The secret is generated when empty and
// returned this once.
func (e *Engine) AddWebhook(ctx context.Context, url string, events []string, secret string) (inventory.Webhook, error) {
	var w inventory.Webhook
	if err := webhook.ValidURL(url); err != nil {
		return w, inventory.Invalidf("%v", err)
	}
	if len(events) == 0 {
		return w, inventory.Invalidf("--events is required: e.g. --events product.updated,inventory.low_stock")
	}
	for i, ev := range events {
		events[i] = strings.TrimSpace(ev)
		if err := webhook.ValidPattern(events[i]); err != nil {
			return w, inventory.Invalidf("%v", err)
		}
	}
	if secret == "" {
		secret = webhook.NewSecret()
	} else if len(secret) < webhook.MinSecretLen {
		return w, inventory.Invalidf("--secret must be at least %d characters", webhook.MinSecretLen)
	}
	evs, _ := json.Marshal(events)
	id := newID("wh_")
	err := e.writeTx(ctx, func(tx *sql.Tx) error {
		now := e.nowMS()
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhooks (id, store_id, url, events, secret, created_at, updated_at) VALUES (?,?,?,?,?,?,?)`,
			id, e.store, url, string(evs), secret, now, now); err != nil {
			return err
		}
		var err error
		w, err = e.webhook(ctx, tx, id)
		return err
	})
	w.Secret = secret
	return w, err
}

func (e *Engine) webhook(ctx context.Context, q querier, id string) (inventory.Webhook, error) {
	var w inventory.Webhook
	var events string
	var last sql.NullInt64
	var created, updated int64
	err := q.QueryRowContext(ctx, `SELECT id, store_id, url, events, is_active, last_triggered_at, failure_count, created_at, updated_at,
		(SELECT count(*) FROM webhook_queue q WHERE q.webhook_pk = w.pk AND q.state = 'pending')
		FROM webhooks w WHERE store_id = ? AND id = ?`, e.store, strings.TrimSpace(id)).
		Scan(&w.ID, &w.StoreID, &w.URL, &events, &w.IsActive, &last, &w.FailureCount, &created, &updated, &w.Pending)
	if errors.Is(err, sql.ErrNoRows) {
		return w, inventory.NotFoundf("no webhook %q in store %q (see inv webhook list)", id, e.store)
	}
	if err != nil {
		return w, err
	}
	_ = json.Unmarshal([]byte(events), &w.Events)
	if last.Valid {
		t := msTime(last.Int64)
		w.LastTriggeredAt = &t
	}
	w.CreatedAt, w.UpdatedAt = msTime(created), msTime(updated)
	return w, nil
}

// ListWebhooks lists the store's endpoints (without secrets).
func (e *Engine) ListWebhooks(ctx context.Context) ([]inventory.Webhook, error) {
	var out []inventory.Webhook
	err := e.readTx(ctx, func(tx *sql.Tx) error {
		ids, err := queryIDs(ctx, tx, `SELECT id FROM webhooks WHERE store_id = ? ORDER BY pk`, e.store)
		if err != nil {
			return err
		}
		for _, id := range ids {
			w, err := e.webhook(ctx, tx, id)
			if err != nil {
				return err
			}
			out = append(out, w)
		}
		return nil
	})
	return out, err
}

// RemoveWebhook deletes an endpoint and what was still queued for it.
func (e *Engine) RemoveWebhook(ctx context.Context, id string) error {
	return e.writeTx(ctx, func(tx *sql.Tx) error {
		w, err := e.webhook(ctx, tx, id)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM webhook_queue WHERE webhook_pk = (SELECT pk FROM webhooks WHERE id = ?1);
			DELETE FROM webhooks WHERE id = ?1`, w.ID)
		return err
	})
}

// queue is the engine's webhook.Queue over the outbox tables.
type queue struct{ e *Engine }

// lease keeps a job that one process is sending away from another.
const lease = 30 * time.Second

func (q queue) Due(ctx context.Context, all bool, skip []string, limit int) ([]webhook.Job, error) {
	e := q.e
	var jobs []webhook.Job
	if skip == nil {
		skip = []string{}
	}
	skipJSON, _ := json.Marshal(skip)
	now := time.Now().UnixMilli()
	// Finding due jobs reads (a backlog makes it slow); only claiming them writes.
	err := e.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT q.webhook_pk, q.event_pk, w.id, w.url, w.secret, ev.id, ev.type, ev.store_id, ev.payload, ev.created_at, q.attempts
			FROM webhook_queue q JOIN webhooks w ON w.pk = q.webhook_pk JOIN webhook_events ev ON ev.pk = q.event_pk
			WHERE q.state = 'pending' AND w.is_active = 1 AND w.store_id = ?
			  AND (? OR q.next_attempt_at <= ?)
			  AND NOT EXISTS (SELECT 1 FROM webhook_queue q2 WHERE q2.webhook_pk = q.webhook_pk AND q2.subject = q.subject
			                  AND q2.state = 'pending' AND q2.event_pk < q.event_pk)
			  AND NOT EXISTS (SELECT 1 FROM json_each(?) s WHERE s.value = q.webhook_pk || ':' || q.event_pk)
			ORDER BY q.webhook_pk, q.event_pk LIMIT ?`, e.store, all, now, string(skipJSON), limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			var j webhook.Job
			var payload string
			var created int64
			if err := rows.Scan(&j.WebhookPK, &j.EventPK, &j.WebhookID, &j.URL, &j.Secret, &j.EventID, &j.Type, &j.StoreID, &payload, &created, &j.Attempts); err != nil {
				rows.Close()
				return err
			}
			j.Payload = json.RawMessage(payload)
			j.CreatedAt = time.UnixMilli(created).UTC()
			jobs = append(jobs, j)
		}
		rows.Close()
		return rows.Err()
	})
	if err != nil || all || len(jobs) == 0 {
		return jobs, err // an operator's run ignores waits and leases alike
	}
	// Claim them: another process's run skips them for the lease. A job
	// another process claimed in between is dropped here.
	var claimed []webhook.Job
	err = e.writeTx(ctx, func(tx *sql.Tx) error {
		claimed = claimed[:0]
		for _, j := range jobs {
			res, err := tx.ExecContext(ctx, `UPDATE webhook_queue SET next_attempt_at = ?
				WHERE webhook_pk = ? AND event_pk = ? AND state = 'pending' AND next_attempt_at <= ?`,
				now+lease.Milliseconds(), j.WebhookPK, j.EventPK, now)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				claimed = append(claimed, j)
			}
		}
		return nil
	})
	return claimed, err
}

func (q queue) NextDue(ctx context.Context) (time.Time, bool, error) {
	var next sql.NullInt64
	err := q.e.readTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT min(q.next_attempt_at) FROM webhook_queue q JOIN webhooks w ON w.pk = q.webhook_pk
			WHERE q.state = 'pending' AND w.is_active = 1 AND w.store_id = ?`, q.e.store).Scan(&next)
	})
	if err != nil || !next.Valid {
		return time.Time{}, false, err
	}
	return time.UnixMilli(next.Int64), true, nil
}

func (q queue) Record(ctx context.Context, j webhook.Job, r webhook.Result, retryAt time.Time) error {
	return q.e.writeTx(ctx, func(tx *sql.Tx) error {
		now := time.Now().UnixMilli()
		var status, errText any
		if r.Status != 0 {
			status = r.Status
		}
		if r.Err != "" {
			errText = r.Err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (webhook_pk, event_pk, attempt, status_code, latency_ms, error, created_at)
			VALUES (?,?,?,?,?,?,?)`, j.WebhookPK, j.EventPK, j.Attempts+1, status, r.Latency.Milliseconds(), errText, now); err != nil {
			return err
		}
		if r.Delivered {
			if _, err := tx.ExecContext(ctx, `UPDATE webhook_queue SET state = 'delivered', attempts = attempts + 1, last_error = NULL
				WHERE webhook_pk = ? AND event_pk = ?`, j.WebhookPK, j.EventPK); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `UPDATE webhooks SET last_triggered_at = ?, failure_count = 0 WHERE pk = ?`, now, j.WebhookPK)
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_queue SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?
			WHERE webhook_pk = ? AND event_pk = ?`, errText, retryAt.UnixMilli(), j.WebhookPK, j.EventPK); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE webhooks SET last_triggered_at = ?, failure_count = failure_count + 1 WHERE pk = ?`, now, j.WebhookPK)
		return err
	})
}

// UserAgent is sent with every delivery.
var UserAgent = "inv-webhooks/1"

// DeliverWebhooks sends pending events until none is due or budget is
// spent. all ignores backoff waits and tries each pending event once.
func (e *Engine) DeliverWebhooks(ctx context.Context, budget time.Duration, all bool) (inventory.DeliveryReport, error) {
	var rep inventory.DeliveryReport
	if budget <= 0 {
		return rep, nil // delivery after commands is turned off
	}
	// Most commands run with nothing queued: say so with one read.
	var pending bool
	if err := e.readTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM webhook_queue WHERE state = 'pending')`).Scan(&pending)
	}); err != nil || !pending {
		return rep, err
	}
	s, err := webhook.Deliver(ctx, queue{e}, webhook.NewClient(10*time.Second, UserAgent, nil), webhook.Options{Budget: budget, All: all})
	rep.Attempts, rep.Delivered, rep.Failed = s.Attempts, s.Delivered, s.Failed
	if err != nil {
		return rep, translate(err)
	}
	err = e.readTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM webhook_queue q JOIN webhooks w ON w.pk = q.webhook_pk
			WHERE q.state = 'pending' AND w.is_active = 1 AND w.store_id = ?`, e.store).Scan(&rep.Pending)
	})
	return rep, err
}

// TestWebhook sends a sample event (type webhook.test) to one endpoint now,
// outside the queue, and reports the answer.
func (e *Engine) TestWebhook(ctx context.Context, id string) (inventory.DeliveryReport, error) {
	var rep inventory.DeliveryReport
	var j webhook.Job
	err := e.readTx(ctx, func(tx *sql.Tx) error {
		w, err := e.webhook(ctx, tx, id)
		if err != nil {
			return err
		}
		j = webhook.Job{WebhookID: w.ID, URL: w.URL, EventID: newID("evt_test_"), Type: "webhook.test", StoreID: e.store,
			Payload: json.RawMessage(`{"message":"a test event from inv webhook test"}`), CreatedAt: time.Now()}
		return tx.QueryRowContext(ctx, `SELECT secret FROM webhooks WHERE id = ?`, w.ID).Scan(&j.Secret)
	})
	if err != nil {
		return rep, err
	}
	r := webhook.NewClient(10*time.Second, UserAgent, nil).Send(ctx, j)
	rep.Attempts, rep.Status, rep.LatencyMS, rep.Body, rep.Error = 1, r.Status, r.Latency.Milliseconds(), r.Body, r.Err
	if r.Delivered {
		rep.Delivered = 1
	} else {
		rep.Failed = 1
	}
	return rep, nil
}

// Deliveries lists delivery attempts, newest last (the last limit).
func (e *Engine) Deliveries(ctx context.Context, failedOnly bool, limit int) ([]inventory.Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []inventory.Delivery
	err := e.readTx(ctx, func(tx *sql.Tx) error {
		cond := ""
		if failedOnly {
			cond = " AND d.error IS NOT NULL"
		}
		rows, err := tx.QueryContext(ctx, `SELECT * FROM (SELECT d.pk, d.created_at, w.id, ev.id, ev.type, d.attempt, coalesce(d.status_code, 0), d.latency_ms, coalesce(d.error, '')
			FROM webhook_deliveries d JOIN webhooks w ON w.pk = d.webhook_pk JOIN webhook_events ev ON ev.pk = d.event_pk
			WHERE w.store_id = ?`+cond+` ORDER BY d.pk DESC LIMIT ?) ORDER BY 1`, e.store, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d inventory.Delivery
			var pk, at int64
			if err := rows.Scan(&pk, &at, &d.WebhookID, &d.EventID, &d.Type, &d.Attempt, &d.Status, &d.LatencyMS, &d.Error); err != nil {
				return err
			}
			d.Time = msTime(at)
			d.Delivered = d.Error == ""
			out = append(out, d)
		}
		return rows.Err()
	})
	return out, err
}
