-- The working core: units, members, invites, drafts, reports, alerts.
-- Times are UTC ISO-8601 strings with offset; local time is applied at the edges.

CREATE TABLE units (
    code        TEXT PRIMARY KEY CHECK (code <> ''),
    name        TEXT NOT NULL CHECK (name <> ''),
    parent_code TEXT REFERENCES units(code)
);
CREATE INDEX units_parent ON units(parent_code);

CREATE TABLE members (
    id               INTEGER PRIMARY KEY,
    telegram_user_id INTEGER NOT NULL UNIQUE,
    chat_id          INTEGER NOT NULL,
    full_name        TEXT NOT NULL,
    username         TEXT,
    unit_code        TEXT NOT NULL REFERENCES units(code),
    role             TEXT NOT NULL CHECK (role IN ('member', 'supervisor', 'admin')),
    language         TEXT NOT NULL,
    active           INTEGER NOT NULL DEFAULT 1,
    joined_at        TEXT NOT NULL
);
CREATE INDEX members_unit ON members(unit_code, role);

CREATE TABLE invites (
    id          INTEGER PRIMARY KEY,
    code_hash   TEXT NOT NULL UNIQUE,
    unit_code   TEXT NOT NULL REFERENCES units(code),
    role        TEXT NOT NULL CHECK (role IN ('member', 'supervisor', 'admin')),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    used_by     INTEGER REFERENCES members(id)
);

CREATE TABLE catalogue_items (
    kind     TEXT NOT NULL CHECK (kind IN ('incident', 'activity')),
    code     TEXT NOT NULL,
    name_vi  TEXT NOT NULL,
    name_en  TEXT NOT NULL,
    position INTEGER NOT NULL,
    active   INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (kind, code)
);

-- AUTOINCREMENT: a draft id is never reused, so reports.draft_id identifies one draft.
CREATE TABLE drafts (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    member_id      INTEGER NOT NULL UNIQUE REFERENCES members(id),
    kind           TEXT NOT NULL,
    step           TEXT NOT NULL,
    mode           TEXT NOT NULL DEFAULT '',
    editing        INTEGER NOT NULL DEFAULT 0,
    data           TEXT NOT NULL DEFAULT '{}',
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

CREATE TABLE reports (
    id               INTEGER PRIMARY KEY,
    draft_id         INTEGER UNIQUE,
    kind             TEXT NOT NULL CHECK (kind IN ('incident', 'activity', 'nothing')),
    member_id        INTEGER NOT NULL REFERENCES members(id),
    unit_code        TEXT NOT NULL REFERENCES units(code),
    category_code    TEXT,
    occurred_at      TEXT NOT NULL,
    period_date      TEXT NOT NULL,
    submitted_at     TEXT NOT NULL,
    latitude         REAL,
    longitude        REAL,
    address          TEXT,
    description      TEXT NOT NULL DEFAULT '',
    people           TEXT,
    action_taken     TEXT,
    urgent           INTEGER NOT NULL DEFAULT 0,
    participants     INTEGER,
    duration_minutes INTEGER,
    status           TEXT NOT NULL DEFAULT 'submitted',
    data             TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX reports_member ON reports(member_id, submitted_at);
CREATE INDEX reports_submitted ON reports(submitted_at);
-- One "nothing to report" per member per local day, however often it is tapped.
CREATE UNIQUE INDEX reports_nothing_once ON reports(member_id, period_date) WHERE kind = 'nothing';

CREATE TABLE report_photos (
    report_id      INTEGER NOT NULL REFERENCES reports(id),
    position       INTEGER NOT NULL,
    file_id        TEXT NOT NULL,
    file_unique_id TEXT NOT NULL,
    kind           TEXT NOT NULL DEFAULT 'photo' CHECK (kind IN ('photo', 'document')),
    PRIMARY KEY (report_id, position)
);

-- Outbox: an urgent report's alerts are written with the report and sent afterwards,
-- so a crash between the two leaves them pending rather than lost.
CREATE TABLE alert_deliveries (
    id           INTEGER PRIMARY KEY,
    report_id    INTEGER NOT NULL REFERENCES reports(id),
    recipient_id INTEGER NOT NULL REFERENCES members(id),
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    sent_at      TEXT,
    UNIQUE (report_id, recipient_id)
);
CREATE INDEX alert_deliveries_pending ON alert_deliveries(status) WHERE status = 'pending';

-- Telegram may deliver an update again after a restart; state changes record its id
-- in the same transaction so that a replay changes nothing. "answered" is set once the
-- replies went out: a replay of an update whose replies were lost in a crash gets the
-- member's current question again instead of silence.
CREATE TABLE processed_updates (
    update_id    INTEGER PRIMARY KEY,
    processed_at TEXT NOT NULL,
    answered     INTEGER NOT NULL DEFAULT 0
);

-- Updates being handled right now. A row left here at start-up means the process died
-- mid-update: its member is shown where they are, since the reply may never have left.
CREATE TABLE inflight_updates (
    update_id   INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    received_at TEXT NOT NULL
);
