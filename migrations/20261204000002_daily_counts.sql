-- Identities per DKIM status per target per day (UTC), as the last read of that day saw
-- them: the overview's 30-day chart. Written by the history recorder, pruned with it.
CREATE TABLE daily_status_counts (
    day      INTEGER NOT NULL,  -- unix seconds of the day's 00:00 UTC
    account  TEXT    NOT NULL,
    region   TEXT    NOT NULL,
    status   TEXT    NOT NULL,  -- SES's DKIM status
    count    INTEGER NOT NULL,
    PRIMARY KEY (day, account, region, status)
);
