"""What the admin command line reads and changes beyond the bot's own needs: units
imported with what changed, members and open invites listed, an invite revoked."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from domain.models import Role, Unit
from storage.db import Database, Tx

# How many leading characters of an invite's stored hash name it on the command line.
HANDLE_LENGTH = 8


@dataclass(frozen=True)
class UnitChanges:
    added: int
    renamed: int
    moved: int

    @property
    def changed(self) -> bool:
        return bool(self.added or self.renamed or self.moved)


@dataclass(frozen=True)
class MemberLine:
    id: int
    name: str
    role: Role
    unit_code: str
    active: bool
    last_report: datetime | None


@dataclass(frozen=True)
class OpenInvite:
    id: int
    handle: str
    role: Role
    unit_code: str
    created_at: datetime
    expires_at: datetime


async def import_units_counted(db: Database, units: Iterable[Unit]) -> UnitChanges:
    """Insert new units, rename and move known ones, all or nothing; an unchanged unit
    is not written and not counted."""
    rows = list(units)

    def upsert(tx: Tx) -> UnitChanges:
        added = renamed = moved = 0
        tx.execute("PRAGMA defer_foreign_keys=ON")
        for unit in rows:
            known = tx.one("SELECT name, parent_code FROM units WHERE code = ?", (unit.code,))
            if known is None:
                tx.execute(
                    "INSERT INTO units (code, name, parent_code) VALUES (?, ?, ?)",
                    (unit.code, unit.name, unit.parent_code),
                )
                added += 1
                continue
            if known["name"] == unit.name and known["parent_code"] == unit.parent_code:
                continue
            renamed += known["name"] != unit.name
            moved += known["parent_code"] != unit.parent_code
            tx.execute(
                "UPDATE units SET name = ?, parent_code = ? WHERE code = ?",
                (unit.name, unit.parent_code, unit.code),
            )
        return UnitChanges(added, renamed, moved)

    return await db.write(upsert)


async def member_lines(db: Database, unit_codes: Iterable[str] | None) -> list[MemberLine]:
    """Members (of the given units, or all), with the moment of their last report."""
    codes = None if unit_codes is None else set(unit_codes)

    def read(tx: Tx) -> list[MemberLine]:
        found = tx.all(
            "SELECT m.id, m.full_name, m.role, m.unit_code, m.active,"
            " (SELECT MAX(r.submitted_at) FROM reports r WHERE r.member_id = m.id) AS last"
            " FROM members m ORDER BY m.unit_code, m.id"
        )
        return [
            MemberLine(
                row["id"],
                row["full_name"],
                Role(row["role"]),
                row["unit_code"],
                bool(row["active"]),
                datetime.fromisoformat(row["last"]) if row["last"] else None,
            )
            for row in found
            if codes is None or row["unit_code"] in codes
        ]

    return await db.read(read)


async def open_invites(db: Database) -> list[OpenInvite]:
    """Invites not used and not expired, oldest first."""

    def read(tx: Tx) -> list[OpenInvite]:
        found = tx.all(
            "SELECT id, code_hash, role, unit_code, created_at, expires_at FROM invites"
            " WHERE used_at IS NULL ORDER BY id"
        )
        invites = [
            OpenInvite(
                row["id"],
                row["code_hash"][:HANDLE_LENGTH],
                Role(row["role"]),
                row["unit_code"],
                datetime.fromisoformat(row["created_at"]),
                datetime.fromisoformat(row["expires_at"]),
            )
            for row in found
        ]
        return [invite for invite in invites if invite.expires_at > tx.now]

    return await db.read(read)


async def revoke_invite(db: Database, invite_id: int) -> bool:
    """Make an open invite expire now, so it can no longer be redeemed; False if it was
    used or expired meanwhile."""

    def revoke(tx: Tx) -> bool:
        row = tx.one(
            "SELECT expires_at FROM invites WHERE id = ? AND used_at IS NULL", (invite_id,)
        )
        if row is None or datetime.fromisoformat(row["expires_at"]) <= tx.now:
            return False
        tx.execute(
            "UPDATE invites SET expires_at = ? WHERE id = ?", (tx.now.isoformat(), invite_id)
        )
        return True

    return await db.write(revoke)
