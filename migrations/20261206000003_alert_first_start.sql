-- The first start on a database without alerts: until every identity has been read in
-- full once, info-level alerts (old or weak keys) are shown but not posted, since they
-- were true before dkimdash looked (a fleet's first start is not thousands of messages).
-- One row: when that began and when it ended (NULL while it lasts, across restarts).
CREATE TABLE alert_first_start (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    started_at  INTEGER NOT NULL,
    done_at     INTEGER
);
