-- What a member adds to an urgent incident after its alert went out (domain/urgent.py)
-- is recorded as its own event, "followed_up". A CHECK constraint cannot be altered, so
-- report_events is rebuilt; every row is kept, with its id.
CREATE TABLE report_events_new (
    id        INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports(id),
    event     TEXT NOT NULL CHECK (event IN ('submitted', 'edited', 'withdrawn', 'acknowledged',
                                             'resolved', 'verified', 'returned', 'rejected',
                                             'resubmitted', 'escalated', 'followed_up')),
    actor_id  INTEGER REFERENCES members(id),  -- NULL: the bot itself (e.g. escalation)
    at        TEXT NOT NULL,
    detail    TEXT  -- a reviewer's comment or reason, as the reviewer typed it
);
INSERT INTO report_events_new (id, report_id, event, actor_id, at, detail)
    SELECT id, report_id, event, actor_id, at, detail FROM report_events;
DROP TABLE report_events;
ALTER TABLE report_events_new RENAME TO report_events;
CREATE INDEX report_events_report ON report_events(report_id, id);
CREATE INDEX report_events_kind ON report_events(report_id, event);
