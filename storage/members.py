"""Members and the invites they join with."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.access import UnitTree
from domain.models import Member, Role
from storage.db import Database, Tx
from storage.units import units_in
from storage.updates import Origin, claim_update

MEMBER_COLUMNS = (
    "id, telegram_user_id, chat_id, full_name, username, unit_code, role, language, active,"
    " blocked_at IS NOT NULL AS blocked"
)


def member_from_row(row: sqlite3.Row) -> Member:
    return Member(
        id=row["id"],
        telegram_user_id=row["telegram_user_id"],
        chat_id=row["chat_id"],
        full_name=row["full_name"],
        username=row["username"],
        unit_code=row["unit_code"],
        role=Role(row["role"]),
        language=row["language"],
        active=bool(row["active"]),
        blocked=bool(row["blocked"]),
    )


def member_by_telegram_id_in(tx: Tx, telegram_user_id: int) -> Member | None:
    row = tx.one(
        f"SELECT {MEMBER_COLUMNS} FROM members WHERE telegram_user_id = ? AND active = 1",
        (telegram_user_id,),
    )
    return member_from_row(row) if row else None


async def member_by_telegram_id(db: Database, telegram_user_id: int) -> Member | None:
    return await db.read(lambda tx: member_by_telegram_id_in(tx, telegram_user_id))


def member_by_id_in(tx: Tx, member_id: int) -> Member | None:
    row = tx.one(f"SELECT {MEMBER_COLUMNS} FROM members WHERE id = ?", (member_id,))
    return member_from_row(row) if row else None


async def member_by_id(db: Database, member_id: int) -> Member | None:
    return await db.read(lambda tx: member_by_id_in(tx, member_id))


async def set_language(db: Database, member_id: int, language: str) -> None:
    await db.write(
        lambda tx: tx.execute("UPDATE members SET language = ? WHERE id = ?", (language, member_id))
    )


async def overseers_and_tree(db: Database) -> tuple[UnitTree, list[Member]]:
    """The unit tree and every active supervisor and admin, in one read.

    Who of them may receive what is the access rules' decision (domain/access.py).
    """

    def read(tx: Tx) -> tuple[UnitTree, list[Member]]:
        tree = UnitTree(units_in(tx))
        rows = tx.all(
            f"SELECT {MEMBER_COLUMNS} FROM members"
            " WHERE role IN ('supervisor', 'admin') AND active = 1 ORDER BY id"
        )
        return tree, [member_from_row(row) for row in rows]

    return await db.read(read)


async def create_invite(
    db: Database, code_hash: str, unit_code: str, role: Role, expires_at: datetime
) -> None:
    await db.write(
        lambda tx: tx.execute(
            "INSERT INTO invites (code_hash, unit_code, role, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (code_hash, unit_code, role.value, tx.now.isoformat(), expires_at.isoformat()),
        )
    )


class JoinOutcome(StrEnum):
    JOINED = "joined"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    ALREADY_MEMBER = "already_member"
    REPLAYED = "replayed"


@dataclass(frozen=True)
class JoinResult:
    outcome: JoinOutcome
    member: Member | None = None


@dataclass(frozen=True)
class Joiner:
    telegram_user_id: int
    chat_id: int
    full_name: str
    username: str | None
    language: str


async def redeem_invite(
    db: Database, code_hash: str, joiner: Joiner, origin: Origin | None
) -> JoinResult:
    """Use an invite once: create the member and mark the invite used, together."""

    def redeem(tx: Tx) -> JoinResult:
        existing = member_by_telegram_id_in(tx, joiner.telegram_user_id)
        invite = tx.one(
            "SELECT id, unit_code, role, expires_at, used_at, used_by FROM invites"
            " WHERE code_hash = ?",
            (code_hash,),
        )
        if existing is not None:
            return JoinResult(JoinOutcome.ALREADY_MEMBER, existing)
        if invite is None:
            return JoinResult(JoinOutcome.UNKNOWN)
        if invite["used_at"] is not None:
            return JoinResult(JoinOutcome.USED)
        if datetime.fromisoformat(invite["expires_at"]) <= tx.now:
            return JoinResult(JoinOutcome.EXPIRED)
        if not claim_update(tx, origin):
            return JoinResult(JoinOutcome.REPLAYED)
        now = tx.now.isoformat()
        # Someone deactivated and invited again comes back as the same member (their
        # reports stay theirs), with the new invite's unit and role.
        former = tx.one(
            "SELECT id FROM members WHERE telegram_user_id = ? AND active = 0",
            (joiner.telegram_user_id,),
        )
        if former is not None:
            member_id = former["id"]
            tx.execute(
                "UPDATE members SET chat_id = ?, full_name = ?, username = ?, unit_code = ?,"
                " role = ?, active = 1, blocked_at = NULL, joined_at = ? WHERE id = ?",
                (
                    joiner.chat_id,
                    joiner.full_name,
                    joiner.username,
                    invite["unit_code"],
                    invite["role"],
                    now,
                    member_id,
                ),
            )
        else:
            cursor = tx.execute(
                "INSERT INTO members (telegram_user_id, chat_id, full_name, username, unit_code,"
                " role, language, joined_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    joiner.telegram_user_id,
                    joiner.chat_id,
                    joiner.full_name,
                    joiner.username,
                    invite["unit_code"],
                    invite["role"],
                    joiner.language,
                    now,
                ),
            )
            member_id = cursor.lastrowid
        tx.execute(
            "UPDATE invites SET used_at = ?, used_by = ? WHERE id = ?",
            (now, member_id, invite["id"]),
        )
        assert member_id is not None
        return JoinResult(JoinOutcome.JOINED, member_by_id_in(tx, member_id))

    return await db.write(redeem)
