-- Webhook endpoints.
CREATE TABLE webhooks (
    pk                INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: the delivery log points at it
    id                TEXT    NOT NULL UNIQUE,
    store_id          TEXT    NOT NULL,
    url               TEXT    NOT NULL,
    events            TEXT    NOT NULL, -- JSON array of event types; "product.*" wildcards
    secret            TEXT    NOT NULL,
    is_active         INTEGER NOT NULL DEFAULT 1,
    last_triggered_at INTEGER,
    failure_count     INTEGER NOT NULL DEFAULT 0, -- consecutive failed attempts
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

-- The transactional outbox: an event is written in the same transaction as
-- the change it describes, so neither exists without the other.
CREATE TABLE webhook_events (
    pk         INTEGER PRIMARY KEY,
    id         TEXT    NOT NULL UNIQUE,
    store_id   TEXT    NOT NULL,
    type       TEXT    NOT NULL,
    subject    TEXT    NOT NULL, -- the product or order id: its events go out in order
    payload    TEXT    NOT NULL, -- the resource as it was after the change (JSON)
    created_at INTEGER NOT NULL
);

-- One row per (endpoint, event) to deliver.
CREATE TABLE webhook_queue (
    webhook_pk      INTEGER NOT NULL,
    event_pk        INTEGER NOT NULL,
    subject         TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    PRIMARY KEY (webhook_pk, event_pk)
) WITHOUT ROWID;
CREATE INDEX webhook_queue_pending ON webhook_queue (webhook_pk, subject, event_pk) WHERE state = 'pending';

-- Every delivery attempt, for `inv webhook deliveries`.
CREATE TABLE webhook_deliveries (
    pk          INTEGER PRIMARY KEY,
    webhook_pk  INTEGER NOT NULL,
    event_pk    INTEGER NOT NULL,
    attempt     INTEGER NOT NULL,
    status_code INTEGER,
    latency_ms  INTEGER NOT NULL,
    error       TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_pk, pk);
