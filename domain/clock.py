"""The one clock: every "now" in the bot, its jobs and its CLI comes from a ``Clock``.

Domain functions never read it; they are handed a ``Moment`` (a reading and the local
zone), so that tests and time travel control every timestamp written.
"""

from __future__ import annotations

import time as system_time
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware, in UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds that only ever go forward, whatever is done to the wall clock.

        Waits (a retry in ten seconds) are measured on it, so that a wall clock set back
        a day does not hold them up for a day.
        """
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return system_time.monotonic()


class ManualClock:
    """A clock that moves only when told to: for tests and demos."""

    def __init__(self, start: datetime) -> None:
        self._elapsed = 0.0
        self.set(start)

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._elapsed

    def set(self, moment: datetime) -> None:
        """The wall clock set to a moment (forward or back); no time passes."""
        if moment.tzinfo is None:
            raise ValueError("a clock reading must be timezone-aware")
        self._now = moment.astimezone(UTC)

    def advance(self, by: timedelta) -> None:
        """Time passing: the wall clock and the monotonic one move together."""
        self._now += by
        self._elapsed += by.total_seconds()


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
