"""Reviewing reports: listing them, a report's history, verdicts and their comments, who
watches for new reports, and a reporter's own edits and withdrawals.

Whether a report allows a move is domain/review.py's decision, asked inside the
transaction that makes it: a double tap, or two reviewers at once, find it moved on.
Who may ask is the access rules' decision, made by the handler before it calls here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from domain.forms import SUMMARY_STEP
from domain.models import Draft, Member, NewReport, Report, ReportStatus
from domain.outbox import OutboxItem
from domain.review import (
    NEEDS_NOTE,
    OWN_CLOSED,
    REVIEW_EVENTS,
    VERDICT_EVENT,
    OwnChange,
    OwnReport,
    Resubmission,
    Verdict,
    own_change,
    resubmission,
    review,
)
from storage.alerts import AlertCopy, alert_copies_in
from storage.db import Database, Tx
from storage.drafts import draft_in
from storage.members import MEMBER_COLUMNS, member_from_row
from storage.outbox import enqueue_in
from storage.reports import (
    ANSWER_COLUMNS,
    Announcements,
    answer_values,
    get_report_in,
    put_photos_in,
    record_event_in,
)
from storage.updates import Origin, claim_update

# --- listing ------------------------------------------------------------------------


@dataclass(frozen=True)
class ListedReport:
    """One line of /reports."""

    id: int
    kind: str
    category_code: str | None
    unit_code: str
    unit_name: str
    reporter_name: str
    submitted_at: datetime
    period_date: str
    status: ReportStatus
    urgent: bool


@dataclass(frozen=True)
class ReportPage:
    total: int
    reports: tuple[ListedReport, ...]


async def list_reports(
    db: Database,
    units: Collection[str],
    *,
    kind: str | None,
    status: str | None,
    since: datetime | None,
    limit: int,
    offset: int,
) -> ReportPage:
    """Reports of these units, newest first, one page of them and how many there are."""
    where = (
        " WHERE r.unit_code IN (SELECT value FROM json_each(:units))"
        " AND (:kind IS NULL OR r.kind = :kind) AND (:status IS NULL OR r.status = :status)"
        " AND (:since IS NULL OR r.submitted_at >= :since)"
    )
    params = {
        "units": json.dumps(sorted(units)),
        "kind": kind,
        "status": status,
        "since": since.astimezone(UTC).isoformat() if since else None,
        "limit": limit,
        "offset": offset,
    }

    def read(tx: Tx) -> ReportPage:
        counted = tx.one(f"SELECT count(*) AS n FROM reports r{where}", params)
        rows = tx.all(
            "SELECT r.id, r.kind, r.category_code, r.unit_code, u.name AS unit_name,"
            " m.full_name, r.submitted_at, r.period_date, r.status, r.urgent"
            " FROM reports r JOIN units u ON u.code = r.unit_code"
            f" JOIN members m ON m.id = r.member_id{where}"
            " ORDER BY r.id DESC LIMIT :limit OFFSET :offset",
            params,
        )
        listed = tuple(
            ListedReport(
                row["id"], row["kind"], row["category_code"], row["unit_code"],
                row["unit_name"], row["full_name"], datetime.fromisoformat(row["submitted_at"]),
                row["period_date"], ReportStatus(row["status"]), bool(row["urgent"]),
            )
            for row in rows
        )  # fmt: skip
        return ReportPage(counted["n"] if counted else 0, listed)

    return await db.read(read)


# --- one report in full ---------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEvent:
    """One line of a report's history: what, when, by whom (None: the bot itself)."""

    event: str
    at: datetime
    actor_id: int | None
    actor_name: str | None
    actor_role: str | None
    detail: str | None


@dataclass(frozen=True)
class ReportView:
    report: Report
    reporter: Member
    unit_name: str
    history: tuple[HistoryEvent, ...]

    @property
    def reviewed(self) -> bool:
        return any(e.event in REVIEW_EVENTS for e in self.history)


