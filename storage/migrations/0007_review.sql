-- Reviewing reports: who wants a notice of each new report, and a verdict waiting for
-- the reviewer's typed comment (kept here, not in memory, so a restart loses nothing).

-- Supervisors and team leaders who chose to be told of each new report they may see.
CREATE TABLE report_watchers (
    member_id INTEGER PRIMARY KEY REFERENCES members(id),
    since     TEXT NOT NULL
);

-- A reviewer who tapped "needs more information" or "reject" and is asked to type why:
-- their next text message is that comment. One at a time per reviewer.
CREATE TABLE review_notes (
    reviewer_id INTEGER PRIMARY KEY REFERENCES members(id),
    report_id   INTEGER NOT NULL REFERENCES reports(id),
    verdict     TEXT NOT NULL CHECK (verdict IN ('return', 'reject')),
    message_id  INTEGER,  -- the report's message in the reviewer's chat, shown again after
    asked_at    TEXT NOT NULL
);

CREATE INDEX report_events_kind ON report_events(report_id, event);
