"""Units: the organisation tree."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from domain.models import Unit
from storage.db import Database, Tx


def _unit(row: sqlite3.Row) -> Unit:
    return Unit(code=row["code"], name=row["name"], parent_code=row["parent_code"])


def units_in(tx: Tx) -> list[Unit]:
    return [_unit(row) for row in tx.all("SELECT code, name, parent_code FROM units ORDER BY code")]


async def all_units(db: Database) -> list[Unit]:
    return await db.read(units_in)


async def get_unit(db: Database, code: str) -> Unit | None:
    row = await db.fetch_one("SELECT code, name, parent_code FROM units WHERE code = ?", (code,))
    return _unit(row) if row else None


async def upsert_units(db: Database, units: Iterable[Unit]) -> tuple[int, int]:
    """Insert new units and update the names and parents of known ones, all or nothing.

    Returns (added, updated). Parents may come later in the input than their children,
    so foreign keys are checked at commit rather than per row.
    """
    rows = list(units)

    def upsert(tx: Tx) -> tuple[int, int]:
        added = updated = 0
        tx.execute("PRAGMA defer_foreign_keys=ON")
        for unit in rows:
            cursor = tx.execute(
                "UPDATE units SET name = ?, parent_code = ? WHERE code = ?",
                (unit.name, unit.parent_code, unit.code),
            )
            if cursor.rowcount:
                updated += 1
                continue
            tx.execute(
                "INSERT INTO units (code, name, parent_code) VALUES (?, ?, ?)",
                (unit.code, unit.name, unit.parent_code),
            )
            added += 1
        return added, updated

    return await db.write(upsert)


async def unit_chain(db: Database, code: str) -> list[Unit]:
    """The unit and its ancestors, nearest first."""
    rows = await db.fetch_all(
        """
        WITH RECURSIVE chain(code, name, parent_code, depth) AS (
            SELECT code, name, parent_code, 0 FROM units WHERE code = ?
            UNION ALL
            SELECT u.code, u.name, u.parent_code, chain.depth + 1
            FROM units u JOIN chain ON u.code = chain.parent_code
            WHERE chain.depth < 64
        )
        SELECT code, name, parent_code FROM chain ORDER BY depth
        """,
        (code,),
    )
    return [_unit(row) for row in rows]