def history_in(tx: Tx, report_id: int) -> tuple[HistoryEvent, ...]:
    rows = tx.all(
        "SELECT e.event, e.at, e.detail, e.actor_id, m.full_name, m.role FROM report_events e"
        " LEFT JOIN members m ON m.id = e.actor_id WHERE e.report_id = ? ORDER BY e.id",
        (report_id,),
    )
    return tuple(
        HistoryEvent(
            row["event"], datetime.fromisoformat(row["at"]), row["actor_id"], row["full_name"],
            row["role"], row["detail"],
        )
        for row in rows
    )  # fmt: skip


def view_in(tx: Tx, report_id: int) -> ReportView | None:
    report = get_report_in(tx, report_id)
    if report is None:
        return None
    row = tx.one(f"SELECT {MEMBER_COLUMNS} FROM members WHERE id = ?", (report.member_id,))
    unit = tx.one("SELECT name FROM units WHERE code = ?", (report.unit_code,))
    if row is None:
        return None
    name = unit["name"] if unit else report.unit_code
    return ReportView(report, member_from_row(row), name, history_in(tx, report_id))


async def report_view(db: Database, report_id: int) -> ReportView | None:
    """A report, its reporter, its unit's name and its history, in one read."""
    return await db.read(lambda tx: view_in(tx, report_id))


def reviewed_in(tx: Tx, report_id: int) -> bool:
    """Whether any reviewer ever gave a verdict on the report."""
    marks = ", ".join("?" for _ in REVIEW_EVENTS)
    row = tx.one(
        f"SELECT 1 FROM report_events WHERE report_id = ? AND event IN ({marks}) LIMIT 1",
        (report_id, *sorted(REVIEW_EVENTS)),
    )
    return row is not None


async def reviewed_among(db: Database, report_ids: Collection[int]) -> set[int]:
    """Which of these reports any reviewer ever gave a verdict on."""
    marks = ", ".join("?" for _ in REVIEW_EVENTS)
    rows = await db.fetch_all(
        "SELECT DISTINCT report_id FROM report_events"
        f" WHERE report_id IN (SELECT value FROM json_each(?)) AND event IN ({marks})",
        (json.dumps(sorted(report_ids)), *sorted(REVIEW_EVENTS)),
    )
    return {row["report_id"] for row in rows}


@dataclass(frozen=True)
class LastVerdict:
    event: str
    reviewer_id: int | None
    reviewer_name: str | None
    detail: str | None


def last_verdict_in(tx: Tx, report_id: int) -> LastVerdict | None:
    marks = ", ".join("?" for _ in REVIEW_EVENTS)
    row = tx.one(
        "SELECT e.event, e.actor_id, e.detail, m.full_name FROM report_events e"
        " LEFT JOIN members m ON m.id = e.actor_id"
        f" WHERE e.report_id = ? AND e.event IN ({marks}) ORDER BY e.id DESC LIMIT 1",
        (report_id, *sorted(REVIEW_EVENTS)),
    )
    if row is None:
        return None
    return LastVerdict(row["event"], row["actor_id"], row["full_name"], row["detail"])


async def last_verdict(db: Database, report_id: int) -> LastVerdict | None:
    """The newest verdict on a report: who gave it and with what comment."""
    return await db.read(lambda tx: last_verdict_in(tx, report_id))


# --- verdicts -----------------------------------------------------------------------


class VerdictOutcome(StrEnum):
    DONE = "done"
    NOT_NOW = "not_now"  # the report has moved on (reviewed, withdrawn) or is gone
    REPLAYED = "replayed"


# Given the verdict's event number, the messages it sends (the reporter's notice).
VerdictNotices = Callable[[int], Sequence[OutboxItem]]


