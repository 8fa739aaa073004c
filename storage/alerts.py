"""Urgent alerts' own state: acknowledged, resolved, escalated, and their copies.

A change of state is one conditional UPDATE of ``reports.alert_state``: of two
supervisors tapping "Tiếp nhận" at once, or one tapping twice, exactly one changes it.
The same transaction records the event and queues what the change announces (the
copies' edits, the reporter's notice), so a crash never leaves one without the other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from domain.models import AlertState, Member
from domain.outbox import OutboxItem, Payload
from storage.db import Database, Tx
from storage.members import member_by_id_in
from storage.outbox import decode_payload, enqueue_in
from storage.reports import record_event_in
from storage.updates import Origin, claim_update

ALERT_PURPOSE = "alert"


@dataclass(frozen=True)
class AlertCopy:
    """One supervisor's copy of an urgent alert, as the outbox holds it."""

    key: str
    recipient: Member
    status: str  # the outbox's: pending, sent, failed
    message_id: int | None
    payload: Payload | None  # None: a row carried over from an older version


@dataclass(frozen=True)
class AlertProgress:
    """What became of an urgent alert so far."""

    state: AlertState | None
    acknowledged_by: Member | None = None
    acknowledged_at: datetime | None = None
    resolved_by: Member | None = None
    resolved_at: datetime | None = None


class Change(StrEnum):
    DONE = "done"
    ALREADY = "already"  # the alert was not in the state the change starts from
    GONE = "gone"  # no such urgent report


@dataclass(frozen=True)
class AlertChange:
    outcome: Change
    progress: AlertProgress


# Given the alert's new progress and its copies, the messages the change announces.
Announce = Callable[[AlertProgress, Sequence[AlertCopy]], Sequence[OutboxItem]]


def alert_progress_in(tx: Tx, report_id: int) -> AlertProgress | None:
    row = tx.one("SELECT alert_state FROM reports WHERE id = ?", (report_id,))
    if row is None:
        return None
    state = AlertState(row["alert_state"]) if row["alert_state"] else None
    found: dict[str, tuple[Member | None, datetime]] = {}
    # The first of each: an alert is acknowledged once and resolved once.
    for event in tx.all(
        "SELECT event, actor_id, at FROM report_events WHERE report_id = ?"
        " AND event IN ('acknowledged', 'resolved') ORDER BY id",
        (report_id,),
    ):
        if event["event"] not in found:
            actor = member_by_id_in(tx, event["actor_id"]) if event["actor_id"] else None
            found[event["event"]] = (actor, datetime.fromisoformat(event["at"]))
    acknowledged = found.get("acknowledged", (None, None))
    resolved = found.get("resolved", (None, None))
    return AlertProgress(state, acknowledged[0], acknowledged[1], resolved[0], resolved[1])


async def alert_progress(db: Database, report_id: int) -> AlertProgress | None:
    """The alert's state and who took it on and resolved it, when; None: no such report."""
    return await db.read(lambda tx: alert_progress_in(tx, report_id))


def alert_copies_in(tx: Tx, report_id: int) -> list[AlertCopy]:
    rows = tx.all(
        "SELECT key, recipient_id, status, message_id, payload FROM outbox"
        " WHERE report_id = ? AND purpose = ? AND recipient_id IS NOT NULL ORDER BY id",
        (report_id, ALERT_PURPOSE),
    )
    copies = []
    for row in rows:
        recipient = member_by_id_in(tx, row["recipient_id"])
        if recipient is not None:
            copies.append(
                AlertCopy(
                    row["key"],
                    recipient,
                    row["status"],
                    row["message_id"],
                    decode_payload(row["payload"]),
                )
            )
    return copies


async def alert_copy(db: Database, report_id: int, recipient_id: int) -> AlertCopy | None:
    """One supervisor's copy of a report's alert, if they were sent one."""
    rows = await db.read(lambda tx: alert_copies_in(tx, report_id))
    return next((copy for copy in rows if copy.recipient.id == recipient_id), None)


