"""Deadline rules, as an admin sets them from the command line."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from domain.deadlines import Period, ReportKind, Rule
from domain.models import Member
from storage.db import Database, Tx
from storage.members import MEMBER_COLUMNS, member_from_row

_COLUMNS = (
    "id, unit_code, kind, period, due_time, weekday, month_day, needed, remind, created_at,"
    " removed_at"
)


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
        since=datetime.fromisoformat(row["created_at"]),
        until=datetime.fromisoformat(row["removed_at"]) if row["removed_at"] else None,
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


def rules_in(tx: Tx, *, with_removed: bool = False) -> list[Rule]:
    """The rules in force, by number; with the removed ones too, for what was due before."""
    where = "" if with_removed else " WHERE removed_at IS NULL"
    return [
        _rule(row) for row in tx.all(f"SELECT {_COLUMNS} FROM deadline_rules{where} ORDER BY id")
    ]


async def active_rules(db: Database) -> list[Rule]:
    """The rules in force, by number."""
    return await db.read(rules_in)


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


@dataclass(frozen=True)
class Standing:
    """Where one member covered by a rule stands in one period."""

    member: Member
    counts: dict[str, int]  # reports submitted in the period, by kind
    last_report: date | None  # the local day of their latest report of any kind, ever
    on_leave: bool


async def standings(
    db: Database, unit_codes: Collection[str], start: datetime, due: datetime, due_day: date
) -> list[Standing]:
    """Every active reporting member of these units: their reports in [start, due)."""

    def read(tx: Tx) -> list[Standing]:
        units = json.dumps(sorted(unit_codes))
        members = [
            member_from_row(row)
            for row in tx.all(
                f"SELECT {MEMBER_COLUMNS} FROM members WHERE active = 1"
                " AND role IN ('member', 'leader', 'deputy')"
                " AND unit_code IN (SELECT value FROM json_each(?)) ORDER BY unit_code, id",
                (units,),
            )
        ]
        counts: dict[int, dict[str, int]] = {}
        for row in tx.all(
            "SELECT member_id, kind, count(*) AS n FROM reports"
            " WHERE submitted_at >= ? AND submitted_at < ? AND status <> 'withdrawn'"
            " AND unit_code IN (SELECT value FROM json_each(?)) GROUP BY member_id, kind",
            (start.astimezone(UTC).isoformat(), due.astimezone(UTC).isoformat(), units),
        ):
            counts.setdefault(row["member_id"], {})[row["kind"]] = row["n"]
        last = {
            row["member_id"]: date.fromisoformat(row["day"])
            for row in tx.all(
                "SELECT member_id, max(period_date) AS day FROM reports"
                " WHERE unit_code IN (SELECT value FROM json_each(?)) GROUP BY member_id",
                (units,),
            )
        }
        away = {
            row["member_id"]
            for row in tx.all(
                "SELECT member_id FROM member_leave WHERE first_day <= ? AND last_day >= ?",
                (due_day.isoformat(), due_day.isoformat()),
            )
        }
        return [Standing(m, counts.get(m.id, {}), last.get(m.id), m.id in away) for m in members]

    return await db.read(read)


async def reporting_members(db: Database, unit_codes: Collection[str]) -> list[Member]:
    """The active members, team leaders and deputies of these units, by unit and name."""
    rows = await db.fetch_all(
        f"SELECT {MEMBER_COLUMNS} FROM members WHERE active = 1"
        " AND role IN ('member', 'leader', 'deputy')"
        " AND unit_code IN (SELECT value FROM json_each(?)) ORDER BY unit_code, full_name",
        (json.dumps(sorted(unit_codes)),),
    )
    return [member_from_row(row) for row in rows]


async def set_leave(
    db: Database, member_id: int, first_day: date, last_day: date, set_by: int
) -> None:
    """Put a member on leave for a range of local days (both included)."""
    await db.write(
        lambda tx: tx.execute(
            "INSERT INTO member_leave (member_id, first_day, last_day, set_by, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (member_id, first_day.isoformat(), last_day.isoformat(), set_by, tx.now.isoformat()),
        )
    )


async def end_leave(db: Database, member_id: int, today: date) -> None:
    """End a member's leave: from today on they are reminded and counted again."""

    def end(tx: Tx) -> None:
        tx.execute(
            "DELETE FROM member_leave WHERE member_id = ? AND first_day >= ?",
            (member_id, today.isoformat()),
        )
        tx.execute(
            "UPDATE member_leave SET last_day = ? WHERE member_id = ? AND last_day >= ?",
            ((today - timedelta(days=1)).isoformat(), member_id, today.isoformat()),
        )

    await db.write(end)
