-- The audit log of what supervisors and admins do to people rather than to reports:
-- invites made and members deactivated, with who, when, what and to whom. (A report's
-- own history is report_events.) Rows are only ever added.
CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    actor_id      INTEGER REFERENCES members(id),  -- NULL: the command line, on the server
    action        TEXT NOT NULL CHECK (action IN ('invite', 'deactivate')),
    target_member INTEGER REFERENCES members(id),
    target_unit   TEXT,
    detail        TEXT NOT NULL DEFAULT '{}'       -- JSON: role, invite id, expiry...
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_target ON audit_log(target_member) WHERE target_member IS NOT NULL;
