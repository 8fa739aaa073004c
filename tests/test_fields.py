"""What typed answers mean (domain/fields.py): parsers and interpret(), against a fixed clock."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain import fields, values
from domain.catalogue import default_catalogue
from domain.clock import Moment
from domain.fields import (
    Accept,
    Answer,
    Button,
    Keep,
    Location,
    Outcome,
    PhotoAnswer,
    Reject,
    Switch,
    Text,
    Unsupported,
    interpret,
    parse_count,
    parse_date,
    parse_datetime,
    parse_duration,
    parse_time,
    telegram_length,
)
from domain.forms import ACTIVITY, FORMS, INCIDENT, MAX_PHOTOS, Field, FieldKind, Form
from presentation.i18n import Translator

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
# 03:00 UTC is 10:00 on Thursday 26/11/2026 in Việt Nam (UTC+7, no daylight saving).
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
CLOCK = Moment(NOW, ZONE)
TODAY = date(2026, 11, 26)

INCIDENT_CODES = tuple(item.code for item in default_catalogue("incident"))
ACTIVITY_CODES = tuple(item.code for item in default_catalogue("activity"))

EVERY_FIELD = [(form, spec) for form in FORMS.values() for spec in form.fields]
EVERY_FIELD_IDS = [f"{form.kind}.{spec.key}" for form, spec in EVERY_FIELD]


def field(form: Form, key: str) -> Field:
    spec = form.field(key)
    assert spec is not None, f"{form.kind} has no field {key!r}"
    return spec


def choices_for(spec: Field) -> tuple[str, ...]:
    """The button values handlers/reports.py offers for a field."""
    if spec.catalogue == "incident":
        return INCIDENT_CODES
    if spec.catalogue == "activity":
        return ACTIVITY_CODES
    return tuple(option.value for option in spec.options)


def judge(
    form: Form,
    key: str,
    answer: Answer,
    *,
    mode: str = "",
    current: Any = None,
    clock: Moment = CLOCK,
) -> Outcome:
    """Judge an answer against a draft's stored value; the outcome in the stored form too.

    Values travel typed (domain/values.py); comparing their stored JSON form keeps every
    expectation below exactly what a draft holds.
    """
    spec = field(form, key)
    outcome = interpret(spec, mode, values.decode(spec, current), answer, clock, choices_for(spec))
    if isinstance(outcome, Accept):
        return accepted(values.encode(spec, outcome.value))
    if isinstance(outcome, Keep):
        return kept(values.encode(spec, outcome.value), outcome.notice, outcome.values)
    return outcome


def accepted(stored: Any) -> Accept:
    """An Accept holding a value in its stored (JSON) form, as judge() returns it."""
    return Accept(stored)


def kept(stored: Any, notice: str, values: Mapping[str, object] | None = None) -> Keep:
    """A Keep holding a value in its stored (JSON) form, as judge() returns it."""
    return Keep(stored, notice, values or {})


def local(text: str) -> str:
    """An ISO timestamp in Việt Nam time, as interpret() stores a typed moment."""
    return datetime.fromisoformat(text).replace(tzinfo=ZONE).isoformat()


def photos(count: int, prefix: str = "p") -> list[list[str]]:
    return [[f"{prefix}-file-{i}", f"{prefix}-unique-{i}", "photo"] for i in range(count)]


# --- parse_time ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14:30", time(14, 30)),
        ("14h30", time(14, 30)),
        ("14H30", time(14, 30)),
        ("14g", time(14, 0)),
        ("14g30", time(14, 30)),
        ("8h", time(8, 0)),
        ("7h05", time(7, 5)),
        ("14 giờ 30", time(14, 30)),
        ("14 giờ 30 phút", time(14, 30)),
        ("14 giờ", time(14, 0)),
        ("9.15", time(9, 15)),
        ("14", time(14, 0)),
        ("0:00", time(0, 0)),
        ("23:59", time(23, 59)),
        ("  21h15  ", time(21, 15)),
    ],
)
def test_parse_time_reads_vietnamese_forms(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    "text",
    ["25:00", "24:00", "14:60", "99", "abc", "", "   ", "14h5", "14:30:00", "-1", "h30", "1430"],
)
def test_parse_time_rejects_impossible_or_garbled_times(text: str) -> None:
    assert parse_time(text) is None


# --- parse_date ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24/11", date(2026, 11, 24)),
        ("24/11/2026", date(2026, 11, 24)),
        ("24-11-26", date(2026, 11, 24)),
        ("2026-11-24", date(2026, 11, 24)),
        ("24.11.2026", date(2026, 11, 24)),
        (" 24 / 11 ", date(2026, 11, 24)),
        ("1/1", date(2026, 1, 1)),
        ("26/11", TODAY),
        ("29/02/2028", date(2028, 2, 29)),
        ("30/12/2025", date(2025, 12, 30)),
    ],
)
def test_parse_date_reads_day_month_and_iso_forms(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    "text",
    ["31/02", "29/02/2026", "31/04", "32/1", "0/1", "1/13", "2026-13-01", "2026-02-30", "abc", ""],
)
def test_parse_date_rejects_days_that_do_not_exist(text: str) -> None:
    assert parse_date(text, TODAY) is None


def test_parse_date_without_year_typed_in_january_means_last_december() -> None:
    early_january = date(2027, 1, 5)
    assert parse_date("30/12", early_january) == date(2026, 12, 30)
    assert parse_date("5/1", early_january) == date(2027, 1, 5)


def test_parse_date_keeps_an_explicit_year_even_in_the_future() -> None:
    assert parse_date("30/12/2027", date(2027, 1, 5)) == date(2027, 12, 30)


def test_parse_date_leaves_a_day_just_ahead_in_the_future_for_the_caller_to_refuse() -> None:
    # A slip of the thumb ("27/11" typed on 26/11) must not silently become last year.
    assert parse_date("27/11", TODAY) == date(2026, 11, 27)


# --- parse_datetime ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24/11 21:15", (date(2026, 11, 24), time(21, 15))),
        ("21:15 24/11", (date(2026, 11, 24), time(21, 15))),
        ("21h15 24/11", (date(2026, 11, 24), time(21, 15))),
        ("24/11, 21:15", (date(2026, 11, 24), time(21, 15))),
        ("24/11/2026 8h", (date(2026, 11, 24), time(8, 0))),
        ("2026-11-24 08:05", (date(2026, 11, 24), time(8, 5))),
        ("24/11 14 giờ 30", (date(2026, 11, 24), time(14, 30))),
        ("21 giờ 15 24/11", (date(2026, 11, 24), time(21, 15))),
    ],
)
def test_parse_datetime_reads_date_and_time_in_either_order(
    text: str, expected: tuple[date, time]
) -> None:
    assert parse_datetime(text, TODAY) == expected


@pytest.mark.parametrize(
    "text", ["24/11", "21:15", "abc", "", "24/11 25:00", "31/02 10:00", "24/11 21:15 extra"]
)
def test_parse_datetime_needs_both_a_valid_date_and_a_valid_time(text: str) -> None:
    assert parse_datetime(text, TODAY) is None


# --- parse_duration ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minutes", "span"),
    [
        ("2", 120, None),  # a small bare number is hours
        ("24", 24 * 60, None),
        ("25", 25, None),  # a bigger bare number is minutes
        ("90", 90, None),
        ("1h30", 90, None),
        ("1h", 60, None),
        ("0h30", 30, None),
        ("1,5h", 90, None),
        ("1.5h", 90, None),
        ("90p", 90, None),
        ("90m", 90, None),
        ("90 phút", 90, None),
        ("30 min", 30, None),
        ("2 tiếng", 120, None),
        ("2 giờ", 120, None),
        ("2 hours", 120, None),
        ("1 giờ 30 phút", 90, None),
        ("1 tiếng 30 phút", 90, None),
        ("24h", 24 * 60, None),
        ("19:00-21:30", 150, "19:00–21:30"),
        ("19:00 - 21:30", 150, "19:00–21:30"),
        ("19h-21h30", 150, "19:00–21:30"),
        ("19:00 đến 21:30", 150, "19:00–21:30"),
        ("22:00-02:00", 240, "22:00–02:00"),  # crosses midnight
    ],
)
def test_parse_duration_reads_hours_minutes_and_spans(
    text: str, minutes: int, span: str | None
) -> None:
    assert parse_duration(text) == (minutes, span)


@pytest.mark.parametrize(
    "text",
    ["0", "0h", "0p", "25h", "24h01", "1500", "19:00-19:00", "abc", "", "h", "-5", "1,5"],
)
def test_parse_duration_rejects_zero_over_a_day_and_garble(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize("text", ["1g30", "1giờ30"])
def test_parse_duration_reads_hour_marker_g_glued_to_minutes(text: str) -> None:
    assert parse_duration(text) == (90, None)


# --- parse_count and telegram_length -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", 1), ("5", 5), ("5 người", 5), ("12 people", 12), (" 12 ", 12), ("999", 999)],
)
def test_parse_count_reads_a_number_of_people(text: str, expected: int) -> None:
    assert parse_count(text) == expected


@pytest.mark.parametrize("text", ["0", "1000", "-1", "5.5", "abc", "năm", ""])
def test_parse_count_rejects_out_of_range_and_words(text: str) -> None:
    assert parse_count(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("abc", 3),
        ("Tiếng Việt", 10),  # precomposed letters are one unit each
        ("e\u0302\u0301", 3),  # decomposed: a letter and two combining marks
        ("😀", 2),  # outside the BMP: a surrogate pair
        ("a😀b", 4),
        ("👍🏽", 4),  # emoji with a skin-tone modifier
    ],
)
def test_telegram_length_counts_utf16_code_units(text: str, expected: int) -> None:
    assert telegram_length(text) == expected


# --- Moment -------------------------------------------------------------------------


def test_clock_today_is_the_local_date_not_the_utc_one() -> None:
    late_utc_evening = Moment(datetime(2026, 11, 25, 20, 0, tzinfo=UTC), ZONE)
    assert late_utc_evening.today == date(2026, 11, 26)
    moment = late_utc_evening.local(date(2026, 11, 26), time(2, 0))
    assert moment.utcoffset() == timedelta(hours=7)
    assert moment.astimezone(UTC) == datetime(2026, 11, 25, 19, 0, tzinfo=UTC)


# --- interpret(): accepted answers ---------------------------------------------------

ACCEPTED: list[tuple[Form, str, str, Answer, Any, Any]] = [
    # form, field, mode, answer, current value, stored value
    (INCIDENT, "cat", "", Button("THEFT"), None, "THEFT"),
    (INCIDENT, "cat", "", Button("ASSAULT"), None, "ASSAULT"),
    (INCIDENT, "when", "", Button(fields.NOW), None, NOW.isoformat()),
    (INCIDENT, "when", "time", Text("9:30"), None, local("2026-11-26T09:30")),
    (INCIDENT, "when", "time", Text("9h30"), None, local("2026-11-26T09:30")),
    (INCIDENT, "when", "", Text("8 giờ 15"), None, local("2026-11-26T08:15")),
    (INCIDENT, "when", "time", Text("10:05"), None, local("2026-11-26T10:05")),  # clock slack
    (INCIDENT, "when", "time", Text("24/11 21:15"), None, local("2026-11-24T21:15")),
    (INCIDENT, "when", "datetime", Text("24/11 21:15"), None, local("2026-11-24T21:15")),
    (INCIDENT, "when", "datetime", Text("21h15 24/11/2026"), None, local("2026-11-24T21:15")),
    (INCIDENT, "when", "datetime", Text("25/11/2025 10:00"), None, local("2025-11-25T10:00")),
    (INCIDENT, "place", "", Text("  Số 5, ngõ 3  "), None, {"address": "Số 5, ngõ 3"}),
    (INCIDENT, "place", "", Text("đ" * 300), None, {"address": "đ" * 300}),
    (INCIDENT, "place", "", Button(fields.NONE), None, {"none": True}),
    (
        INCIDENT,
        "place",
        "",
        Location(18.6734, 105.6923, "Chợ Vinh"),
        None,
        {"lat": 18.6734, "lon": 105.6923, "title": "Chợ Vinh"},
    ),
    (
        INCIDENT,
        "place",
        "",
        Location(-90.0, 180.0),
        None,
        {"lat": -90.0, "lon": 180.0, "title": None},
    ),
    (
        INCIDENT,
        "desc",
        "",
        Text(" Mất xe máy trước cổng chợ \n"),
        None,
        "Mất xe máy trước cổng chợ",
    ),
    (INCIDENT, "desc", "", Text("x" * 1000), None, "x" * 1000),
    (INCIDENT, "desc", "", Text("😀" * 500), None, "😀" * 500),
    (
        INCIDENT,
        "people",
        "",
        Text("Hai thanh niên, xe 37A-123.45"),
        None,
        "Hai thanh niên, xe 37A-123.45",
    ),
    (INCIDENT, "people", "", Button(fields.SKIP), None, None),
    (INCIDENT, "photos", "", Button(fields.SKIP), None, None),
    (INCIDENT, "photos", "", Button(fields.DONE), photos(2), photos(2)),
    (INCIDENT, "photos", "", Button(fields.DONE), None, None),
    (INCIDENT, "photos", "", Button(fields.DONE), [], None),
    (INCIDENT, "action", "", Button("on_spot"), None, "on_spot"),
    (INCIDENT, "action", "", Button("police"), None, "police"),
    (INCIDENT, "action", "", Button("follow_up"), None, "follow_up"),
    (INCIDENT, "urgent", "", Button("yes"), None, True),
    (INCIDENT, "urgent", "", Button("no"), None, False),
    (ACTIVITY, "type", "", Button("PATROL"), None, "PATROL"),
    (ACTIVITY, "day", "", Button(fields.TODAY), None, "2026-11-26"),
    (ACTIVITY, "day", "", Button(fields.YESTERDAY), None, "2026-11-25"),
    (ACTIVITY, "day", "date", Text("24/11"), None, "2026-11-24"),
    (ACTIVITY, "day", "date", Text("2026-11-24"), None, "2026-11-24"),
    (ACTIVITY, "day", "date", Text("24-11-26"), None, "2026-11-24"),
    (ACTIVITY, "day", "", Text("26/11"), None, "2026-11-26"),
    (ACTIVITY, "day", "date", Text("25/11/2025"), None, "2025-11-25"),  # exactly 366 days
    (ACTIVITY, "span", "", Button("60"), None, {"minutes": 60, "span": None}),
    (ACTIVITY, "span", "", Button("240"), None, {"minutes": 240, "span": None}),
    (ACTIVITY, "span", "", Text("2"), None, {"minutes": 120, "span": None}),
    (ACTIVITY, "span", "", Text("1h30"), None, {"minutes": 90, "span": None}),
    (ACTIVITY, "span", "", Text("90 phút"), None, {"minutes": 90, "span": None}),
    (ACTIVITY, "span", "", Text("19:00-21:30"), None, {"minutes": 150, "span": "19:00–21:30"}),
    (ACTIVITY, "span", "", Text("22:00-02:00"), None, {"minutes": 240, "span": "22:00–02:00"}),
    (ACTIVITY, "count", "", Button("10"), None, 10),
    (ACTIVITY, "count", "", Button("1"), None, 1),
    (ACTIVITY, "count", "", Text("12 người"), None, 12),
    (ACTIVITY, "count", "", Text("999"), None, 999),
    (ACTIVITY, "reached", "", Text("40 người"), None, 40),
    (ACTIVITY, "reached", "", Button("10"), None, 10),
    (ACTIVITY, "place", "", Button(fields.SKIP), None, None),
    (ACTIVITY, "place", "", Button(fields.NONE), None, {"none": True}),
    (ACTIVITY, "place", "", Text("Nhà văn hoá khối 3"), None, {"address": "Nhà văn hoá khối 3"}),
    (
        ACTIVITY,
        "place",
        "",
        Location(18.67, 105.69),
        None,
        {"lat": 18.67, "lon": 105.69, "title": None},
    ),
    (
        ACTIVITY,
        "summary",
        "",
        Text("Tuần tra 2 vòng, không có gì bất thường."),
        None,
        "Tuần tra 2 vòng, không có gì bất thường.",
    ),
    (ACTIVITY, "photos", "", Button(fields.SKIP), None, None),
    (ACTIVITY, "photos", "", Button(fields.DONE), photos(1), photos(1)),
]


@pytest.mark.parametrize(
    ("form", "key", "mode", "answer", "current", "stored"),
    ACCEPTED,
    ids=[
        f"{form.kind}.{key}:{mode or '-'}:{answer!r:.40}"
        for form, key, mode, answer, *_ in ACCEPTED
    ],
)
def test_interpret_accepts_a_valid_answer_with_the_right_value(
    form: Form, key: str, mode: str, answer: Answer, current: Any, stored: Any
) -> None:
    assert judge(form, key, answer, mode=mode, current=current) == accepted(stored)


def test_every_field_of_every_form_has_an_accepted_answer_above() -> None:
    covered = {(form.kind, key) for form, key, *_ in ACCEPTED}
    assert covered == {(form.kind, spec.key) for form, spec in EVERY_FIELD}


def test_now_button_stores_the_current_instant() -> None:
    outcome = judge(INCIDENT, "when", Button(fields.NOW))
    assert isinstance(outcome, Accept)
    assert datetime.fromisoformat(str(outcome.value)) == NOW


def test_typed_time_is_read_on_the_local_day_when_utc_is_still_yesterday() -> None:
    # 20:00 UTC on 25/11 is 03:00 on 26/11 in Việt Nam; "02:00" means an hour ago.
    clock = Moment(datetime(2026, 11, 25, 20, 0, tzinfo=UTC), ZONE)
    outcome = judge(INCIDENT, "when", Text("02:00"), mode="time", clock=clock)
    assert outcome == Accept(local("2026-11-26T02:00"))
    assert judge(ACTIVITY, "day", Button(fields.TODAY), clock=clock) == Accept("2026-11-26")


@pytest.mark.parametrize(
    ("form", "key", "button", "mode"),
    [
        (INCIDENT, "when", fields.TODAY, "time"),
        (INCIDENT, "when", fields.OTHER, "datetime"),
        (ACTIVITY, "day", fields.OTHER, "date"),
    ],
)
def test_mode_buttons_ask_the_same_field_again_in_another_mode(
    form: Form, key: str, button: str, mode: str
) -> None:
    assert judge(form, key, Button(button)) == Switch(mode)


# --- interpret(): rejected answers ---------------------------------------------------

# The examples a refusal of the "when" answer gives at NOW (10:00 on 26/11): an hour ago.
EXAMPLE: Mapping[str, object] = {"now": "10:00", "example": "26/11 09:00"}
FUTURE_2300: Mapping[str, object] = {"when": "26/11 23:00", **EXAMPLE}
FUTURE_0112: Mapping[str, object] = {"when": "01/12 08:00", **EXAMPLE}
NEED_DATE: Mapping[str, object] = {"example": "25/11 21:15"}

REJECTED: list[tuple[Form, str, str, Answer, Any, str, Mapping[str, object]]] = [
    # form, field, mode, answer, current value, error id, error values
    (INCIDENT, "cat", "", Button("NOT_A_CODE"), None, "error.use_buttons", {}),
    (INCIDENT, "cat", "", Button("theft"), None, "error.use_buttons", {}),
    (INCIDENT, "cat", "", Text("THEFT"), None, "error.use_buttons", {}),
    # Issue 9: a time still ahead today is offered as yesterday's (tests/test_when_phrases.py);
    # "hôm qua" and "24/11" alone now ask for the time; every refusal carries an example.
    (INCIDENT, "when", "", Text("26/11/2026 23:00"), None, "when.error.future", FUTURE_2300),
    (INCIDENT, "when", "datetime", Text("1/12/2026 08:00"), None, "when.error.future", FUTURE_0112),
    (INCIDENT, "when", "datetime", Text("20/11/2025 10:00"), None, "when.error.too_old", EXAMPLE),
    (INCIDENT, "when", "datetime", Text("25/11/2025 9:59"), None, "when.error.too_old", EXAMPLE),
    (INCIDENT, "when", "datetime", Text("1/1/2020 8h"), None, "when.error.too_old", EXAMPLE),
    (INCIDENT, "when", "time", Text("abc"), None, "when.error.bad_time", EXAMPLE),
    (INCIDENT, "when", "time", Text("25:00"), None, "when.error.bad_time", EXAMPLE),
    (INCIDENT, "when", "datetime", Text("abc"), None, "when.error.bad_datetime", EXAMPLE),
    (INCIDENT, "when", "datetime", Text("21:15"), None, "when.error.need_date", NEED_DATE),
    (INCIDENT, "when", "time", Location(18.6, 105.6), None, "error.need_text", {}),
    (INCIDENT, "when", "", PhotoAnswer("f", "u"), None, "error.need_text", {}),
    (INCIDENT, "when", "", Button("tomorrow"), None, "error.use_buttons", {}),
    (INCIDENT, "place", "", Text("đ" * 301), None, "error.too_long", {"length": 301, "limit": 300}),
    (
        INCIDENT,
        "place",
        "",
        Text("😀" * 151),
        None,
        "error.too_long",
        {"length": 302, "limit": 300},
    ),
    (INCIDENT, "place", "", Text(""), None, "error.empty", {}),
    (INCIDENT, "place", "", Text(" \n\t "), None, "error.empty", {}),
    (INCIDENT, "place", "", PhotoAnswer("f", "u"), None, "error.need_place", {}),
    (INCIDENT, "place", "", Location(90.5, 105.0), None, "error.bad_location", {}),
    (INCIDENT, "place", "", Location(18.6, -180.5), None, "error.bad_location", {}),
    (INCIDENT, "place", "", Button("somewhere"), None, "error.use_buttons", {}),
    (
        INCIDENT,
        "desc",
        "",
        Text("x" * 1001),
        None,
        "error.too_long",
        {"length": 1001, "limit": 1000},
    ),
    (
        INCIDENT,
        "desc",
        "",
        Text("😀" * 501),
        None,
        "error.too_long",
        {"length": 1002, "limit": 1000},
    ),
    (INCIDENT, "desc", "", Text(""), None, "error.empty", {}),
    (INCIDENT, "desc", "", Text("   "), None, "error.empty", {}),
    (INCIDENT, "desc", "", PhotoAnswer("f", "u"), None, "error.need_text", {}),
    (INCIDENT, "desc", "", Location(18.6, 105.6), None, "error.need_text", {}),
    (INCIDENT, "desc", "", Button("anything"), None, "error.need_text", {}),
    (
        INCIDENT,
        "people",
        "",
        Text("y" * 301),
        None,
        "error.too_long",
        {"length": 301, "limit": 300},
    ),
    (INCIDENT, "people", "", Text("  "), None, "error.empty", {}),
    (INCIDENT, "photos", "", Text("ảnh đây"), None, "error.need_photo", {}),
    (INCIDENT, "photos", "", Location(18.6, 105.6), None, "error.need_photo", {}),
    (INCIDENT, "photos", "", Button("more"), None, "error.use_buttons", {}),
    (
        INCIDENT,
        "photos",
        "",
        PhotoAnswer("new", "new-u"),
        photos(MAX_PHOTOS),
        "error.too_many_photos",
        {"limit": MAX_PHOTOS},
    ),
    (INCIDENT, "action", "", Button("ignored"), None, "error.use_buttons", {}),
    (INCIDENT, "action", "", Text("police"), None, "error.use_buttons", {}),
    (INCIDENT, "urgent", "", Button("maybe"), None, "error.use_buttons", {}),
    (INCIDENT, "urgent", "", Text("yes"), None, "error.use_buttons", {}),
    (ACTIVITY, "type", "", Button("THEFT"), None, "error.use_buttons", {}),
    (ACTIVITY, "day", "date", Text("31/02"), None, "error.bad_date", {}),
    (ACTIVITY, "day", "date", Text("ngày mốt"), None, "error.bad_date", {}),
    (ACTIVITY, "day", "date", Text("27/11/2026"), None, "error.future", {}),
    (ACTIVITY, "day", "date", Text("27/11"), None, "error.future", {}),
    (ACTIVITY, "day", "date", Text("24/11/2025"), None, "error.too_old", {}),
    (ACTIVITY, "day", "", Button("tomorrow"), None, "error.use_buttons", {}),
    (ACTIVITY, "day", "date", Location(18.6, 105.6), None, "error.need_text", {}),
    (ACTIVITY, "span", "", Text("0"), None, "error.bad_duration", {}),
    (ACTIVITY, "span", "", Text("25h"), None, "error.bad_duration", {}),
    (ACTIVITY, "span", "", Text("1500"), None, "error.bad_duration", {}),
    (ACTIVITY, "span", "", Text("một lúc"), None, "error.bad_duration", {}),
    (ACTIVITY, "span", "", Button("45"), None, "error.use_buttons", {}),
    (ACTIVITY, "span", "", PhotoAnswer("f", "u"), None, "error.need_text", {}),
    (ACTIVITY, "count", "", Text("0"), None, "error.bad_count", {}),
    (ACTIVITY, "count", "", Text("1000"), None, "error.bad_count", {}),
    (ACTIVITY, "count", "", Text("nhiều"), None, "error.bad_count", {}),
    (ACTIVITY, "count", "", Button("7"), None, "error.use_buttons", {}),
    (ACTIVITY, "count", "", Location(18.6, 105.6), None, "error.need_text", {}),
    (ACTIVITY, "place", "", Text("z" * 301), None, "error.too_long", {"length": 301, "limit": 300}),
    (
        ACTIVITY,
        "summary",
        "",
        Text("s" * 1001),
        None,
        "error.too_long",
        {"length": 1001, "limit": 1000},
    ),
    (ACTIVITY, "summary", "", Text(""), None, "error.empty", {}),
    (ACTIVITY, "summary", "", PhotoAnswer("f", "u"), None, "error.need_text", {}),
    (ACTIVITY, "photos", "", Text("xong"), None, "error.need_photo", {}),
]


@pytest.mark.parametrize(
    ("form", "key", "mode", "answer", "current", "error", "values"),
    REJECTED,
    ids=[
        f"{form.kind}.{key}:{mode or '-'}:{error}:{answer!r:.30}"
        for form, key, mode, answer, _, error, _ in REJECTED
    ],
)
def test_interpret_rejects_a_bad_answer_with_the_right_message(
    form: Form,
    key: str,
    mode: str,
    answer: Answer,
    current: Any,
    error: str,
    values: Mapping[str, object],
) -> None:
    assert judge(form, key, answer, mode=mode, current=current) == Reject(error, values)


@pytest.mark.parametrize(("form", "spec"), EVERY_FIELD, ids=EVERY_FIELD_IDS)
def test_skip_is_refused_on_required_fields_and_empty_on_optional_ones(
    form: Form, spec: Field
) -> None:
    expected = Accept(None) if spec.optional else Reject("error.required")
    assert judge(form, spec.key, Button(fields.SKIP)) == expected


def test_only_the_intended_fields_are_optional() -> None:
    optional = {(form.kind, spec.key) for form, spec in EVERY_FIELD if spec.optional}
    assert optional == {
        ("incident", "people"),
        ("incident", "photos"),
        ("activity", "place"),
        ("activity", "photos"),
    }


@pytest.mark.parametrize(("form", "spec"), EVERY_FIELD, ids=EVERY_FIELD_IDS)
@pytest.mark.parametrize("mode", ["", "time", "datetime", "date"])
def test_a_sticker_or_voice_note_is_unsupported_everywhere(
    form: Form, spec: Field, mode: str
) -> None:
    assert judge(form, spec.key, Unsupported(), mode=mode) == Reject("error.unsupported")


def test_choice_without_offered_choices_accepts_nothing() -> None:
    spec = field(INCIDENT, "cat")
    assert interpret(spec, "", None, Button("THEFT"), CLOCK, ()) == Reject("error.use_buttons")


# --- interpret(): photos -------------------------------------------------------------


def test_photos_are_collected_one_by_one_and_finished_with_done() -> None:
    current: Any = None
    for number in range(1, 4):
        outcome = judge(
            INCIDENT, "photos", PhotoAnswer(f"f{number}", f"u{number}"), current=current
        )
        assert outcome == kept(
            [[f"f{i}", f"u{i}", "photo"] for i in range(1, number + 1)],
            "photos.received",
            {"count": number, "limit": MAX_PHOTOS},
        )
        assert isinstance(outcome, Keep)
        current = outcome.value
    assert judge(INCIDENT, "photos", Button(fields.DONE), current=current) == accepted(
        [["f1", "u1", "photo"], ["f2", "u2", "photo"], ["f3", "u3", "photo"]]
    )


def test_the_same_photo_sent_again_is_noticed_by_its_unique_id() -> None:
    # Drafts saved before documents were told apart hold [file_id, unique_id] only.
    current = [["f1", "u1"], ["f2", "u2"]]
    # Telegram gives a resent photo a new file_id but the same file_unique_id.
    outcome = judge(INCIDENT, "photos", PhotoAnswer("f1-again", "u1"), current=current)
    assert outcome == kept(
        [["f1", "u1", "photo"], ["f2", "u2", "photo"]], "photos.duplicate", {"count": 2}
    )


def test_photo_answer_never_mutates_the_stored_list() -> None:
    current = [["f1", "u1"]]
    outcome = judge(INCIDENT, "photos", PhotoAnswer("f2", "u2"), current=current)
    assert isinstance(outcome, Keep)
    assert outcome.value == [["f1", "u1", "photo"], ["f2", "u2", "photo"]]
    assert current == [["f1", "u1"]]


def test_the_tenth_photo_is_taken_and_the_eleventh_refused() -> None:
    nine = photos(MAX_PHOTOS - 1)
    tenth = judge(ACTIVITY, "photos", PhotoAnswer("f10", "u10"), current=nine)
    assert tenth == kept(
        [*nine, ["f10", "u10", "photo"]],
        "photos.received",
        {"count": MAX_PHOTOS, "limit": MAX_PHOTOS},
    )
    assert isinstance(tenth, Keep)
    eleventh = judge(ACTIVITY, "photos", PhotoAnswer("f11", "u11"), current=tenth.value)
    assert eleventh == Reject("error.too_many_photos", {"limit": MAX_PHOTOS})


def test_an_image_sent_as_a_file_is_kept_as_a_document() -> None:
    outcome = judge(INCIDENT, "photos", PhotoAnswer("d1", "ud1", "document"), current=None)
    assert isinstance(outcome, Keep)
    assert outcome.value == [["d1", "ud1", "document"]]


def test_skip_after_photos_were_sent_keeps_them() -> None:
    """An older prompt's Skip, tapped after photos arrived, must not drop them."""
    assert judge(INCIDENT, "photos", Button(fields.SKIP), current=photos(2)) == accepted(photos(2))


