"""Deadline periods as pure arithmetic: due moments, windows, holidays, reminders."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.deadlines import (
    Period,
    ReportKind,
    Rule,
    Window,
    format_offset,
    last_due,
    next_due,
    parse_due,
    parse_remind,
    parse_weekday,
    reminder_moments,
    skipped,
    window_of,
)

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE)


DAILY = Rule(1, "16702", ReportKind.ANY, Period.DAILY, time(20, 0))
WEEKLY = Rule(2, "16702", ReportKind.ACTIVITY, Period.WEEKLY, time(17, 30), weekday=4)
MONTHLY = Rule(3, "16702", ReportKind.INCIDENT, Period.MONTHLY, time(8, 0), month_day=28)


@pytest.mark.parametrize(
    ("rule", "after", "expected"),
    [
        (DAILY, "2026-11-26T10:00", "2026-11-26T20:00"),
        (DAILY, "2026-11-26T20:00", "2026-11-27T20:00"),  # strictly after
        (DAILY, "2026-11-26T23:59", "2026-11-27T20:00"),
        (WEEKLY, "2026-11-26T10:00", "2026-11-27T17:30"),  # Thu -> Fri
        (WEEKLY, "2026-11-27T17:30", "2026-12-04T17:30"),
        (MONTHLY, "2026-11-28T08:00", "2026-12-28T08:00"),
        (MONTHLY, "2027-02-01T00:00", "2027-02-28T08:00"),
        (MONTHLY, "2026-12-31T23:00", "2027-01-28T08:00"),  # across the year
    ],
)
def test_next_due_is_the_first_due_moment_after(rule: Rule, after: str, expected: str) -> None:
    assert next_due(rule, local(after), ZONE) == local(expected).astimezone(UTC)


def test_the_local_day_counts_not_the_utc_one() -> None:
    # 05:00 local on 27/11 is still 26/11 in UTC; the next 20:00 is the local 27th's.
    assert next_due(DAILY, local("2026-11-27T05:00"), ZONE) == local("2026-11-27T20:00")


def test_last_due_is_the_latest_at_or_before() -> None:
    assert last_due(DAILY, local("2026-11-26T20:00"), ZONE) == local("2026-11-26T20:00")
    assert last_due(WEEKLY, local("2026-11-26T10:00"), ZONE) == local("2026-11-20T17:30")


def test_a_period_runs_from_the_previous_due_moment_to_its_own() -> None:
    window = window_of(DAILY, local("2026-11-26T21:00"), ZONE)
    assert window == Window(
        local("2026-11-26T20:00"), local("2026-11-27T20:00"), date(2026, 11, 27)
    )
    assert window.holds(local("2026-11-26T20:00"))
    assert not window.holds(local("2026-11-27T20:00"))
    # A report submitted at the due moment itself counts for the next period.
    at_due = window_of(DAILY, local("2026-11-27T20:00"), ZONE)
    assert at_due.due_day == date(2026, 11, 28)


def test_a_period_due_on_a_holiday_is_skipped() -> None:
    window = window_of(DAILY, local("2026-09-01T10:00"), ZONE)
    assert skipped(window, {date(2026, 9, 1), date(2026, 9, 2)})
    assert not skipped(window_of(DAILY, local("2026-09-03T10:00"), ZONE), {date(2026, 9, 2)})


def test_reminders_come_before_the_due_moment_within_the_period() -> None:
    rule = Rule(
        1, "u", ReportKind.ANY, Period.WEEKLY, time(17, 0), weekday=0,
        remind=(timedelta(hours=24), timedelta(hours=2), timedelta(minutes=30)),
    )  # fmt: skip
    window = window_of(rule, local("2026-11-26T10:00"), ZONE)  # due Mon 30/11 17:00
    assert reminder_moments(rule, window) == [
        local("2026-11-29T17:00"),
        local("2026-11-30T15:00"),
        local("2026-11-30T16:30"),
    ]


def test_which_reports_meet_a_rule() -> None:
    assert DAILY.counts("nothing") and DAILY.counts("incident") and DAILY.counts("activity")
    assert WEEKLY.counts("activity") and not WEEKLY.counts("incident")
    assert not WEEKLY.counts("nothing")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("20:00", time(20, 0)), ("7:05", time(7, 5)), ("00:00", time(0, 0)), ("23:59", time(23, 59)),
     ("24:00", None), ("7h", None), ("", None), ("20:60", None), ("2000", None)],
)  # fmt: skip
def test_due_times_are_hh_mm(text: str, expected: time | None) -> None:
    assert parse_due(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("mon", 0), ("Sun", 6), ("friday", 4), ("t2", 0), ("CN", 6), ("fri", 4),
     ("moon", None), ("", None), ("8", None)],
)  # fmt: skip
def test_weekdays_by_name(text: str, expected: int | None) -> None:
    assert parse_weekday(text) == expected


def test_reminder_offsets_are_read_sorted_and_kept_within_the_period() -> None:
    assert parse_remind("2h,24h,30m", Period.WEEKLY) == (
        timedelta(hours=24), timedelta(hours=2), timedelta(minutes=30),
    )  # fmt: skip
    assert parse_remind("", Period.DAILY) == ()
    assert parse_remind("24h", Period.DAILY) == (timedelta(hours=24),)
    for bad in ("25h", "2x", "0m", "2h,2h", "h", "-2h", "2h;30m"):
        assert parse_remind(bad, Period.DAILY) is None, bad
    assert parse_remind("8d", Period.WEEKLY) is None
    assert [
        format_offset(o) for o in (timedelta(days=2), timedelta(hours=3), timedelta(minutes=45))
    ] == ["2d", "3h", "45m"]
