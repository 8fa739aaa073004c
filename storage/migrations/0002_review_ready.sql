-- Room for the scheduler and the review flow: team roles, once-keys, one outbox,
-- a report status machine with its events, and drafts that reopen a report.
-- Run by the migration runner with foreign keys off and checked before COMMIT, as
-- SQLite's table-rebuild procedure requires; every existing row is kept.

-- Team roles: tổ trưởng (leader) and tổ phó (deputy) report like members. A CHECK
-- constraint cannot be altered, so members and invites are rebuilt.
CREATE TABLE members_new (
    id               INTEGER PRIMARY KEY,
    telegram_user_id INTEGER NOT NULL UNIQUE,
    chat_id          INTEGER NOT NULL,
    full_name        TEXT NOT NULL,
    username         TEXT,
    unit_code        TEXT NOT NULL REFERENCES units(code),
    role             TEXT NOT NULL
                     CHECK (role IN ('member', 'leader', 'deputy', 'supervisor', 'admin')),
    language         TEXT NOT NULL,
    active           INTEGER NOT NULL DEFAULT 1,
    joined_at        TEXT NOT NULL
);
INSERT INTO members_new SELECT id, telegram_user_id, chat_id, full_name, username, unit_code,
    role, language, active, joined_at FROM members;
DROP TABLE members;
ALTER TABLE members_new RENAME TO members;
CREATE INDEX members_unit ON members(unit_code, role);

CREATE TABLE invites_new (
    id          INTEGER PRIMARY KEY,
    code_hash   TEXT NOT NULL UNIQUE,
    unit_code   TEXT NOT NULL REFERENCES units(code),
    role        TEXT NOT NULL
                CHECK (role IN ('member', 'leader', 'deputy', 'supervisor', 'admin')),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    used_by     INTEGER REFERENCES members(id)
);
INSERT INTO invites_new SELECT id, code_hash, unit_code, role, created_at, expires_at, used_at,
    used_by FROM invites;
DROP TABLE invites;
ALTER TABLE invites_new RENAME TO invites;