def test_clear_empties_the_photos_but_stays_on_the_step() -> None:
    assert judge(INCIDENT, "photos", Button(fields.CLEAR), current=photos(4)) == kept(
        [], "photos.cleared"
    )


# --- what people type with one thumb ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9h sáng", time(9, 0)),
        ("9 giờ tối", time(21, 0)),
        ("9 gio toi", time(21, 0)),
        ("2 giờ chiều", time(14, 0)),
        ("1 giờ trưa", time(13, 0)),
        ("12 giờ trưa", time(12, 0)),
        ("11 giờ đêm", time(23, 0)),
        ("2 giờ đêm", time(2, 0)),
        ("12 giờ sáng", time(0, 0)),
        ("9pm", time(21, 0)),
        ("lúc 21h", time(21, 0)),
        ("khoảng 8h15", time(8, 15)),
        ("14 GIỜ 30", time(14, 30)),
    ],
)
def test_time_of_day_words_and_missing_accents(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hôm qua 21h", (date(2026, 11, 25), time(21, 0))),
        ("hom qua 9h toi", (date(2026, 11, 25), time(21, 0))),
        ("hôm nay 7h", (date(2026, 11, 26), time(7, 0))),
        ("24/11 lúc 21h", (date(2026, 11, 24), time(21, 0))),
        ("21h15 ngày 24/11", (date(2026, 11, 24), time(21, 15))),
    ],
)
def test_datetime_with_words(text: str, expected: tuple[date, time]) -> None:
    assert parse_datetime(text, date(2026, 11, 26)) == expected