async def record_verdict(
    db: Database,
    report_id: int,
    reviewer: Member,
    verdict: Verdict,
    note: str | None,
    origin: Origin | None,
    notices: VerdictNotices = lambda event_id: (),
) -> VerdictOutcome:
    """Move a report by a reviewer's verdict, record it, queue the reporter's notice, and
    clear the reviewer's question for a comment on it: all at once, or nothing.
    """
    if verdict in NEEDS_NOTE and not note:
        raise ValueError(f"{verdict} needs the reviewer's comment")

    def decide(tx: Tx) -> VerdictOutcome:
        row = tx.one("SELECT kind, status FROM reports WHERE id = ?", (report_id,))
        moved = review(row["status"], row["kind"], verdict) if row else None
        if moved is None:
            return VerdictOutcome.NOT_NOW
        if not claim_update(tx, origin):
            return VerdictOutcome.REPLAYED
        tx.execute(
            "UPDATE reports SET status = ?, updated_at = ? WHERE id = ?",
            (moved.value, tx.now.astimezone(UTC).isoformat(), report_id),
        )
        event_id = record_event_in(tx, report_id, VERDICT_EVENT[verdict], reviewer.id, note)
        # The question for this verdict's comment is answered (one for another report stays).
        tx.execute(
            "DELETE FROM review_notes WHERE reviewer_id = ? AND report_id = ?",
            (reviewer.id, report_id),
        )
        enqueue_in(tx, notices(event_id))
        return VerdictOutcome.DONE

    return await db.write(decide)


@dataclass(frozen=True)
class PendingNote:
    """A verdict waiting for the reviewer to type its comment."""

    report_id: int
    verdict: Verdict
    message_id: int | None
    asked_at: datetime


async def ask_note(
    db: Database, reviewer_id: int, report_id: int, verdict: Verdict, message_id: int | None
) -> None:
    """Wait for the reviewer's comment on a verdict; replaces any earlier question."""
    if verdict not in NEEDS_NOTE:
        raise ValueError(f"{verdict} takes no comment")
    await db.write(
        lambda tx: tx.execute(
            "INSERT OR REPLACE INTO review_notes (reviewer_id, report_id, verdict, message_id,"
            " asked_at) VALUES (?, ?, ?, ?, ?)",
            (reviewer_id, report_id, verdict.value, message_id, tx.now.isoformat()),
        )
    )


async def pending_note(db: Database, reviewer_id: int) -> PendingNote | None:
    row = await db.read(
        lambda tx: tx.one(
            "SELECT report_id, verdict, message_id, asked_at FROM review_notes"
            " WHERE reviewer_id = ?",
            (reviewer_id,),
        ),
        quick=True,
    )
    if row is None:
        return None
    return PendingNote(
        row["report_id"], Verdict(row["verdict"]), row["message_id"],
        datetime.fromisoformat(row["asked_at"]),
    )  # fmt: skip


async def drop_note(db: Database, reviewer_id: int) -> bool:
    """Forget the reviewer's question for a comment; False if there was none."""
    return await db.write(
        lambda tx: (
            tx.execute("DELETE FROM review_notes WHERE reviewer_id = ?", (reviewer_id,)).rowcount
            > 0
        )
    )


# --- watching for new reports -----------------------------------------------------------


async def set_watching(db: Database, member_id: int, on: bool) -> None:
    def write(tx: Tx) -> None:
        if on:
            tx.execute(
                "INSERT OR IGNORE INTO report_watchers (member_id, since) VALUES (?, ?)",
                (member_id, tx.now.isoformat()),
            )
        else:
            tx.execute("DELETE FROM report_watchers WHERE member_id = ?", (member_id,))

    await db.write(write)


async def is_watching(db: Database, member_id: int) -> bool:
    row = await db.fetch_one("SELECT 1 FROM report_watchers WHERE member_id = ?", (member_id,))
    return row is not None


async def watchers(db: Database) -> list[Member]:
    """Every active member who chose to be told of each new report."""
    rows = await db.fetch_all(
        f"SELECT {MEMBER_COLUMNS} FROM members WHERE active = 1"
        " AND id IN (SELECT member_id FROM report_watchers) ORDER BY id"
    )
    return [member_from_row(row) for row in rows]


# --- the reporter's own changes ---------------------------------------------------------


class OwnOutcome(StrEnum):
    DONE = "done"
    REFUSED = "refused"  # the rules say no: see the reason
    GONE = "gone"  # no such report of theirs
    REPLAYED = "replayed"


@dataclass(frozen=True)
class OwnResult:
    outcome: OwnOutcome
    reason: str | None = None  # a message id, when refused
    draft: Draft | None = None  # the reopened draft
    comment: LastVerdict | None = None  # what the reviewer asked, for a returned report


