-- What dkimdash saw of each identity over time. `identity_state` is the last value seen of
-- each field (the baseline the next sweep is compared with); `identity_history` holds every
-- change seen, linked to the audit entry when the change was made through dkimdash.
CREATE TABLE identity_state (
    account  TEXT NOT NULL,
    region   TEXT NOT NULL,
    name     TEXT NOT NULL,
    field    TEXT NOT NULL,  -- dkim_status | verification | signing | origin | key_length | tokens
    value    TEXT NOT NULL,
    PRIMARY KEY (account, region, name, field)
);

CREATE TABLE identity_history (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,  -- unix seconds, when the sweep saw it
    account    TEXT    NOT NULL,
    region     TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    field      TEXT    NOT NULL,  -- as in identity_state, or `identity` (appeared/disappeared)
    before     TEXT,              -- NULL when the identity appeared
    after      TEXT,              -- NULL when the identity disappeared
    change_id  INTEGER REFERENCES changes (id)
);

CREATE INDEX identity_history_by_identity ON identity_history (account, region, name, id);
CREATE INDEX identity_history_by_time ON identity_history (at);

-- Targets whose first read was taken as the baseline: later reads are compared with it,
-- even when the target had no identities then.
CREATE TABLE history_targets (
    account        TEXT    NOT NULL,
    region         TEXT    NOT NULL,
    baseline_at    INTEGER NOT NULL,
    PRIMARY KEY (account, region)
);
