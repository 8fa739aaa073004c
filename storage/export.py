"""Reports for the CSV export, read a page at a time so memory does not grow with them."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncGenerator, Collection
from datetime import date, datetime

from domain.models import ExportedReport
from storage.db import Database

PAGE_SIZE = 500

# Only what the CSV shows: the data column (the answers kept whole, as JSON) is most of
# a row's size and all of its decoding time; only an activity's is read, for its people
# reached.
# The photo count is a correlated subquery on report_photos' primary key, so it is one
# index lookup per row inside the same statement; a grouped join would count the
# photos of every report after the page, on every page.
_PAGE = (
    "SELECT r.id, r.kind, r.unit_code, u.name AS unit_name, m.full_name AS reporter_name,"
    " r.category_code, r.occurred_at, r.period_date, r.submitted_at, r.latitude, r.longitude,"
    " r.address, r.description, r.people, r.action_taken, r.urgent, r.participants,"
    " r.duration_minutes, r.status,"
    # Only an activity's answers are read, for the people it reached: one small JSON each.
    " CASE WHEN r.kind = 'activity' THEN json_extract(r.data, '$.reached') END AS reached,"
    " (SELECT count(*) FROM report_photos p WHERE p.report_id = r.id) AS photo_count"
    " FROM reports r JOIN members m ON m.id = r.member_id JOIN units u ON u.code = r.unit_code"
    " WHERE r.id > :after AND r.id <= :newest"
    " AND (:first IS NULL OR r.period_date >= :first)"
    " AND (:last IS NULL OR r.period_date <= :last)"
    " {units} ORDER BY r.id LIMIT :limit"
)
# Only reports filed in these units (a supervisor's subtree, in Telegram's /export).
_IN_UNITS = "AND r.unit_code IN (SELECT value FROM json_each(:units))"


def _exported(row: sqlite3.Row) -> ExportedReport:
    return ExportedReport(
        id=row["id"],
        kind=row["kind"],
        unit_code=row["unit_code"],
        unit_name=row["unit_name"],
        reporter_name=row["reporter_name"],
        category_code=row["category_code"],
        occurred_at=datetime.fromisoformat(row["occurred_at"]),
        period_date=date.fromisoformat(row["period_date"]),
        submitted_at=datetime.fromisoformat(row["submitted_at"]),
        latitude=row["latitude"],
        longitude=row["longitude"],
        address=row["address"],
        description=row["description"],
        people=row["people"],
        action_taken=row["action_taken"],
        urgent=bool(row["urgent"]),
        participants=row["participants"],
        duration_minutes=row["duration_minutes"],
        status=row["status"],
        photo_count=row["photo_count"],
        reached=row["reached"],
    )


async def iterate_export_rows(
    db: Database,
    first_day: date | None,
    last_day: date | None,
    page_size: int = PAGE_SIZE,
    *,
    units: Collection[str] | None = None,
) -> AsyncGenerator[ExportedReport, None]:
    """Yield every report whose local day falls in the range, oldest first.

    Pages are keyset pages (id > the last one seen), each a statement of its own, rather
    than fetchmany on one open cursor: an open cursor keeps one read transaction for the
    whole export, minutes at scale, and in WAL mode the bot's writes pile up in the WAL
    file meanwhile because no checkpoint can pass a reader's snapshot. Each page is
    consistent on its own; the export stops at the newest report that existed when it
    began, so reports filed during a long export wait for the next one.

    ``units``: only the reports of these units (None: every unit's).
    """
    newest = await db.fetch_one("SELECT coalesce(max(id), 0) AS id FROM reports")
    params: dict[str, object] = {
        "after": 0,
        "newest": newest["id"] if newest else 0,
        "first": first_day.isoformat() if first_day else None,
        "last": last_day.isoformat() if last_day else None,
        "limit": page_size,
    }
    page = _PAGE.format(units="" if units is None else _IN_UNITS)
    if units is not None:
        params["units"] = json.dumps(sorted(units))
    while True:
        rows = await db.fetch_all(page, params)
        for row in rows:
            yield _exported(row)
        if len(rows) < page_size:
            return
        params["after"] = rows[-1]["id"]
