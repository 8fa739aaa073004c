"""Deadline rules, as an admin sets them from the command line."""

from __future__ import annotations

import sqlite3
from datetime import time, timedelta

from domain.deadlines import Period, ReportKind, Rule
from storage.db import Database, Tx

_COLUMNS = "id, unit_code, kind, period, due_time, weekday, month_day, needed, remind"


def _rule(row: sqlite3.Row) -> Rule:
    return Rule(
        id=row["id"],
        unit_code=row["unit_code"],
        kind=ReportKind(row["kind"]),
        period=Period(row["period"]),
        due=time.fromisoformat(row["due_time"]),
        weekday=row["weekday"],
        month_day=row["month_day"],
        needed=row["needed"],
        remind=tuple(timedelta(minutes=int(m)) for m in row["remind"].split(",") if m),
    )


async def add_rule(db: Database, rule: Rule) -> int:
    """Store a new rule; returns its number."""

    def add(tx: Tx) -> int:
        cursor = tx.execute(
            "INSERT INTO deadline_rules (unit_code, kind, period, due_time, weekday, month_day,"
            " needed, remind, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                rule.unit_code,
                rule.kind.value,
                rule.period.value,
                rule.due.strftime("%H:%M"),
                rule.weekday,
                rule.month_day,
                rule.needed,
                ",".join(str(int(o.total_seconds() // 60)) for o in rule.remind),
                tx.now.isoformat(),
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    return await db.write(add)


async def active_rules(db: Database) -> list[Rule]:
    """The rules in force, by number."""
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM deadline_rules WHERE removed_at IS NULL ORDER BY id"
    )
    return [_rule(row) for row in rows]


async def remove_rule(db: Database, rule_id: int) -> bool:
    """Take a rule out of force (kept for the history of what was due); False if unknown."""
    return await db.write(
        lambda tx: (
            tx.execute(
                "UPDATE deadline_rules SET removed_at = ? WHERE id = ? AND removed_at IS NULL",
                (tx.now.isoformat(), rule_id),
            ).rowcount
            == 1
        )
    )
