-- Silences set by operators on the Alerts page: an alert they cover still fires and is
-- shown (marked) and counted, but is not posted. Kept after they end, for the history
-- period, with who set and who ended them (the audit log has both too).
CREATE TABLE alert_silences (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    matchers    TEXT    NOT NULL,  -- JSON object: label = value (and "fingerprint")
    scope       TEXT    NOT NULL,  -- in words, for the page
    comment     TEXT    NOT NULL,
    created_by  TEXT    NOT NULL,
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL,  -- moved to the time it was ended, when ended early
    ended_by    TEXT
);

CREATE INDEX alert_silences_by_end ON alert_silences (ends_at);
-- The latest delivery row of an alert for a receiver (silenced firing rows are queued
-- again when their silence ends; "was the firing announced" asks the same).
CREATE INDEX alert_deliveries_by_alert ON alert_deliveries (alert_id, receiver, id);
-- The engine asks every minute which silenced firings wait to be queued again.
CREATE INDEX alert_deliveries_silenced ON alert_deliveries (alert_id, receiver)
    WHERE skipped = 'silenced' AND status = 'firing';