-- Once-keys: a change made under a key (update:<id>, reminder:<rule>:<period>:<member>…)
-- records the key in its own transaction, so a second attempt changes nothing.
CREATE TABLE once_keys (
    key      TEXT PRIMARY KEY,
    taken_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX once_keys_taken ON once_keys(taken_at);
INSERT INTO once_keys (key, taken_at)
    SELECT 'update:' || update_id, processed_at FROM processed_updates;

-- Updates whose change was committed but whose replies may not have gone out (the
-- process may die in between): at start-up their members are shown where they are.
CREATE TABLE pending_replies (
    update_id INTEGER PRIMARY KEY,
    chat_id   INTEGER NOT NULL,
    user_id   INTEGER NOT NULL,
    taken_at  TEXT NOT NULL
);
INSERT INTO pending_replies (update_id, chat_id, user_id, taken_at)
    SELECT i.update_id, i.chat_id, i.user_id, i.received_at
    FROM inflight_updates i JOIN processed_updates p USING (update_id)
    WHERE p.answered = 0;
DROP TABLE inflight_updates;
DROP TABLE processed_updates;

-- One outbox for every proactive message: urgent alerts now, reminders, overdue lists,
-- digests and review notices next. A row is committed (with whatever caused it) before
-- it is sent, and marked sent after; its key makes producing it twice a no-op.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    key             TEXT NOT NULL UNIQUE,
    purpose         TEXT NOT NULL,
    recipient_id    INTEGER REFERENCES members(id),
    chat_id         INTEGER NOT NULL,
    report_id       INTEGER REFERENCES reports(id),
    payload         TEXT NOT NULL,  -- JSON: text, buttons, attachments
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    message_id      INTEGER,  -- of the sent message, to edit it or reply to it later
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_report ON outbox(report_id, purpose);

-- Urgent alerts still pending from the old table are carried over without a rendered
-- payload; the outbox renders such a row when it sends it (see handlers/outbox.py).
INSERT INTO outbox (key, purpose, recipient_id, chat_id, report_id, payload, attempts,
                    next_attempt_at, created_at)
    SELECT 'alert:' || a.report_id || ':' || a.recipient_id, 'alert', a.recipient_id,
           m.chat_id, a.report_id, '{"legacy": true}', a.attempts, r.submitted_at,
           r.submitted_at
    FROM alert_deliveries a JOIN members m ON m.id = a.recipient_id
    JOIN reports r ON r.id = a.report_id
    WHERE a.status = 'pending';
INSERT INTO outbox (key, purpose, recipient_id, chat_id, report_id, payload, status, attempts,
                    next_attempt_at, created_at, sent_at, last_error)
    SELECT 'alert:' || a.report_id || ':' || a.recipient_id, 'alert', a.recipient_id,
           m.chat_id, a.report_id, '{"legacy": true}', a.status, a.attempts, r.submitted_at,
           r.submitted_at, a.sent_at, a.last_error
    FROM alert_deliveries a JOIN members m ON m.id = a.recipient_id
    JOIN reports r ON r.id = a.report_id
    WHERE a.status <> 'pending';
DROP TABLE alert_deliveries;

-- Reports: the review lifecycle is a status machine (domain/review.py), and the urgent
-- alert's own lifecycle (open, acknowledged, resolved) sits beside it.
CREATE TABLE reports_new (
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
    status           TEXT NOT NULL DEFAULT 'submitted'
                     CHECK (status IN ('submitted', 'returned', 'verified', 'rejected',
                                       'withdrawn')),
    alert_state      TEXT CHECK (alert_state IN ('open', 'acknowledged', 'resolved')),
    updated_at       TEXT,  -- the last change (submission counts); NULL in rows made by hand
    data             TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO reports_new SELECT id, draft_id, kind, member_id, unit_code, category_code,
    occurred_at, period_date, submitted_at, latitude, longitude, address, description,
    people, action_taken, urgent, participants, duration_minutes,
    CASE WHEN status IN ('submitted', 'returned', 'verified', 'rejected', 'withdrawn')
         THEN status ELSE 'submitted' END,
    CASE WHEN urgent = 1 THEN 'open' END, submitted_at, data
    FROM reports;
DROP TABLE reports;
ALTER TABLE reports_new RENAME TO reports;
CREATE INDEX reports_member ON reports(member_id, submitted_at);
CREATE INDEX reports_submitted ON reports(submitted_at);
CREATE INDEX reports_unit ON reports(unit_code, submitted_at);
CREATE UNIQUE INDEX reports_nothing_once ON reports(member_id, period_date) WHERE kind = 'nothing';

-- Who did what to a report, and when: the history a review and an audit read.
CREATE TABLE report_events (
    id        INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports(id),
    event     TEXT NOT NULL CHECK (event IN ('submitted', 'edited', 'withdrawn', 'acknowledged',
                                             'resolved', 'verified', 'returned', 'rejected',
                                             'resubmitted', 'escalated')),
    actor_id  INTEGER REFERENCES members(id),  -- NULL: the bot itself (e.g. escalation)
    at        TEXT NOT NULL,
    detail    TEXT  -- a reviewer's comment or reason, as the reviewer typed it
);
CREATE INDEX report_events_report ON report_events(report_id, id);
INSERT INTO report_events (report_id, event, actor_id, at)
    SELECT id, 'submitted', member_id, submitted_at FROM reports;

-- A draft may now reopen an existing report (asked for more information) while the
-- member has a new report open too: at most one new draft and one draft per report.
CREATE TABLE drafts_new (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    member_id      INTEGER NOT NULL REFERENCES members(id),
    report_id      INTEGER UNIQUE REFERENCES reports(id),
    kind           TEXT NOT NULL,
    step           TEXT NOT NULL,
    mode           TEXT NOT NULL DEFAULT '',
    editing        INTEGER NOT NULL DEFAULT 0,
    data           TEXT NOT NULL DEFAULT '{}',
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
INSERT INTO drafts_new (id, member_id, kind, step, mode, editing, data, created_at, updated_at)
    SELECT id, member_id, kind, step, mode, editing, data, created_at, updated_at FROM drafts;
DELETE FROM sqlite_sequence WHERE name = 'drafts_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'drafts_new', max(
    coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'drafts'), 0),
    coalesce((SELECT max(draft_id) FROM reports), 0),
    coalesce((SELECT max(id) FROM drafts), 0));
DROP TABLE drafts;
ALTER TABLE drafts_new RENAME TO drafts;
CREATE UNIQUE INDEX drafts_one_new_per_member ON drafts(member_id) WHERE report_id IS NULL;
