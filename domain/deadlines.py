"""Deadline rules and their periods: pure arithmetic on local dates and times.

A rule is due every day, every week on one weekday, or every month on one day (1–28, so
that every month has it), at one local time. A period ends at its due moment and begins
at the one before; a report counts for the period in which it was submitted. A period
whose due date is a public holiday is skipped: nobody is reminded or counted late.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo


class Period(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class ReportKind(StrEnum):
    """Which reports meet a rule: ``any`` counts incidents, activities and "nothing"."""

    ANY = "any"
    INCIDENT = "incident"
    ACTIVITY = "activity"


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Longest a reminder may come before the due time, by period: within the period itself.
_LONGEST_REMINDER = {
    Period.DAILY: timedelta(days=1),
    Period.WEEKLY: timedelta(days=7),
    Period.MONTHLY: timedelta(days=28),
}


class Recurring(Protocol):
    """Anything due daily, weekly or monthly at one local time: a rule, a digest."""

    @property
    def period(self) -> Period: ...
    @property
    def due(self) -> time: ...
    @property
    def weekday(self) -> int | None: ...
    @property
    def month_day(self) -> int | None: ...


@dataclass(frozen=True)
class Rule:
    id: int
    unit_code: str
    kind: ReportKind
    period: Period
    due: time
    weekday: int | None = None  # weekly: 0 is Monday
    month_day: int | None = None  # monthly: 1–28
    needed: int = 1
    remind: tuple[timedelta, ...] = ()  # before the due moment, longest first
    since: datetime | None = None  # when the rule was set: nothing was due before
    until: datetime | None = None  # when it was removed: nothing was due after

    def counts(self, report_kind: str) -> bool:
        """Whether a report of this kind meets the rule."""
        return self.kind is ReportKind.ANY or report_kind == self.kind.value

    def met(self, by_kind: Mapping[str, int]) -> int:
        """How many of a member's reports in a period meet the rule."""
        return sum(count for kind, count in by_kind.items() if self.counts(kind))


@dataclass(frozen=True)
class Window:
    """One period of a rule: from the previous due moment (included) to its own (excluded)."""

    start: datetime
    due: datetime
    due_day: date  # the local date of the due moment

    def holds(self, moment: datetime) -> bool:
        return self.start <= moment < self.due


def _due_on(rule: Recurring, day: date, zone: ZoneInfo) -> datetime | None:
    """The rule's due moment on a local day, if it is due that day."""
    if rule.period is Period.WEEKLY and day.weekday() != rule.weekday:
        return None
    if rule.period is Period.MONTHLY and day.day != rule.month_day:
        return None
    return datetime.combine(day, rule.due, tzinfo=zone).astimezone(UTC)


def next_due(rule: Recurring, after: datetime, zone: ZoneInfo) -> datetime:
    """The first due moment strictly after a moment."""
    day = after.astimezone(zone).date()
    for offset in range(0, 64):  # a monthly rule is due within 31 days; a margin for DST
        due = _due_on(rule, day + timedelta(days=offset), zone)
        if due is not None and due > after:
            return due
    raise AssertionError(f"{rule} is never due")  # pragma: no cover


def last_due(rule: Recurring, at_or_before: datetime, zone: ZoneInfo) -> datetime:
    """The latest due moment at or before a moment."""
    day = at_or_before.astimezone(zone).date()
    for offset in range(0, 64):
        due = _due_on(rule, day - timedelta(days=offset), zone)
        if due is not None and due <= at_or_before:
            return due
    raise AssertionError(f"{rule} is never due")  # pragma: no cover


def window_ending(rule: Recurring, due: datetime, zone: ZoneInfo) -> Window:
    """The period that ends at a due moment."""
    start = last_due(rule, due - timedelta(microseconds=1), zone)
    return Window(start, due, due.astimezone(zone).date())


def window_of(rule: Recurring, submitted: datetime, zone: ZoneInfo) -> Window:
    """The period a report submitted at a moment counts for."""
    return window_ending(rule, next_due(rule, submitted, zone), zone)


def skipped(window: Window, holidays: frozenset[date] | set[date]) -> bool:
    """A period due on a public holiday is skipped: no reminder, nobody late."""
    return window.due_day in holidays


def reminder_moments(rule: Rule, window: Window) -> list[datetime]:
    """When the rule's reminders for a period are due, earliest first, within the period."""
    moments = {window.due - offset for offset in rule.remind}
    return sorted(moment for moment in moments if moment >= window.start)


# --- reading what an admin types --------------------------------------------------------

_HH_MM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_OFFSET = re.compile(r"^(\d{1,4})([mhd])$")
_OFFSET_UNITS = {"m": 60, "h": 3600, "d": 86400}


def parse_due(text: str) -> time | None:
    """Read "HH:MM" (24-hour local time)."""
    match = _HH_MM.match(text.strip())
    return time(int(match.group(1)), int(match.group(2))) if match else None


def parse_weekday(text: str) -> int | None:
    """Read mon..sun (also Monday…, and t2..cn as Vietnamese write them)."""
    cleaned = text.strip().lower()
    vietnamese = {"t2": 0, "t3": 1, "t4": 2, "t5": 3, "t6": 4, "t7": 5, "cn": 6}
    if cleaned in vietnamese:
        return vietnamese[cleaned]
    for index, name in enumerate(WEEKDAYS):
        if cleaned[:3] == name and (len(cleaned) == 3 or cleaned.endswith("day")):
            return index
    return None


def parse_remind(text: str, period: Period) -> tuple[timedelta, ...] | None:
    """Read "24h,2h,30m": offsets before the due time, each within one period."""
    if not text.strip():
        return ()
    offsets = []
    for part in text.split(","):
        match = _OFFSET.match(part.strip().lower())
        if not match or int(match.group(1)) == 0:
            return None
        offset = timedelta(seconds=int(match.group(1)) * _OFFSET_UNITS[match.group(2)])
        if offset > _LONGEST_REMINDER[period]:
            return None
        offsets.append(offset)
    if len(set(offsets)) != len(offsets):
        return None
    return tuple(sorted(offsets, reverse=True))


def format_offset(offset: timedelta) -> str:
    """An offset as the admin types it: "24h", "30m", "2d"."""
    minutes = int(offset.total_seconds() // 60)
    if minutes % 1440 == 0 and minutes >= 2 * 1440:  # "24h" reads better than "1d"
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"