@pytest.mark.parametrize(
    ("text", "minutes", "span"),
    [
        ("1 tiếng rưỡi", 90, None),
        ("1 tieng ruoi", 90, None),
        ("nửa tiếng", 30, None),
        ("30 phut", 30, None),
        ("2 tieng", 120, None),
        ("từ 19h đến 21h", 120, "19:00–21:00"),
        ("7 giờ tối - 9 giờ tối", 120, "19:00–21:00"),
    ],
)
def test_durations_with_words_and_missing_accents(
    text: str, minutes: int, span: str | None
) -> None:
    assert parse_duration(text) == (minutes, span)


def test_counts_without_accents() -> None:
    assert parse_count("5 nguoi") == 5
    assert parse_count("5 người") == 5


# --- long answers: refused at once, and every parser linear in what it is given --------

TOO_LONG_FOR_KIND = {
    FieldKind.WHEN: "error.answer_too_long_for_field.when",
    FieldKind.DAY: "error.answer_too_long_for_field.day",
    FieldKind.DURATION: "error.answer_too_long_for_field.duration",
    FieldKind.COUNT: "error.answer_too_long_for_field.count",
}
# The outside tester's answer to "when": 4096 characters, 2048 words of "1".
ONES = "1 " * 2048


@dataclass
class Calls:
    count: int = 0
    chars: int = 0


