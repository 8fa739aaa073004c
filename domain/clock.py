"""The one clock: every "now" in the bot, its jobs and its CLI comes from a ``Clock``.

Domain functions never read it; they are handed a ``Moment`` (a reading and the local
zone), so that tests and time travel control every timestamp written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to: for tests and demos."""

    def __init__(self, start: datetime) -> None:
        self.set(start)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("a clock reading must be timezone-aware")
        self._now = moment.astimezone(UTC)

    def advance(self, by: timedelta) -> None:
        self._now += by


@dataclass(frozen=True)
class Moment:
    """One reading of the clock and the zone people live in: what answers are judged against."""

    now: datetime
    zone: ZoneInfo

    @classmethod
    def of(cls, clock: Clock, zone: ZoneInfo) -> Moment:
        return cls(clock.now(), zone)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.zone).date()

    def local(self, day: date, moment: time) -> datetime:
        return datetime.combine(day, moment, tzinfo=self.zone)
