-- Fleet repairs: the plan an operator reviewed and started, and where each identity of
-- it stands, so the run's page shows its progress after a reload and a restarted server
-- goes on where the run stopped.
CREATE TABLE repair_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  INTEGER NOT NULL,
    user_name   TEXT    NOT NULL,
    user_email  TEXT,
    selection   TEXT    NOT NULL,  -- the identities table's query it was started from
    plan        TEXT    NOT NULL,  -- JSON: the fleet plan as reviewed
    finished_at INTEGER
);

CREATE TABLE repair_steps (
    run_id   INTEGER NOT NULL REFERENCES repair_runs (id),
    account  TEXT    NOT NULL,
    region   TEXT    NOT NULL,
    name     TEXT    NOT NULL,
    state    TEXT    NOT NULL,  -- waiting, published, restarted, done, failed
    detail   TEXT,              -- what happened, in words, for the report
    audit_id INTEGER,           -- the audit entry of its last change
    PRIMARY KEY (run_id, account, region, name)
);