def count_calls(monkeypatch: pytest.MonkeyPatch, name: str) -> Calls:
    """Wrap fields.<name> (which takes text first) to count its calls and the text it reads."""
    calls = Calls()
    inner: Callable[..., Any] = getattr(fields, name)

    def counted(text: str, *args: Any) -> Any:
        calls.count += 1
        calls.chars += len(text)
        return inner(text, *args)

    monkeypatch.setattr(fields, name, counted)
    return calls


def expected_for_a_long_typed_answer(spec: Field, text: str) -> Reject:
    if spec.kind in TOO_LONG_FOR_KIND:
        return Reject(TOO_LONG_FOR_KIND[spec.kind], {"limit": fields.MAX_TYPED_ANSWER})
    if spec.kind in (FieldKind.TEXT, FieldKind.PLACE):
        length = telegram_length(text.strip())
        return Reject("error.too_long", {"length": length, "limit": spec.max_length})
    if spec.kind is FieldKind.PHOTOS:
        return Reject("error.need_photo")
    return Reject("error.use_buttons")


def test_every_field_kind_is_covered_by_a_cap() -> None:
    kinds = {spec.kind for _, spec in EVERY_FIELD}
    capped = set(TOO_LONG_FOR_KIND)
    limited = {spec.kind for _, spec in EVERY_FIELD if spec.max_length}
    buttons_or_photos = {FieldKind.CHOICE, FieldKind.YESNO, FieldKind.PHOTOS}
    assert kinds == capped | limited | buttons_or_photos
    assert limited == {FieldKind.TEXT, FieldKind.PLACE}


