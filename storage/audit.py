"""The audit log (migration 0008): invites made and members deactivated, who, when, what.

A change and its audit row are written in one transaction: there is never one without
the other. A report's own history is kept apart, in report_events.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.models import Role
from storage.db import Database, Tx
from storage.updates import Origin, claim_update


class AuditAction(StrEnum):
    INVITE = "invite"
    DEACTIVATE = "deactivate"


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor_id: int | None  # None: the command line, on the server
    action: AuditAction
    target_member: int | None
    target_unit: str | None
    detail: Mapping[str, Any]


def record_in(
    tx: Tx,
    actor_id: int | None,
    action: AuditAction,
    *,
    target_member: int | None = None,
    target_unit: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> int:
    """Add one entry, stamped with the transaction's moment; returns its id."""
    cursor = tx.execute(
        "INSERT INTO audit_log (at, actor_id, action, target_member, target_unit, detail)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            tx.now.isoformat(),
            actor_id,
            action.value,
            target_member,
            target_unit,
            json.dumps(dict(detail or {}), ensure_ascii=False, sort_keys=True),
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def audit_entries(db: Database, limit: int = 100) -> list[AuditEntry]:
    """The newest entries, oldest of them first."""
    rows = await db.fetch_all(
        "SELECT * FROM (SELECT id, at, actor_id, action, target_member, target_unit, detail"
        " FROM audit_log ORDER BY id DESC LIMIT ?) ORDER BY id",
        (limit,),
    )
    return [
        AuditEntry(
            id=row["id"],
            at=datetime.fromisoformat(row["at"]),
            actor_id=row["actor_id"],
            action=AuditAction(row["action"]),
            target_member=row["target_member"],
            target_unit=row["target_unit"],
            detail=json.loads(row["detail"]),
        )
        for row in rows
    ]


async def create_invite_recorded(
    db: Database,
    code_hash: str,
    unit_code: str,
    role: Role,
    expires_at: datetime,
    actor_id: int | None,
    *,
    once_key: str | None = None,
    origin: Origin | None = None,
) -> int | None:
    """Store an invite and its audit entry together; returns the invite's id.

    None if ``once_key`` (a menu's own key, against a double tap) or the update's key was
    taken before: nothing is made twice.
    """

    def create(tx: Tx) -> int | None:
        if once_key is not None and not tx.once(once_key):
            return None
        if not claim_update(tx, origin):
            return None
        cursor = tx.execute(
            "INSERT INTO invites (code_hash, unit_code, role, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (code_hash, unit_code, role.value, tx.now.isoformat(), expires_at.isoformat()),
        )
        invite_id = cursor.lastrowid
        assert invite_id is not None
        record_in(
            tx,
            actor_id,
            AuditAction.INVITE,
            target_unit=unit_code,
            detail={"invite": invite_id, "role": role.value, "expires_at": expires_at.isoformat()},
        )
        return invite_id

    return await db.write(create)


async def deactivate_member(
    db: Database, member_id: int, actor_id: int | None, origin: Origin | None = None
) -> bool:
    """Deactivate an active member, drop what was queued for them, and record who did it;
    False if they were not active (already deactivated, or a replayed update): nothing
    changes twice."""

    def deactivate(tx: Tx) -> bool:
        row = tx.one(
            "SELECT unit_code, role FROM members WHERE id = ? AND active = 1", (member_id,)
        )
        if row is None or not claim_update(tx, origin):
            return False
        tx.execute("UPDATE members SET active = 0 WHERE id = ?", (member_id,))
        # What was queued for them (reminders, digests, notices) is not sent any more, as
        # for someone who blocked the bot; an urgent alert is left to its own rules
        # (handlers/alerts.py), which never let one reach nobody.
        tx.execute(
            "UPDATE outbox SET status = 'failed', last_error = 'the recipient was deactivated'"
            " WHERE recipient_id = ? AND status = 'pending' AND attempting_at IS NULL"
            " AND purpose <> 'alert'",
            (member_id,),
        )
        record_in(
            tx,
            actor_id,
            AuditAction.DEACTIVATE,
            target_member=member_id,
            target_unit=row["unit_code"],
            detail={"role": row["role"]},
        )
        return True

    return await db.write(deactivate)