def _own(tx: Tx, member_id: int, report_id: int) -> tuple[Report, OwnReport] | None:
    report = get_report_in(tx, report_id)
    if report is None or report.member_id != member_id:
        return None
    facts = OwnReport(report.kind, report.status, report.submitted_at, reviewed_in(tx, report_id))
    return report, facts


async def reopen_report(
    db: Database, member_id: int, report_id: int, window: timedelta, origin: Origin | None
) -> OwnResult:
    """Reopen the member's report as a draft (to edit it, or to answer a review).

    An edit already open is taken up where it was left, and becomes the member's current
    draft. The report itself changes only when the draft is submitted again.
    """

    def reopen(tx: Tx) -> OwnResult:
        found = _own(tx, member_id, report_id)
        if found is None:
            return OwnResult(OwnOutcome.GONE)
        report, facts = found
        reason = own_change(OwnChange.EDIT, facts, tx.now, window)
        if reason is not None:
            return OwnResult(OwnOutcome.REFUSED, reason)
        if not claim_update(tx, origin):
            return OwnResult(OwnOutcome.REPLAYED)
        comment = last_verdict_in(tx, report_id) if report.status is ReportStatus.RETURNED else None
        now = tx.now.isoformat()
        touched = tx.execute(
            "UPDATE drafts SET updated_at = ? WHERE report_id = ? AND member_id = ?",
            (now, report_id, member_id),
        )
        if touched.rowcount == 0:
            tx.execute(
                "INSERT INTO drafts (member_id, report_id, kind, step, data, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    member_id, report_id, report.kind, SUMMARY_STEP,
                    json.dumps(dict(report.data), ensure_ascii=False), now, now,
                ),
            )  # fmt: skip
        draft = draft_in(tx, member_id)
        return OwnResult(OwnOutcome.DONE, draft=draft, comment=comment)

    return await db.write(reopen)


async def withdraw_report(
    db: Database, member_id: int, report_id: int, window: timedelta, origin: Origin | None
) -> OwnResult:
    """Withdraw the member's own report, and drop any edit of it they had open."""

    def withdraw(tx: Tx) -> OwnResult:
        found = _own(tx, member_id, report_id)
        if found is None:
            return OwnResult(OwnOutcome.GONE)
        _, facts = found
        reason = own_change(OwnChange.WITHDRAW, facts, tx.now, window)
        if reason is not None:
            return OwnResult(OwnOutcome.REFUSED, reason)
        if not claim_update(tx, origin):
            return OwnResult(OwnOutcome.REPLAYED)
        tx.execute(
            "UPDATE reports SET status = 'withdrawn', updated_at = ? WHERE id = ?",
            (tx.now.astimezone(UTC).isoformat(), report_id),
        )
        record_event_in(tx, report_id, "withdrawn", member_id)
        tx.execute("DELETE FROM drafts WHERE report_id = ?", (report_id,))
        return OwnResult(OwnOutcome.DONE)

    return await db.write(withdraw)


async def check_own_change(
    db: Database, member_id: int, report_id: int, change: OwnChange, window: timedelta
) -> OwnResult:
    """Whether the member may make the change now, without making it (to ask first)."""

    def check(tx: Tx) -> OwnResult:
        found = _own(tx, member_id, report_id)
        if found is None:
            return OwnResult(OwnOutcome.GONE)
        reason = own_change(change, found[1], tx.now, window)
        return OwnResult(OwnOutcome.REFUSED if reason else OwnOutcome.DONE, reason)

    return await db.read(check)


@dataclass(frozen=True)
class ResubmitResult:
    outcome: OwnOutcome  # DONE; REFUSED (reason); GONE; REPLAYED (a second tap: report_id)
    report_id: int | None = None
    event: str | None = None  # "resubmitted", "edited" or "followed_up"
    reason: str | None = None
    followed_up: int = 0  # replies queued under an urgent alert's copies


# What an urgent incident's follow-up announces, from the report as it was and its
# alert's copies (handlers/report/resubmit.py).
FollowUps = Callable[[Mapping[str, Any], Sequence[AlertCopy]], Sequence[OutboxItem]]