@pytest.mark.parametrize(("form", "spec"), EVERY_FIELD, ids=EVERY_FIELD_IDS)
@pytest.mark.parametrize("mode", ["", "time", "datetime", "date"])
def test_a_4096_character_answer_is_refused_before_anything_is_parsed(
    monkeypatch: pytest.MonkeyPatch, form: Form, spec: Field, mode: str
) -> None:
    normalised = count_calls(monkeypatch, "_normalise")
    outcome = judge(form, spec.key, Text(ONES), mode=mode)
    assert outcome == expected_for_a_long_typed_answer(spec, ONES)
    assert normalised.count == 0


@pytest.mark.parametrize(
    ("form", "key", "mode", "fits", "value"),
    [
        (INCIDENT, "when", "time", "9:30", local("2026-11-26T09:30")),
        (INCIDENT, "when", "datetime", "24/11 21:15", local("2026-11-24T21:15")),
        (ACTIVITY, "day", "date", "24/11", "2026-11-24"),
        (ACTIVITY, "span", "", "1h30", {"minutes": 90, "span": None}),
        (ACTIVITY, "count", "", "12", 12),
    ],
)
def test_the_cap_is_64_characters_as_telegram_counts_them(
    form: Form, key: str, mode: str, fits: str, value: Any
) -> None:
    spec = field(form, key)
    refused = Reject(TOO_LONG_FOR_KIND[spec.kind], {"limit": 64})
    assert judge(form, key, Text(fits.ljust(64)), mode=mode) == accepted(value)
    assert judge(form, key, Text(fits.ljust(65)), mode=mode) == refused
    # An emoji is two UTF-16 units: 35 characters, 65 as Telegram counts them.
    with_emoji = fits.ljust(5) + "😀" * 30
    assert len(with_emoji) <= 64 < telegram_length(with_emoji)
    assert judge(form, key, Text(with_emoji), mode=mode) == refused


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("kind", list(TOO_LONG_FOR_KIND))
def test_the_too_long_message_names_the_limit_and_gives_an_example(
    language: str, kind: FieldKind
) -> None:
    shown = Translator.load(language).plain(
        language, TOO_LONG_FOR_KIND[kind], limit=fields.MAX_TYPED_ANSWER
    )
    assert "64" in shown
    example = {
        FieldKind.WHEN: "24/11 21:15",
        FieldKind.DAY: "24/11",
        FieldKind.DURATION: "1h30",
        FieldKind.COUNT: "5",
    }[kind]
    assert example in shown
    if language == "vi":
        assert "bạn" not in shown.lower()


