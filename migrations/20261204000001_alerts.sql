-- Alerts dkimdash raised and what it sent about them. An alert fires once and resolves
-- once: a row is one firing (ends_at NULL while it lasts), so a restart finds what is
-- already firing and sends nothing twice. Deliveries are an outbox: written in the same
-- transaction as the alert, sent (and retried) afterwards, kept as the delivery log.
-- Receivers are named, never stored by URL: webhook URLs are secrets.
CREATE TABLE alerts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint  TEXT    NOT NULL,  -- 16 hex digits of the labels' hash
    rule         TEXT    NOT NULL,  -- the alertname label
    labels       TEXT    NOT NULL,  -- JSON object
    annotations  TEXT    NOT NULL,  -- JSON object
    starts_at    INTEGER NOT NULL,  -- unix seconds
    ends_at      INTEGER            -- NULL while firing
);

CREATE UNIQUE INDEX alerts_firing ON alerts (fingerprint) WHERE ends_at IS NULL;
CREATE INDEX alerts_by_start ON alerts (starts_at);

CREATE TABLE alert_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id         INTEGER NOT NULL REFERENCES alerts (id),
    receiver         TEXT    NOT NULL,  -- the receiver's name in the alerts file
    status           TEXT    NOT NULL,  -- firing | resolved
    payload          TEXT    NOT NULL,  -- the JSON body, built when the alert changed
    created_at       INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    delivered_at     INTEGER,
    given_up_at      INTEGER,
    last_error       TEXT
);

CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at)
    WHERE delivered_at IS NULL AND given_up_at IS NULL;
