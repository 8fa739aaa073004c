"""Public holidays: the local dates on which deadlines are skipped."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from storage.db import Database, Tx


@dataclass(frozen=True)
class HolidaysReplaced:
    """What an import changed in the years it covers."""

    added: int
    removed: int
    renamed: int

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.renamed)


def holidays_in(tx: Tx, first_day: date, last_day: date) -> dict[date, str]:
    """The holidays from first_day to last_day, both included, in date order."""
    rows = tx.all(
        "SELECT day, name FROM holidays WHERE day BETWEEN ? AND ? ORDER BY day",
        (first_day.isoformat(), last_day.isoformat()),
    )
    return {date.fromisoformat(row["day"]): row["name"] for row in rows}


async def holidays_between(db: Database, first_day: date, last_day: date) -> dict[date, str]:
    """The holidays from first_day to last_day, both included: date to name, in order."""
    return await db.read(lambda tx: holidays_in(tx, first_day, last_day))


async def holiday_days(db: Database, first_day: date, last_day: date) -> frozenset[date]:
    """Just the dates, as the deadline arithmetic takes them."""
    return frozenset(await holidays_between(db, first_day, last_day))


async def all_holidays(db: Database) -> dict[date, str]:
    return await holidays_between(db, date.min, date.max)


async def holiday_name(db: Database, day: date) -> str | None:
    """The holiday's name if the local date is one, else None."""
    row = await db.fetch_one("SELECT name FROM holidays WHERE day = ?", (day.isoformat(),))
    return None if row is None else str(row["name"])


async def is_holiday(db: Database, day: date) -> bool:
    return await holiday_name(db, day) is not None


async def replace_holidays(db: Database, holidays: Mapping[date, str]) -> HolidaysReplaced:
    """Make the holidays of every year these days fall in exactly these; keep other years.

    All or nothing. An import identical to what is stored writes nothing.
    """
    wanted = dict(holidays)
    years = sorted({day.year for day in wanted})

    def replace(tx: Tx) -> HolidaysReplaced:
        stored: dict[date, str] = {}
        for year in years:
            stored.update(holidays_in(tx, date(year, 1, 1), date(year, 12, 31)))
        result = HolidaysReplaced(
            added=len(wanted.keys() - stored.keys()),
            removed=len(stored.keys() - wanted.keys()),
            renamed=sum(1 for day in wanted.keys() & stored.keys() if wanted[day] != stored[day]),
        )
        if result.changed:
            for year in years:
                tx.execute(
                    "DELETE FROM holidays WHERE day BETWEEN ? AND ?",
                    (date(year, 1, 1).isoformat(), date(year, 12, 31).isoformat()),
                )
            tx.executemany(
                "INSERT INTO holidays (day, name) VALUES (?, ?)",
                [(day.isoformat(), name) for day, name in sorted(wanted.items())],
            )
        return result

    return await db.write(replace)


async def seed_holidays(db: Database, defaults: Mapping[date, str]) -> bool:
    """Give a new deployment the shipped holidays if it has none; whether it did."""
    rows = sorted((day.isoformat(), name) for day, name in defaults.items())

    def seed(tx: Tx) -> bool:
        if tx.one("SELECT 1 FROM holidays LIMIT 1"):
            return False
        tx.executemany("INSERT INTO holidays (day, name) VALUES (?, ?)", rows)
        return True

    return await db.write(seed)
