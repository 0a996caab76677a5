-- Every DKIM change dkimdash sends to SES: recorded before SES is asked, completed with
-- SES's answer. Never any key material (a BYODKIM selector is public; keys are not).
CREATE TABLE changes (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              INTEGER NOT NULL,  -- unix seconds, when SES was asked
    user_name       TEXT    NOT NULL,
    user_email      TEXT,
    account         TEXT    NOT NULL,
    region          TEXT    NOT NULL,
    identity        TEXT    NOT NULL,
    action          TEXT    NOT NULL,  -- e.g. "switch to BYODKIM (selector s1)"
    before_signing  TEXT    NOT NULL,  -- e.g. "Easy DKIM, 2048 bits, signing on"
    after_signing   TEXT,              -- as SES reported it after the change
    outcome         TEXT    NOT NULL DEFAULT 'pending',  -- pending | done | refused
    answer          TEXT               -- SES's answer in words
);

CREATE INDEX changes_by_identity ON changes (account, region, identity, id);
CREATE INDEX changes_by_user ON changes (user_name, id);
