"""Reports: submitting a draft, "nothing to report", listing."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from domain.models import Member, NewReport, Photo, Report
from storage.db import Database, fetch_one_in, mark_update, update_seen

_COLUMNS = (
    "r.id, r.kind, r.member_id, r.unit_code, r.category_code, r.occurred_at, r.period_date,"
    " r.submitted_at, r.latitude, r.longitude, r.address, r.description, r.people,"
    " r.action_taken, r.urgent, r.participants, r.duration_minutes, r.status, r.data"
)


def _report(row: sqlite3.Row, photos: tuple[Photo, ...] = ()) -> Report:
    return Report(
        id=row["id"],
        kind=row["kind"],
        member_id=row["member_id"],
        unit_code=row["unit_code"],
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
        photos=photos,
        data=json.loads(row["data"]),
    )


class SubmitOutcome(StrEnum):
    SUBMITTED = "submitted"
    ALREADY_SUBMITTED = "already_submitted"
    GONE = "gone"


@dataclass(frozen=True)
class SubmitResult:
    outcome: SubmitOutcome
    report_id: int | None = None


async def submit_draft(
    db: Database,
    draft_id: int,
    member: Member,
    report: NewReport,
    alert_recipients: Sequence[int],
    now: datetime,
    update_id: int | None,
) -> SubmitResult:
    """Turn a draft into a report, queue its alerts and delete the draft, all at once.

    A second submit of the same draft (double tap, replayed update) finds the report
    the first one made and changes nothing.
    """
    async with db.transaction() as connection:
        existing = await fetch_one_in(
            connection, "SELECT id FROM reports WHERE draft_id = ?", (draft_id,)
        )
        if existing is not None:
            return SubmitResult(SubmitOutcome.ALREADY_SUBMITTED, existing["id"])
        draft = await fetch_one_in(
            connection,
            "SELECT id FROM drafts WHERE id = ? AND member_id = ?",
            (draft_id, member.id),
        )
        if draft is None or await update_seen(connection, update_id):
            return SubmitResult(SubmitOutcome.GONE)
        cursor = await connection.execute(
            "INSERT INTO reports (draft_id, kind, member_id, unit_code, category_code,"
            " occurred_at, period_date, submitted_at, latitude, longitude, address,"
            " description, people, action_taken, urgent, participants, duration_minutes, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                draft_id,
                report.kind,
                member.id,
                member.unit_code,
                report.category_code,
                report.occurred_at.isoformat(),
                report.period_date.isoformat(),
                now.astimezone(UTC).isoformat(),
                report.latitude,
                report.longitude,
                report.address,
                report.description,
                report.people,
                report.action_taken,
                int(report.urgent),
                report.participants,
                report.duration_minutes,
                json.dumps(report.data, ensure_ascii=False),
            ),
        )
        report_id = cursor.lastrowid
        assert report_id is not None
        await connection.executemany(
            "INSERT INTO report_photos (report_id, position, file_id, file_unique_id, kind)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                (report_id, n, p.file_id, p.file_unique_id, p.kind)
                for n, p in enumerate(report.photos)
            ],
        )
        if report.urgent:
            await connection.executemany(
                "INSERT INTO alert_deliveries (report_id, recipient_id) VALUES (?, ?)",
                [(report_id, recipient) for recipient in alert_recipients],
            )
        await connection.execute("DELETE FROM drafts WHERE id = ?", (draft_id,))
        await mark_update(connection, update_id)
    return SubmitResult(SubmitOutcome.SUBMITTED, report_id)


async def record_nothing(
    db: Database, member: Member, day: date, now: datetime, update_id: int | None
) -> tuple[bool, int]:
    """Record "nothing to report" for a day once; returns (created, report id)."""
    async with db.transaction() as connection:
        existing = await fetch_one_in(
            connection,
            "SELECT id FROM reports WHERE kind = 'nothing' AND member_id = ? AND period_date = ?",
            (member.id, day.isoformat()),
        )
        if existing is not None:
            return False, int(existing["id"])
        utc = now.astimezone(UTC).isoformat()
        cursor = await connection.execute(
            "INSERT INTO reports (kind, member_id, unit_code, occurred_at, period_date,"
            " submitted_at) VALUES ('nothing', ?, ?, ?, ?, ?)",
            (member.id, member.unit_code, utc, day.isoformat(), utc),
        )
        await mark_update(connection, update_id)
        assert cursor.lastrowid is not None
        return True, cursor.lastrowid


async def recent_reports(db: Database, member_id: int, limit: int = 10) -> list[Report]:
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM reports r WHERE r.member_id = ? ORDER BY r.id DESC LIMIT ?",
        (member_id, limit),
    )
    return [_report(row) for row in rows]


async def get_report(db: Database, report_id: int) -> Report | None:
    row = await db.fetch_one(f"SELECT {_COLUMNS} FROM reports r WHERE r.id = ?", (report_id,))
    if row is None:
        return None
    photos = await db.fetch_all(
        "SELECT file_id, file_unique_id, kind FROM report_photos"
        " WHERE report_id = ? ORDER BY position",
        (report_id,),
    )
    return _report(row, tuple(Photo(p["file_id"], p["file_unique_id"], p["kind"]) for p in photos))


async def report_id_for_draft(db: Database, draft_id: int, member_id: int) -> int | None:
    """The report a draft became, if it was the member's."""
    row = await db.fetch_one(
        "SELECT id FROM reports WHERE draft_id = ? AND member_id = ?", (draft_id, member_id)
    )
    return int(row["id"]) if row else None


async def latest_report_since(db: Database, member_id: int, since: datetime) -> int | None:
    """The number of the member's newest report submitted since a moment, if any."""
    row = await db.fetch_one(
        "SELECT id FROM reports WHERE member_id = ? AND submitted_at >= ? ORDER BY id DESC",
        # Stored times are UTC ISO strings, so they compare as text only against UTC.
        (member_id, since.astimezone(UTC).isoformat()),
    )
    return int(row["id"]) if row else None