async def resubmit_draft(
    db: Database,
    draft: Draft,
    member: Member,
    report: NewReport,
    window: timedelta,
    origin: Origin | None,
    announcements: Announcements = lambda report_id: (),
    *,
    follow_up: FollowUps | None = None,
) -> ResubmitResult:
    """Submit a reopened draft as its report again: same number, same history, new answers.

    A ``follow_up`` adds to an urgent incident alerted before its form was finished
    (domain/urgent.py). Submitted or verified, it records "followed_up" and keeps the
    status, whatever the edit window; returned for more information, it answers the
    review as any resubmission does; rejected or withdrawn, it is refused. What it
    announces is made from the report and its alert's copies as this transaction reads
    them: an escalation queued a moment before gets its reply too.

    Answering a review ("returned") records "resubmitted" and puts the report back to
    "submitted"; the reporter's own edit records "edited", and only while the rules still
    allow it (within the window, no verdict given meanwhile). A draft that can no longer
    be submitted is dropped. A second tap finds the report this draft already updated.
    """
    report_id = draft.report_id
    if report_id is None:
        raise ValueError("not a reopened draft")

    def resubmit(tx: Tx) -> ResubmitResult:
        done = tx.one("SELECT id FROM reports WHERE draft_id = ?", (draft.id,))
        if done is not None:
            return ResubmitResult(OwnOutcome.REPLAYED, done["id"])
        alive = tx.one("SELECT 1 FROM drafts WHERE id = ? AND member_id = ?", (draft.id, member.id))
        found = _own(tx, member.id, report_id) if alive else None
        if found is None or not claim_update(tx, origin):
            return ResubmitResult(OwnOutcome.GONE)
        current, facts = found
        move = resubmission(current.status)
        reason = OWN_CLOSED if move is None else None
        if follow_up is not None and current.status in (
            ReportStatus.SUBMITTED,
            ReportStatus.VERIFIED,
        ):
            # What was added to an urgent incident: not an edit, so not bound by the
            # window or the review; the report keeps its status.
            move, reason = Resubmission("followed_up", own=False), None
        elif follow_up is not None and current.status is ReportStatus.RETURNED:
            reason = None  # the additions answer the reviewer too: resubmitted
        elif move is not None and move.own:
            reason = own_change(OwnChange.EDIT, facts, tx.now, window)
        if reason is not None:
            tx.execute("DELETE FROM drafts WHERE id = ?", (draft.id,))
            return ResubmitResult(OwnOutcome.REFUSED, report_id, reason=reason)
        assert move is not None
        now = tx.now.astimezone(UTC).isoformat()
        # The draft's number takes the place of the first one's: a second tap on this
        # draft's Submit finds the report it went into.
        tx.execute(
            "UPDATE reports SET draft_id = ?,"
            f" {', '.join(f'{column} = ?' for column in ANSWER_COLUMNS)}, updated_at = ?,"
            " status = CASE WHEN ? THEN status ELSE 'submitted' END,"
            # (A SET expression reads the row as it was: the new urgency is bound again.)
            " alert_state = CASE WHEN ? AND alert_state IS NULL THEN 'open'"
            " ELSE alert_state END WHERE id = ?",
            (
                draft.id,
                *answer_values(report),
                now,
                int(move.event == "followed_up"),
                int(report.urgent),
                report_id,
            ),
        )
        tx.execute("DELETE FROM report_photos WHERE report_id = ?", (report_id,))
        put_photos_in(tx, report_id, report.photos)
        record_event_in(tx, report_id, move.event, member.id)
        enqueue_in(tx, announcements(report_id))
        replies: Sequence[OutboxItem] = ()
        if follow_up is not None:
            replies = follow_up(current.data, alert_copies_in(tx, report_id))
            enqueue_in(tx, replies)
        tx.execute("DELETE FROM drafts WHERE id = ?", (draft.id,))
        return ResubmitResult(OwnOutcome.DONE, report_id, move.event, followed_up=len(replies))

    return await db.write(resubmit)