async def change_alert(
    db: Database,
    report_id: int,
    actor_id: int,
    to: AlertState,
    origin: Origin | None,
    announce: Announce,
) -> AlertChange:
    """Acknowledge (from open) or resolve (from acknowledged) an alert, once.

    Who may is the caller's question, asked before; this makes the change only if the
    alert is still where it starts from, so a second tap or a racing supervisor finds
    ``ALREADY`` with whoever was first.
    """
    start = AlertState.OPEN if to is AlertState.ACKNOWLEDGED else AlertState.ACKNOWLEDGED

    def change(tx: Tx) -> AlertChange:
        cursor = tx.execute(
            "UPDATE reports SET alert_state = ?, updated_at = ? WHERE id = ? AND alert_state = ?",
            (to.value, tx.now.astimezone(UTC).isoformat(), report_id, start.value),
        )
        if cursor.rowcount == 0:
            progress = alert_progress_in(tx, report_id)
            if progress is None or progress.state is None:
                return AlertChange(Change.GONE, AlertProgress(None))
            return AlertChange(Change.ALREADY, progress)
        # A replayed update cannot get here (the first delivery moved the state on); the
        # key notes that this one's replies are owed until they have gone out.
        claim_update(tx, origin)
        record_event_in(tx, report_id, to.value, actor_id)
        progress = alert_progress_in(tx, report_id)
        assert progress is not None
        enqueue_in(tx, announce(progress, alert_copies_in(tx, report_id)))
        return AlertChange(Change.DONE, progress)

    return await db.write(change)


@dataclass(frozen=True)
class OpenAlert:
    """An urgent alert nobody has acknowledged: when it was first sent, when it last went
    up the tree."""

    report_id: int
    alerted_at: datetime  # its first alert was made (a resubmission may make it urgent late)
    last_raised: datetime  # the latest escalation, or ``alerted_at``


async def open_alerts(db: Database, since: datetime) -> list[OpenAlert]:
    """Unacknowledged urgent alerts first made since a moment, of reports not withdrawn
    or rejected, oldest first."""
    rows = await db.fetch_all(
        "SELECT r.id, r.submitted_at,"
        " (SELECT min(o.created_at) FROM outbox o WHERE o.report_id = r.id"
        "  AND o.purpose = 'alert') AS alerted,"
        " (SELECT group_concat(e.at, '|') FROM report_events e"
        "  WHERE e.report_id = r.id AND e.event = 'escalated') AS raised"
        " FROM reports r WHERE r.urgent = 1 AND r.alert_state = 'open'"
        " AND r.status NOT IN ('withdrawn', 'rejected') ORDER BY r.id",
    )
    found = []
    for row in rows:
        alerted = datetime.fromisoformat(row["alerted"] or row["submitted_at"])
        if alerted < since:
            continue
        raised = [datetime.fromisoformat(at) for at in (row["raised"] or "").split("|") if at]
        found.append(OpenAlert(row["id"], alerted, max([alerted, *raised])))
    return found


async def open_alerts_for(db: Database, member_id: int, since: datetime) -> list[int]:
    """Reports whose urgent alert went to this member since a moment and nobody has taken
    on yet, newest first."""
    rows = await db.fetch_all(
        "SELECT DISTINCT r.id FROM outbox o JOIN reports r ON r.id = o.report_id"
        " WHERE o.purpose = 'alert' AND o.recipient_id = ? AND o.created_at >= ?"
        " AND r.alert_state = 'open' AND r.status NOT IN ('withdrawn', 'rejected')"
        " ORDER BY r.id DESC LIMIT 3",
        (member_id, since.isoformat()),
    )
    return [row["id"] for row in rows]


async def reached_units(db: Database, report_id: int) -> set[str]:
    """The units of everyone a report's alert was meant for, whatever came of it."""
    rows = await db.fetch_all(
        "SELECT DISTINCT m.unit_code FROM outbox o JOIN members m ON m.id = o.recipient_id"
        " WHERE o.report_id = ? AND o.purpose = ?",
        (report_id, ALERT_PURPOSE),
    )
    return {row["unit_code"] for row in rows}


def escalation_key(report_id: int, unit_code: str) -> str:
    return f"escalate:{report_id}:{unit_code}"


async def escalate_alert(
    db: Database, report_id: int, unit_code: str, items: Sequence[OutboxItem]
) -> bool:
    """Send an open alert up to one more level, once per level; False if it was already
    sent there, or has been acknowledged meanwhile."""

    def escalate(tx: Tx) -> bool:
        row = tx.one("SELECT alert_state FROM reports WHERE id = ?", (report_id,))
        if row is None or row["alert_state"] != AlertState.OPEN.value:
            return False
        if not tx.once(escalation_key(report_id, unit_code)):
            return False
        record_event_in(tx, report_id, "escalated", None, unit_code)
        enqueue_in(tx, items)
        return True

    return await db.write(escalate)
