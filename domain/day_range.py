"""Ranges of local days for an export: the buttons' spans and a typed "dd/mm/yyyy-dd/mm/yyyy".

Pure: the caller hands in today's local date. A typed range that cannot be read raises
``RangeError`` with a message id saying why, so the asker can type it again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import assert_never

# A typed range longer than this is refused: ten years of reports is a database dump,
# which the command line's export is for.
MAX_DAYS = 3660
_DAY = r"(\d{1,2})\s*[/.]\s*(\d{1,2})\s*[/.]\s*(\d{4})"
_RANGE = re.compile(rf"^\s*{_DAY}\s*(?:-|–|—|đến|den|to)\s*{_DAY}\s*$", re.IGNORECASE)
_ONE_DAY = re.compile(rf"^\s*{_DAY}\s*$")
# What a typed range looks like before it is read: digits, separators and "đến" / "to",
# perhaps ended by the file format. Anything else typed is not meant as a range.
TYPED_SHAPE = re.compile(
    r"^(?=\D*\d)(?:[\d/.\-–—\s]|đến|den|to)+(?:(?:csv|xlsx|excel)\s*)?$", re.IGNORECASE
)
_FORMAT_WORD = re.compile(r"\s*(csv|xlsx|excel)\s*$", re.IGNORECASE)


class Span(StrEnum):
    """The export menu's buttons."""

    THIS_MONTH = "month"
    LAST_MONTH = "last_month"
    LAST_30_DAYS = "days30"
    THIS_YEAR = "year"


@dataclass(frozen=True)
class DayRange:
    """Local days, both included."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


class RangeError(ValueError):
    """A typed range that cannot be used; ``reason`` is a message id."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def span_range(span: Span, today: date) -> DayRange:
    """The days a button covers, up to today."""
    match span:
        case Span.THIS_MONTH:
            return DayRange(today.replace(day=1), today)
        case Span.LAST_MONTH:
            last = today.replace(day=1) - timedelta(days=1)
            return DayRange(last.replace(day=1), last)
        case Span.LAST_30_DAYS:
            return DayRange(today - timedelta(days=29), today)
        case Span.THIS_YEAR:
            return DayRange(today.replace(month=1, day=1), today)
        case _:
            assert_never(span)


def parse_day_range(text: str) -> DayRange:
    """Read "01/11/2026-30/11/2026" (or one day, "26/11/2026"); raise RangeError."""
    if len(text) > 64:
        raise RangeError("export.error.shape")
    match = _RANGE.match(text) or _ONE_DAY.match(text)
    if match is None:
        raise RangeError("export.error.shape")
    numbers = [int(part) for part in match.groups()]
    days = [_day(*numbers[i : i + 3]) for i in range(0, len(numbers), 3)]
    first, last = days[0], days[-1]
    if first > last:
        raise RangeError("export.error.order")
    found = DayRange(first, last)
    if found.days > MAX_DAYS:
        raise RangeError("export.error.too_long")
    return found


def split_format(text: str) -> tuple[str, str | None]:
    """Take a trailing "csv", "xlsx" or "excel" off a typed range: (range, word or None)."""
    match = _FORMAT_WORD.search(text)
    if match is None:
        return text, None
    word = match.group(1).lower()
    return text[: match.start()], "xlsx" if word == "excel" else word


def _day(day: int, month: int, year: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise RangeError("export.error.day") from None
