"""Digests: the sends made so far, and everything one send needs, read in one snapshot."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.deadlines import Period
from domain.digest import DigestData, DigestReport, Leave, Person, Submission, Thresholds
from domain.models import Member
from domain.outbox import MadeFile, OutboxItem
from storage.db import Database, Tx
from storage.deadlines import rules_in
from storage.members import MEMBER_COLUMNS, member_from_row
from storage.outbox import enqueue_in, store_file
from storage.units import units_in

# Windows of a deadline rule start up to a month before the first due moment they count.
_LONGEST_PERIOD = timedelta(days=32)


@dataclass(frozen=True)
class DigestRun:
    schedule: Period
    start: datetime
    end: datetime
    baseline: bool


def _run(row: sqlite3.Row) -> DigestRun:
    return DigestRun(
        Period(row["schedule"]),
        datetime.fromisoformat(row["period_start"]),
        datetime.fromisoformat(row["period_end"]),
        row["state"] == "baseline",
    )


async def last_run(db: Database, schedule: Period) -> DigestRun | None:
    """The latest send of a schedule (or the baseline it started counting from)."""
    row = await db.fetch_one(
        "SELECT schedule, period_start, period_end, state FROM digest_runs"
        " WHERE schedule = ? ORDER BY period_end DESC LIMIT 1",
        (schedule.value,),
    )
    return _run(row) if row else None


async def set_baseline(db: Database, schedule: Period, end: datetime) -> bool:
    """Start counting a schedule from a moment, sending nothing; False if already counted."""
    return await db.write(
        lambda tx: (
            tx.execute(
                "INSERT OR IGNORE INTO digest_runs (schedule, period_start, period_end, state,"
                " created_at) VALUES (?, ?, ?, 'baseline', ?)",
                (schedule.value, end.isoformat(), end.isoformat(), tx.now.isoformat()),
            ).rowcount
            == 1
        )
    )


@dataclass(frozen=True)
class MadeMessage:
    """One outbox message of a send, with the file it carries, if any."""

    item: OutboxItem  # with a file, its payload is the caption
    filename: str | None = None
    content: bytes | None = None
    photo: bool = False


async def record_run(
    db: Database,
    schedule: Period,
    start: datetime,
    end: datetime,
    messages: Sequence[MadeMessage],
) -> bool:
    """Record a send and queue its messages in one transaction; False if already made."""

    def record(tx: Tx) -> bool:
        taken = tx.execute(
            "INSERT OR IGNORE INTO digest_runs (schedule, period_start, period_end, recipients,"
            " created_at) VALUES (?, ?, ?, ?, ?)",
            (
                schedule.value,
                start.isoformat(),
                end.isoformat(),
                len({m.item.recipient_id for m in messages}),
                tx.now.isoformat(),
            ),
        )
        if taken.rowcount != 1:
            return False
        items = []
        for message in messages:
            item = message.item
            if item.payload and message.content is not None and message.filename is not None:
                file_id = store_file(tx, message.filename, message.content)
                made = MadeFile(file_id, message.filename, message.photo)
                item = replace(item, payload=replace(item.payload, file=made))
            items.append(item)
        enqueue_in(tx, items)
        return True

    return await db.write(record)


# --- what a send needs --------------------------------------------------------------------

_REPORT_COLUMNS = (
    "r.id, r.kind, r.category_code, r.unit_code, r.member_id, m.full_name, r.submitted_at,"
    " r.occurred_at, r.urgent, r.status, r.alert_state, r.latitude, r.longitude, r.address,"
    " r.description, r.people, r.action_taken, r.participants, r.duration_minutes,"
    # Only an activity's answers are read, for the people it reached: one small JSON each.
    " CASE WHEN r.kind = 'activity' THEN json_extract(r.data, '$.reached') END AS reached,"
    " (SELECT count(*) FROM report_photos p WHERE p.report_id = r.id) AS photos"
)


def _report(row: sqlite3.Row) -> DigestReport:
    return DigestReport(
        id=row["id"],
        kind=row["kind"],
        category=row["category_code"],
        unit_code=row["unit_code"],
        member_id=row["member_id"],
        reporter=row["full_name"],
        submitted_at=datetime.fromisoformat(row["submitted_at"]),
        occurred_at=datetime.fromisoformat(row["occurred_at"]),
        urgent=bool(row["urgent"]),
        status=row["status"],
        alert_state=row["alert_state"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        address=row["address"],
        description=row["description"],
        people=row["people"],
        action_taken=row["action_taken"],
        participants=row["participants"],
        duration_minutes=row["duration_minutes"],
        photo_count=row["photos"],
        reached=row["reached"] if isinstance(row["reached"], int) else None,
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


async def digest_data(
    db: Database,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    thresholds: Thresholds,
    since: datetime,
) -> DigestData:
    """Everything the digests of one send need. ``since``: the earliest time compliance
    is counted from (the start of the grading year, or ``start`` if earlier)."""

    def read(tx: Tx) -> DigestData:
        reports = tuple(
            _report(row)
            for row in tx.all(
                f"SELECT {_REPORT_COLUMNS} FROM reports r JOIN members m ON m.id = r.member_id"
                " WHERE r.submitted_at >= ? AND r.submitted_at < ? AND r.status <> 'withdrawn'"
                " ORDER BY r.submitted_at, r.id",
                (_iso(start), _iso(end)),
            )
        )
        hot_since = end - timedelta(days=thresholds.hot_spot_days)
        incidents = tuple(
            _report(row)
            for row in tx.all(
                f"SELECT {_REPORT_COLUMNS} FROM reports r JOIN members m ON m.id = r.member_id"
                " WHERE r.kind = 'incident' AND r.submitted_at >= ? AND r.submitted_at < ?"
                " AND r.status NOT IN ('withdrawn', 'rejected') ORDER BY r.id",
                (_iso(hot_since), _iso(end)),
            )
        )
        earliest = since - _LONGEST_PERIOD
        submissions = tuple(
            Submission(row["member_id"], row["kind"], datetime.fromisoformat(row["submitted_at"]))
            for row in tx.all(
                "SELECT member_id, kind, submitted_at FROM reports"
                " WHERE submitted_at >= ? AND submitted_at < ? AND status <> 'withdrawn'",
                (_iso(earliest), _iso(end)),
            )
        )
        last_report = _last_reports(tx, end, thresholds.silent_days)
        people = tuple(
            Person(
                row["id"],
                row["full_name"],
                row["unit_code"],
                datetime.fromisoformat(row["joined_at"]),
            )
            for row in tx.all(
                "SELECT id, full_name, unit_code, joined_at FROM members WHERE active = 1"
                " AND role IN ('member', 'leader', 'deputy') ORDER BY unit_code, full_name, id"
            )
        )
        first_day = earliest.astimezone(zone).date()
        last_day = end.astimezone(zone).date()
        leave = tuple(
            Leave(row["member_id"], date.fromisoformat(row["first_day"]),
                  date.fromisoformat(row["last_day"]))
            for row in tx.all(
                "SELECT member_id, first_day, last_day FROM member_leave"
                " WHERE last_day >= ? AND first_day <= ?",
                (first_day.isoformat(), last_day.isoformat()),
            )
        )  # fmt: skip
        holidays = frozenset(
            date.fromisoformat(row["day"])
            for row in tx.all(
                "SELECT day FROM holidays WHERE day >= ? AND day <= ?",
                (first_day.isoformat(), last_day.isoformat()),
            )
        )
        return DigestData(
            start=start,
            end=end,
            zone=zone,
            units=tuple(units_in(tx)),
            people=people,
            reports=reports,
            incidents=incidents,
            submissions=submissions,
            last_report=last_report,
            rules=tuple(rules_in(tx, with_removed=True)),
            leave=leave,
            holidays=holidays,
            thresholds=thresholds,
        )

    return await db.read(read)


def _last_reports(tx: Tx, end: datetime, silent_days: int) -> dict[str, datetime]:
    """Each unit's latest report before ``end``. Only units quiet for ``silent_days`` are
    looked up one by one (an index seek each): the others' is within that time."""
    since = end - timedelta(days=silent_days)
    latest = {
        row["unit_code"]: datetime.fromisoformat(row["last"])
        for row in tx.all(
            "SELECT unit_code, max(submitted_at) AS last FROM reports"
            " WHERE submitted_at >= ? AND submitted_at < ? AND status <> 'withdrawn'"
            " GROUP BY unit_code",
            (_iso(since), _iso(end)),
        )
    }
    for row in tx.all(
        "SELECT DISTINCT unit_code FROM members WHERE active = 1"
        " AND role IN ('member', 'leader', 'deputy')"
    ):
        code = row["unit_code"]
        if code not in latest:
            found = tx.one(
                "SELECT submitted_at AS last FROM reports WHERE unit_code = ?"
                " AND submitted_at < ? AND status <> 'withdrawn'"
                " ORDER BY submitted_at DESC LIMIT 1",
                (code, _iso(since)),
            )
            if found is not None:
                latest[code] = datetime.fromisoformat(found["last"])
    return latest


async def digest_recipients(db: Database) -> list[Member]:
    """Active supervisors and admins: the people who get digests."""
    rows = await db.fetch_all(
        f"SELECT {MEMBER_COLUMNS} FROM members WHERE active = 1"
        " AND blocked_at IS NULL AND role IN ('supervisor', 'admin') ORDER BY id"
    )
    return [member_from_row(row) for row in rows]
