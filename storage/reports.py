"""Reports: submitting a draft, "nothing to report", listing, and their events."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from domain.models import AlertState, Member, NewReport, Photo, Report, ReportStatus
from domain.outbox import OutboxItem
from storage.db import Database, Tx
from storage.outbox import enqueue_in
from storage.updates import Origin, claim_update

_COLUMNS = (
    "r.id, r.kind, r.member_id, r.unit_code, r.category_code, r.occurred_at, r.period_date,"
    " r.submitted_at, r.latitude, r.longitude, r.address, r.description, r.people,"
    " r.action_taken, r.urgent, r.participants, r.duration_minutes, r.status, r.alert_state,"
    " r.data"
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
        status=ReportStatus(row["status"]),
        alert_state=AlertState(row["alert_state"]) if row["alert_state"] else None,
        photos=photos,
        data=json.loads(row["data"]),
    )


def record_event_in(
    tx: Tx, report_id: int, event: str, actor_id: int | None, detail: str | None = None
) -> int:
    """Record who did what to a report, in the transaction that did it; returns its number."""
    cursor = tx.execute(
        "INSERT INTO report_events (report_id, event, actor_id, at, detail) VALUES (?, ?, ?, ?, ?)",
        (report_id, event, actor_id, tx.now.isoformat(), detail),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


# The columns a report's answers fill, in the order ``answer_values`` gives them: one
# mapping for a new report and for one submitted again (storage/review.py).
ANSWER_COLUMNS = (
    "category_code", "occurred_at", "period_date", "latitude", "longitude", "address",
    "description", "people", "action_taken", "urgent", "participants", "duration_minutes",
    "data",
)  # fmt: skip


def answer_values(report: NewReport) -> tuple[object, ...]:
    return (
        report.category_code,
        report.occurred_at.isoformat(),
        report.period_date.isoformat(),
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
    )


def put_photos_in(tx: Tx, report_id: int, photos: Sequence[Photo]) -> None:
    """Add a report's photos, in this order (a report submitted again drops its old ones
    first)."""
    tx.executemany(
        "INSERT INTO report_photos (report_id, position, file_id, file_unique_id, kind)"
        " VALUES (?, ?, ?, ?, ?)",
        [(report_id, n, p.file_id, p.file_unique_id, p.kind) for n, p in enumerate(photos)],
    )


class SubmitOutcome(StrEnum):
    SUBMITTED = "submitted"
    ALREADY_SUBMITTED = "already_submitted"
    GONE = "gone"


@dataclass(frozen=True)
class SubmitResult:
    outcome: SubmitOutcome
    report_id: int | None = None


# Given the new report's number, the proactive messages it causes (urgent alerts).
Announcements = Callable[[int], Sequence[OutboxItem]]


async def submit_draft(
    db: Database,
    draft_id: int,
    member: Member,
    report: NewReport,
    origin: Origin | None,
    announcements: Announcements = lambda report_id: (),
    then: tuple[str, Mapping[str, Any]] | None = None,
) -> SubmitResult:
    """Turn a draft into a report, queue what it announces and delete the draft, at once.

    With ``then`` (a step and answers), a new draft reopening the report takes the old
    one's place, on that step: an urgent incident alerted after three answers goes on
    to the rest of its form (domain/urgent.py). A second submit of the same draft
    (double tap, replayed update) finds the report the first one made and changes nothing.
    """

    def submit(tx: Tx) -> SubmitResult:
        existing = tx.one("SELECT id FROM reports WHERE draft_id = ?", (draft_id,))
        if existing is not None:
            return SubmitResult(SubmitOutcome.ALREADY_SUBMITTED, existing["id"])
        draft = tx.one(
            "SELECT id FROM drafts WHERE id = ? AND member_id = ?", (draft_id, member.id)
        )
        if draft is None or not claim_update(tx, origin):
            return SubmitResult(SubmitOutcome.GONE)
        now = tx.now.astimezone(UTC).isoformat()
        cursor = tx.execute(
            "INSERT INTO reports (draft_id, kind, member_id, unit_code, submitted_at,"
            f" alert_state, updated_at, {', '.join(ANSWER_COLUMNS)})"
            f" VALUES (?, ?, ?, ?, ?, ?, ?, {', '.join('?' * len(ANSWER_COLUMNS))})",
            (
                draft_id,
                report.kind,
                member.id,
                member.unit_code,
                now,
                AlertState.OPEN.value if report.urgent else None,
                now,
                *answer_values(report),
            ),
        )
        report_id = cursor.lastrowid
        assert report_id is not None
        put_photos_in(tx, report_id, report.photos)
        record_event_in(tx, report_id, "submitted", member.id)
        enqueue_in(tx, announcements(report_id))
        tx.execute("DELETE FROM drafts WHERE id = ?", (draft_id,))
        if then is not None:
            step, data = then
            tx.execute(
                "INSERT INTO drafts (member_id, report_id, kind, step, data, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (member.id, report_id, report.kind, step, json.dumps(data, ensure_ascii=False),
                 tx.now.isoformat(), tx.now.isoformat()),
            )  # fmt: skip
        return SubmitResult(SubmitOutcome.SUBMITTED, report_id)

    return await db.write(submit)


async def record_nothing(
    db: Database, member: Member, day: date, origin: Origin | None, discarding: int | None = None
) -> tuple[bool, int]:
    """Record "nothing to report" for a day once; returns (created, report id).

    ``discarding``: the draft the member chose to drop for this, dropped in the same
    transaction.
    """

    def record(tx: Tx) -> tuple[bool, int]:
        if discarding is not None:
            tx.execute("DELETE FROM drafts WHERE id = ? AND member_id = ?", (discarding, member.id))
        existing = tx.one(
            "SELECT id FROM reports WHERE kind = 'nothing' AND member_id = ? AND period_date = ?",
            (member.id, day.isoformat()),
        )
        if existing is not None:
            return False, int(existing["id"])
        claim_update(tx, origin)
        now = tx.now.astimezone(UTC).isoformat()
        cursor = tx.execute(
            "INSERT INTO reports (kind, member_id, unit_code, occurred_at, period_date,"
            " submitted_at, updated_at) VALUES ('nothing', ?, ?, ?, ?, ?, ?)",
            (member.id, member.unit_code, now, day.isoformat(), now, now),
        )
        assert cursor.lastrowid is not None
        record_event_in(tx, cursor.lastrowid, "submitted", member.id)
        return True, cursor.lastrowid

    return await db.write(record)


async def recent_reports(db: Database, member_id: int, limit: int = 10) -> list[Report]:
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM reports r WHERE r.member_id = ? ORDER BY r.id DESC LIMIT ?",
        (member_id, limit),
    )
    return [_report(row) for row in rows]


def get_report_in(tx: Tx, report_id: int) -> Report | None:
    row = tx.one(f"SELECT {_COLUMNS} FROM reports r WHERE r.id = ?", (report_id,))
    if row is None:
        return None
    photos = tx.all(
        "SELECT file_id, file_unique_id, kind FROM report_photos"
        " WHERE report_id = ? ORDER BY position",
        (report_id,),
    )
    return _report(row, tuple(Photo(p["file_id"], p["file_unique_id"], p["kind"]) for p in photos))


async def get_report(db: Database, report_id: int) -> Report | None:
    return await db.read(lambda tx: get_report_in(tx, report_id))


@dataclass(frozen=True)
class ReportEvent:
    event: str
    actor_id: int | None
    at: datetime
    detail: str | None


async def report_events(db: Database, report_id: int) -> list[ReportEvent]:
    """A report's history, oldest first."""
    rows = await db.fetch_all(
        "SELECT event, actor_id, at, detail FROM report_events WHERE report_id = ? ORDER BY id",
        (report_id,),
    )
    return [
        ReportEvent(r["event"], r["actor_id"], datetime.fromisoformat(r["at"]), r["detail"])
        for r in rows
    ]


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


async def unreached_urgent_reports(db: Database, since: datetime) -> list[int]:
    """Open urgent reports since a moment whose alert is neither sent nor being tried."""
    rows = await db.fetch_all(
        "SELECT r.id FROM reports r WHERE r.urgent = 1 AND r.alert_state = 'open'"
        " AND r.submitted_at >= ? AND NOT EXISTS ("
        "   SELECT 1 FROM outbox o WHERE o.report_id = r.id AND o.purpose = 'alert'"
        "   AND o.status IN ('pending', 'sent')) ORDER BY r.id",
        (since.astimezone(UTC).isoformat(),),
    )
    return [row["id"] for row in rows]
