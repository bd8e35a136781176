-- Products, scoped by store. pk is the internal join key; id is the API's.
CREATE TABLE products (
    pk                  INTEGER PRIMARY KEY,
    id                  TEXT    NOT NULL UNIQUE,
    store_id            TEXT    NOT NULL,
    title               TEXT    NOT NULL,
    slug                TEXT    NOT NULL,
    status              TEXT    NOT NULL DEFAULT 'draft'
                        CHECK (status IN ('draft', 'published', 'archived', 'deleted')),
    price               TEXT    NOT NULL DEFAULT '0.00',
    compare_at_price    TEXT,
    sku                 TEXT,
    sku_key             TEXT,
    barcode             TEXT,
    track_stock         INTEGER NOT NULL DEFAULT 0,
    stock               INTEGER NOT NULL DEFAULT 0,
    low_stock_threshold INTEGER CHECK (low_stock_threshold IS NULL OR low_stock_threshold >= 0),
    allow_backorder     INTEGER NOT NULL DEFAULT 0,
    description         TEXT    NOT NULL DEFAULT '',
    attributes          TEXT    NOT NULL DEFAULT '{}',
    created_at          INTEGER NOT NULL, -- unix milliseconds, UTC
    updated_at          INTEGER NOT NULL,
    deleted_at          INTEGER,
    -- The oversell guard: no path (command, import, order, server) can leave a
    -- product that does not allow backorder below zero.
    CHECK (stock >= 0 OR allow_backorder = 1)
);
-- SKU and slug are unique per store among live products; a deleted product frees them.
CREATE UNIQUE INDEX products_sku  ON products (store_id, sku_key) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX products_slug ON products (store_id, slug)    WHERE deleted_at IS NULL;
CREATE INDEX products_order ON products (store_id, created_at); -- then pk: insertion order

-- The movement ledger: append-only, one row per stock change.
CREATE TABLE movements (
    id          INTEGER PRIMARY KEY,
    store_id    TEXT    NOT NULL,
    product_pk  INTEGER NOT NULL, -- products.pk; products are never hard-deleted
    sku         TEXT,
    delta       INTEGER NOT NULL,
    stock_after INTEGER NOT NULL,
    reason      TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    ref         TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX movements_product ON movements (product_pk, id);
CREATE INDEX movements_ref ON movements (ref) WHERE ref IS NOT NULL;
CREATE TRIGGER movements_append_only_update BEFORE UPDATE ON movements
BEGIN SELECT RAISE(ABORT, 'the movement ledger is append-only'); END;
CREATE TRIGGER movements_append_only_delete BEFORE DELETE ON movements
BEGIN SELECT RAISE(ABORT, 'the movement ledger is append-only'); END;

-- Idempotency keys of set/adjust (and later, API writes): a replay returns the
-- first answer; the same key with other content is a conflict.
CREATE TABLE idempotency_keys (
    store_id     TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    response     TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (store_id, key)
) WITHOUT ROWID;

-- Files imported, by content hash: a delta file is applied once.
CREATE TABLE imports (
    store_id   TEXT    NOT NULL,
    hash       TEXT    NOT NULL,
    mode       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    rows       INTEGER NOT NULL,
    changed    INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX imports_hash ON imports (store_id, hash, mode);
