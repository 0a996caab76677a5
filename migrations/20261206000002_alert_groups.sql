-- Deliveries are batched per receiver and group (src/alerts/grouping.rs): a row stays one
-- alert's news (firing or resolved) for one receiver; the rows of a group that are due go
-- out together in one post, built from the alerts when it is sent (so a retry carries
-- what arrived meanwhile, and a receiver hears each alert's latest state, in order).
ALTER TABLE alert_deliveries ADD COLUMN group_key TEXT NOT NULL DEFAULT '';
-- When the row was last part of a post, whatever came of it.
ALTER TABLE alert_deliveries ADD COLUMN last_attempt_at INTEGER;
-- Why a row was not posted at all (it is closed with given_up_at): silenced, known at the
-- first start, or a resolution of an alert whose firing was never announced.
ALTER TABLE alert_deliveries ADD COLUMN skipped TEXT;

-- Rows are no longer sent one by one behind each other (a group's rows go together).
DROP INDEX alert_deliveries_waiting;
-- Each receiver's worker asks which of its groups are due, and when the next one is.
CREATE INDEX alert_deliveries_pending ON alert_deliveries (receiver, group_key, next_attempt_at)
    WHERE delivered_at IS NULL AND given_up_at IS NULL;

-- When each receiver last took a post about each group: group_interval counts from it.
CREATE TABLE alert_groups (
    receiver      TEXT    NOT NULL,
    group_key     TEXT    NOT NULL,
    last_post_at  INTEGER NOT NULL,
    PRIMARY KEY (receiver, group_key)
);
