-- Deadlines: rules an admin sets from the command line, the public holidays that skip a
-- period, and members on leave, who are neither reminded nor counted late.

CREATE TABLE deadline_rules (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: jobs are named after it
    unit_code   TEXT NOT NULL REFERENCES units(code),  -- the rule covers the unit's subtree
    kind        TEXT NOT NULL CHECK (kind IN ('any', 'incident', 'activity')),
    period      TEXT NOT NULL CHECK (period IN ('daily', 'weekly', 'monthly')),
    due_time    TEXT NOT NULL,  -- HH:MM local time (BOT_TIMEZONE)
    weekday     INTEGER CHECK (weekday BETWEEN 0 AND 6),  -- weekly: 0 is Monday
    month_day   INTEGER CHECK (month_day BETWEEN 1 AND 28),  -- monthly
    needed      INTEGER NOT NULL DEFAULT 1 CHECK (needed >= 1),  -- reports that meet it
    remind      TEXT NOT NULL DEFAULT '',  -- offsets before the due time, minutes, "1440,120"
    created_at  TEXT NOT NULL,
    removed_at  TEXT  -- a removed rule is kept for the history of what was due
);

CREATE TABLE holidays (
    day  TEXT PRIMARY KEY,  -- YYYY-MM-DD, a local date
    name TEXT NOT NULL
);

CREATE TABLE member_leave (
    id         INTEGER PRIMARY KEY,
    member_id  INTEGER NOT NULL REFERENCES members(id),
    first_day  TEXT NOT NULL,  -- local dates, both included
    last_day   TEXT NOT NULL,
    set_by     INTEGER REFERENCES members(id),
    created_at TEXT NOT NULL,
    CHECK (first_day <= last_day)
);
CREATE INDEX member_leave_member ON member_leave(member_id, first_day);