def repeated(unit: str, length: int) -> str:
    return (unit * (length // len(unit) + 1))[:length]


# Shapes of long input: many words, a real phrase over and over, no separators at all,
# separators only, digits (which Python turns into int slowly), a duration's hour mark.
SHAPES = {
    "ones": "1 ",
    "evening": "9h tối ",
    "letters": "a",
    "slashes": "/",
    "digits": "9",
    "dashes": "-",
    "datetime": "24/11 21:15 ",
    "hours": "1h",
}
PARSERS: dict[str, Callable[[str], object]] = {
    "time": parse_time,
    "date": lambda text: parse_date(text, TODAY),
    "datetime": lambda text: parse_datetime(text, TODAY),
    "duration": parse_duration,
    "count": parse_count,
}


@pytest.mark.parametrize("parser", list(PARSERS))
@pytest.mark.parametrize("shape", list(SHAPES))
def test_parsers_read_4096_characters_of_any_shape_as_nothing(shape: str, parser: str) -> None:
    assert PARSERS[parser](repeated(SHAPES[shape], 4096)) is None


def test_the_reported_when_answer_is_nothing_to_every_parser() -> None:
    assert len(ONES) == 4096
    assert [parse(ONES) for parse in PARSERS.values()] == [None] * len(PARSERS)


def test_parsers_still_find_a_short_answer_in_4096_characters_of_spaces() -> None:
    assert parse_time(" " * 4091 + "21:15") == time(21, 15)
    assert parse_date("24/11" + " " * 4091, TODAY) == date(2026, 11, 24)
    assert parse_datetime("24/11" + " " * 4086 + "21:15", TODAY) == (
        date(2026, 11, 24),
        time(21, 15),
    )
    assert parse_duration("19:00" + " " * 4083 + "- 21:30") == (150, "19:00–21:30")
    assert parse_count(" " * 4094 + "12") == 12


@pytest.mark.parametrize("parser", list(PARSERS))
@pytest.mark.parametrize("shape", list(SHAPES))
def test_parsers_normalise_each_answer_once(
    monkeypatch: pytest.MonkeyPatch, shape: str, parser: str
) -> None:
    normalised = count_calls(monkeypatch, "_normalise")
    for length in (4096, 40960):
        before = (normalised.count, normalised.chars)
        PARSERS[parser](repeated(SHAPES[shape], length))
        assert (normalised.count - before[0], normalised.chars - before[1]) == (1, length)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_datetime_tries_a_bounded_number_of_readings_whatever_the_length(
    monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    """The old parser re-read the whole answer at each of ~2000 split points."""
    times = count_calls(monkeypatch, "_read_time")
    dates = count_calls(monkeypatch, "_read_date")
    work: dict[int, tuple[int, int]] = {}
    for length in (4096, 40960):
        times.count = times.chars = dates.count = dates.chars = 0
        assert parse_datetime(repeated(SHAPES[shape], length), TODAY) is None
        work[length] = (times.count + dates.count, times.chars + dates.chars)
    # The same number of readings at n and 10n, each reading at most the whole answer.
    assert work[4096][0] == work[40960][0] <= 2 * 2 * fields.MAX_DATETIME_TOKENS
    for length, (readings, chars) in work.items():
        assert chars <= readings * length


def test_datetime_refuses_a_phrase_of_many_words_without_reading_it() -> None:
    long_phrase = " ".join(["hôm", "qua"] * 6 + ["9h"])
    assert len(long_phrase.split()) == fields.MAX_DATETIME_TOKENS + 1
    assert parse_datetime(long_phrase, TODAY) is None
    # Filler words do not count: twelve words of date and time with "lúc" and "ngày".
    assert parse_datetime("lúc 9 giờ 30 phút tối ngày 24 / 11 / 2026", TODAY) == (
        date(2026, 11, 24),
        time(21, 30),
    )


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_typed_when_answer_is_normalised_once_whichever_readings_are_tried(
    monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    normalised = count_calls(monkeypatch, "_normalise")
    for mode in ("", "time", "datetime"):
        judge(INCIDENT, "when", Text(repeated(SHAPES[shape], 64)), mode=mode)
    assert normalised.count == 3


@pytest.mark.parametrize(
    "text",
    [
        "9" * 400 + "h",  # a float of 400 nines is infinite
        "9" * 5000,  # past Python's 4300-digit limit for int()
        "1" * 4000 + "h ruoi",
        "1" * 4000 + ".5h",
    ],
)
def test_a_duration_of_absurdly_many_digits_is_nothing_not_a_crash(text: str) -> None:
    assert parse_duration(text) is None


# --- text that is only invisible characters is empty ---------------------------------

TEXT_FIELDS = [
    (form, spec) for form, spec in EVERY_FIELD if spec.kind in (FieldKind.TEXT, FieldKind.PLACE)
]
TEXT_FIELD_IDS = [f"{form.kind}.{spec.key}" for form, spec in TEXT_FIELDS]


def stored_text(spec: Field, text: str) -> Any:
    return {"address": text} if spec.kind is FieldKind.PLACE else text


@pytest.mark.parametrize(("form", "spec"), TEXT_FIELDS, ids=TEXT_FIELD_IDS)
@pytest.mark.parametrize(
    "text",
    [
        "\u200b",  # zero-width space
        "\u200c\u200d",  # zero-width non-joiner and joiner
        "\u2060",  # word joiner
        "\ufeff",  # byte order mark
        "\u00ad\u200e\u200f\u2062",  # soft hyphen, direction marks, invisible times
        " \u200b \n\t\u2060 \ufeff ",
        "\u3000\u200b\u00a0",  # ideographic and no-break spaces
        "\u200b" * 4096,
    ],
    ids=["zwsp", "zwnj-zwj", "word-joiner", "bom", "other-cf", "mixed", "spaces", "zwsp-4096"],
)
def test_text_of_only_invisible_characters_is_empty(form: Form, spec: Field, text: str) -> None:
    assert all(char.isspace() or unicodedata.category(char) == "Cf" for char in text)
    assert judge(form, spec.key, Text(text)) == Reject("error.empty")


@pytest.mark.parametrize(("form", "spec"), TEXT_FIELDS, ids=TEXT_FIELD_IDS)
@pytest.mark.parametrize(
    "text",
    [
        "Mất xe máy trước cổng chợ",
        unicodedata.normalize("NFD", "Trộm cắp ở khối Đông Vĩnh"),  # accents as Mn marks
        "Gia đình 👨‍👩‍👧 bị mất trộm",  # ZWJ between visible emoji
        "👨‍👩‍👧",
        "\u200bSố 5",
    ],
    ids=["precomposed", "decomposed", "family-in-sentence", "family", "zwsp-then-text"],
)
def test_real_text_with_accents_or_emoji_is_kept_as_typed(
    form: Form, spec: Field, text: str
) -> None:
    assert judge(form, spec.key, Text(text)) == accepted(stored_text(spec, text))
