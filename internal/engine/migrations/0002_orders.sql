-- Reservations hold units of products until they expire, are released, or
-- are consumed by an order. Only active, unexpired ones count as reserved.
CREATE TABLE reservations (
    pk         INTEGER PRIMARY KEY,
    id         TEXT    NOT NULL UNIQUE,
    store_id   TEXT    NOT NULL,
    status     TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'released', 'consumed')),
    expires_at INTEGER NOT NULL, -- unix milliseconds
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX reservations_live ON reservations (store_id, status, expires_at);
CREATE TABLE reservation_items (
    reservation_pk INTEGER NOT NULL,
    product_pk     INTEGER NOT NULL,
    quantity       INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (reservation_pk, product_pk)
) WITHOUT ROWID;
CREATE INDEX reservation_items_product ON reservation_items (product_pk, reservation_pk);

CREATE TABLE orders (
    pk             INTEGER PRIMARY KEY,
    id             TEXT    NOT NULL UNIQUE,
    store_id       TEXT    NOT NULL,
    order_number   INTEGER NOT NULL,
    external_id    TEXT,
    status         TEXT    NOT NULL DEFAULT 'paid' CHECK (status IN ('paid', 'fulfilled', 'cancelled')),
    total          TEXT    NOT NULL,
    reservation_id TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (store_id, order_number)
);
-- A repeated external id is the same order: never a second deduction.
CREATE UNIQUE INDEX orders_external ON orders (store_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX orders_created ON orders (store_id, created_at);
CREATE TABLE order_items (
    order_pk   INTEGER NOT NULL,
    line       INTEGER NOT NULL,
    product_pk INTEGER NOT NULL,
    product_id TEXT    NOT NULL,
    sku        TEXT,
    title      TEXT    NOT NULL,
    quantity   INTEGER NOT NULL CHECK (quantity > 0),
    unit_price TEXT    NOT NULL,
    deducted   INTEGER NOT NULL, -- units taken from stock; restored once on cancel
    PRIMARY KEY (order_pk, line)
) WITHOUT ROWID;
