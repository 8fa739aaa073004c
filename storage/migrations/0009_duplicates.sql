-- A report its reporter said is the same incident as an earlier one: linked, not dropped.
CREATE TABLE report_links (
    report_id INTEGER PRIMARY KEY REFERENCES reports(id),
    same_as   INTEGER NOT NULL REFERENCES reports(id),
    linked_by INTEGER REFERENCES members(id),
    at        TEXT NOT NULL
);
CREATE INDEX report_links_same_as ON report_links(same_as);
