-- The last DNS report of every identity, so a restart neither asks the whole fleet again
-- nor forgets what it knew (the alerts and the history read the same reports).
CREATE TABLE dns_reports (
    account  TEXT    NOT NULL,
    region   TEXT    NOT NULL,
    name     TEXT    NOT NULL,
    report   TEXT    NOT NULL,  -- JSON: the report (records, findings, times)
    state    TEXT    NOT NULL,  -- JSON: the SES state it was made for
    failures INTEGER NOT NULL,  -- checks in a row that could not complete
    PRIMARY KEY (account, region, name)
);
