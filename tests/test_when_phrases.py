"""Dates and times as members type them (issue 9), at night, in the morning and late evening.

The clock is the harness's: each phrase is typed at 00:48, 09:00 and 23:30 on Saturday
28/11/2026 (local time), and what the draft stores, or what the member is told, is checked.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from botapi_sim.driver import Harness, Person
from domain import fields
from domain.clock import Moment
from domain.fields import Accept, Reject, Switch, Text, interpret, parse_date, parse_datetime
from domain.forms import INCIDENT
from tests.flows import draft_row

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
CLOCK_TIMES = ("00:48", "09:00", "23:30")
_WHEN = INCIDENT.field("when")
assert _WHEN is not None
WHEN = _WHEN


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A local moment in November 2026."""
    return datetime(2026, 11, day, hour, minute, tzinfo=ZONE)


def at(clock_time: str) -> datetime:
    hour, minute = (int(part) for part in clock_time.split(":"))
    return local(28, hour, minute)


def moment(clock_time: str) -> Moment:
    return Moment(at(clock_time).astimezone(UTC), ZONE)


# --- the parser, pure -----------------------------------------------------------------

TODAY = date(2026, 11, 28)  # a Saturday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hôm qua", date(2026, 11, 27)),
        ("hom kia", date(2026, 11, 26)),
        ("thứ Hai", date(2026, 11, 23)),
        ("thu 2", date(2026, 11, 23)),
        ("thứ Bảy", date(2026, 11, 28)),
        ("chủ nhật", date(2026, 11, 22)),
        ("chủ nhật tuần trước", date(2026, 11, 22)),
        ("thứ Hai tuần trước", date(2026, 11, 16)),
        ("21/11", date(2026, 11, 21)),
        ("21/11/2026", date(2026, 11, 21)),
        ("ngày 21/11/26", date(2026, 11, 21)),
        ("tối qua", None),  # a part of the day is not a bare date
        ("thứ Mười", None),
    ],
)
def test_parse_date_reads_relative_days_weekdays_and_dd_mm(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tối qua 9h", (date(2026, 11, 27), time(21, 0))),
        ("9h tối qua", (date(2026, 11, 27), time(21, 0))),
        ("Tối hôm kia 8 giờ", (date(2026, 11, 26), time(20, 0))),
        ("chiều qua 3h30", (date(2026, 11, 27), time(15, 30))),
        ("sáng nay 7h", (date(2026, 11, 28), time(7, 0))),
        ("2h đêm qua", (date(2026, 11, 28), time(2, 0))),  # after midnight, the same night
        ("thứ Hai 8h", (date(2026, 11, 23), time(8, 0))),
        ("21/11 21:15", (date(2026, 11, 21), time(21, 15))),
        ("tối qua", None),
    ],
)
def test_parse_datetime_applies_the_part_of_day_said_with_the_date(
    text: str, expected: tuple[date, time] | None
) -> None:
    assert parse_datetime(text, TODAY) == expected


@pytest.mark.parametrize("clock_time", CLOCK_TIMES)
def test_a_time_still_ahead_today_is_offered_as_yesterdays(clock_time: str) -> None:
    outcome = interpret(WHEN, "time", None, Text("khoảng 9 giờ tối"), moment(clock_time))
    if clock_time == "23:30":
        assert outcome == Accept(local(28, 21))
        return
    assert isinstance(outcome, Reject)
    assert outcome.error == "when.error.later_today"
    assert outcome.offer == local(27, 21)
    assert outcome.values["now"] == clock_time
    # The offer's button is judged again when tapped, like any answer.
    tapped = interpret(
        WHEN, "time", None, fields.Button(fields.offer_value(outcome.offer)), moment(clock_time)
    )
    assert tapped == Accept(local(27, 21))


@pytest.mark.parametrize(
    "value", ["at202611282300", "at202613012100", "at202302302100", "at2026112821"]
)
def test_a_forged_offer_is_refused(value: str) -> None:
    outcome = interpret(WHEN, "", None, fields.Button(value), moment("00:48"))
    assert isinstance(outcome, Reject)
    assert outcome.error in ("when.error.future", "when.error.too_old", "error.use_buttons")


def test_a_date_alone_switches_to_asking_its_time() -> None:
    assert interpret(WHEN, "", None, Text("21/11"), moment("00:48")) == Switch("time@2026-11-21")
    outcome = interpret(WHEN, "time@2026-11-21", None, Text("8h sáng"), moment("00:48"))
    assert outcome == Accept(local(21, 8))
    # A time "ahead" on a day already past is simply that day's time: no offer.
    outcome = interpret(WHEN, "time@2026-11-27", None, Text("23:00"), moment("00:48"))
    assert outcome == Accept(local(27, 23))


def test_a_part_of_today_that_has_begun_is_stored_as_now_not_ahead() -> None:
    # 13:30: "chiều nay" has begun, but its usual 15:00 is still ahead.
    clock = Moment(local(28, 13, 30).astimezone(UTC), ZONE)
    outcome = interpret(WHEN, "", None, Text("chiều nay"), clock)
    assert isinstance(outcome, Accept)
    assert outcome.value == local(28, 13, 30)
    assert outcome.note == "when.noted.afternoon"


# --- through the bot, with the clock set ----------------------------------------------


async def at_when_step(harness: Harness, clock_time: str) -> Person:
    harness.now = at(clock_time)
    lan = await harness.join(501, "16702-K01")
    await lan.send("/incident")
    _, first_category = lan.last_buttons_call().inline_buttons()[0]
    await lan.tap_data(first_category)
    assert draft_row(harness)[:2] == ("when", "")  # type: ignore[index]
    return lan


async def tap_when(lan: Person, value: str) -> None:
    """Tap the "when" question's button with this value, whatever its label says."""
    message = lan.last_buttons_call()
    [data] = [data for _, data in message.inline_buttons() if data.endswith(f":when:{value}")]
    await lan.tap_data(data, message)


def stored_when(harness: Harness) -> datetime:
    row = draft_row(harness)
    assert row is not None
    assert row[0] == "place", row  # the question after "when"
    return datetime.fromisoformat(json.loads(str(row[3]))["when"]).astimezone(ZONE)


# Typed after "Ngày khác": phrase, then (if the date came alone) the time, then what is stored.
PHRASES: list[tuple[str, str | None, datetime]] = [
    ("tối qua 9h", None, local(27, 21)),
    ("9h tối qua", None, local(27, 21)),
    ("hôm qua", "21h", local(27, 21)),
    ("21/11", "8h sáng", local(21, 8)),
    ("21/11/2026", "20:30", local(21, 20, 30)),
    ("hôm kia", "22:15", local(26, 22, 15)),
    ("thứ Hai", "7h", local(23, 7)),
    ("chủ nhật tuần trước", "9 giờ tối", local(22, 21)),
    ("chiều qua", None, local(27, 15)),
    ("đêm qua", None, local(27, 23)),
    ("tối hôm kia", None, local(26, 20)),
]


PARTS_ONLY = ("chiều qua", "đêm qua", "tối hôm kia")


@pytest.mark.parametrize("clock_time", CLOCK_TIMES)
@pytest.mark.parametrize(("phrase", "then", "expected"), PHRASES, ids=[p[0] for p in PHRASES])
async def test_phrases_members_type_are_read_at_any_hour(
    harness: Harness, clock_time: str, phrase: str, then: str | None, expected: datetime
) -> None:
    lan = await at_when_step(harness, clock_time)
    await tap_when(lan, fields.OTHER)
    calls = await lan.send(phrase)
    if then is not None:
        # The date is kept and only the time is asked, in one message.
        assert len(calls) == 1
        assert f"Ngày {expected:%d/%m/%Y}: việc xảy ra lúc mấy giờ?" in calls[0].text
        assert draft_row(harness)[:2] == ("when", f"time@{expected:%Y-%m-%d}")  # type: ignore[index]
        calls = await lan.send(then)
    elif phrase in PARTS_ONLY:
        # A part of the day needs no exact time; the echo says how it was read.
        assert "Đã ghi: buổi" in calls[0].text or "Đã ghi: ban đêm" in calls[0].text
        assert f"khoảng {expected:%H:%M %d/%m}" in calls[0].text
    assert stored_when(harness) == expected


@pytest.mark.parametrize("clock_time", CLOCK_TIMES)
async def test_a_date_alone_typed_straight_away_also_asks_its_time(
    harness: Harness, clock_time: str
) -> None:
    lan = await at_when_step(harness, clock_time)
    calls = await lan.send("hôm qua")  # no button tapped first
    assert "Ngày 27/11/2026: việc xảy ra lúc mấy giờ?" in calls[-1].text
    calls = await lan.send("lúc nãy")  # not a time: asked again, naming the day
    assert "giờ của ngày 27/11" in calls[0].text
    await lan.send("21h")
    assert stored_when(harness) == local(27, 21)


@pytest.mark.parametrize("clock_time", CLOCK_TIMES)
async def test_this_morning_is_a_time_that_has_passed_or_a_refusal_with_an_example(
    harness: Harness, clock_time: str
) -> None:
    lan = await at_when_step(harness, clock_time)
    calls = await lan.send("sáng nay")
    if clock_time == "00:48":
        assert "chưa tới (bây giờ là 00:48)" in calls[0].text
        assert "27/11 23:48" in calls[0].text
        assert draft_row(harness)[0] == "when"  # type: ignore[index]
        return
    assert "Đã ghi: buổi sáng, khoảng 08:00 28/11" in calls[0].text
    assert stored_when(harness) == local(28, 8)


@pytest.mark.parametrize("clock_time", CLOCK_TIMES)
async def test_after_midnight_nine_in_the_evening_is_last_night_one_tap_away(
    harness: Harness, clock_time: str
) -> None:
    lan = await at_when_step(harness, clock_time)
    await tap_when(lan, fields.TODAY)
    calls = await lan.send("khoảng 9 giờ tối")
    if clock_time == "23:30":
        assert stored_when(harness) == local(28, 21)
        return
    # One message: why, an example from the current time, and the offer as a button.
    assert len(calls) == 1
    assert f"21:00 hôm nay chưa tới (bây giờ là {clock_time})" in calls[0].text
    assert [label for label, _ in calls[0].inline_buttons()] == ["Tối qua 21:00"]
    offer = lan.find_button("Tối qua 21:00")
    await lan.tap_data(offer[1], offer[0])
    assert stored_when(harness) == local(27, 21)
    # A double tap, or a tap once the form has moved on, changes nothing.
    calls = await lan.tap_data(offer[1], offer[0])
    assert stored_when(harness) == local(27, 21)
    assert all(c.method == "answerCallbackQuery" for c in calls)


async def test_a_forged_offer_for_a_moment_still_ahead_is_refused(harness: Harness) -> None:
    lan = await at_when_step(harness, "00:48")
    message = lan.last_buttons_call()
    [now_data] = [d for _, d in message.inline_buttons() if d.endswith(":when:now")]
    forged = now_data.rsplit(":", 1)[0] + ":at202611282100"
    calls = await lan.tap_data(forged, message)
    assert any("chưa tới" in popup for popup in lan.popups(calls))
    assert draft_row(harness)[:2] == ("when", "")  # type: ignore[index]


@pytest.mark.parametrize("clock_time", CLOCK_TIMES)
async def test_every_refusal_says_what_would_do_with_an_example_from_now(
    harness: Harness, clock_time: str
) -> None:
    lan = await at_when_step(harness, clock_time)
    hour_ago = {"00:48": "27/11 23:48", "09:00": "28/11 08:00", "23:30": "28/11 22:30"}
    calls = await lan.send("abc")
    assert "Chưa hiểu giờ này" in calls[0].text
    assert f"{hour_ago[clock_time]}" in calls[0].text
    await tap_when(lan, fields.OTHER)
    calls = await lan.send("21:00")  # a date was asked for
    assert "gõ cả ngày và giờ, ví dụ 27/11 21:00" in calls[0].text
    calls = await lan.send("1/12 8h")
    assert "Thời điểm 01/12 08:00 chưa tới" in calls[0].text
    assert f"{hour_ago[clock_time]}" in calls[0].text
    calls = await lan.send("1/1/2020 8h")
    assert "quá một năm" in calls[0].text
    assert f"{hour_ago[clock_time]}" in calls[0].text
    assert draft_row(harness)[0] == "when"  # type: ignore[index]


async def test_english_members_get_the_offer_in_english(harness: Harness) -> None:
    harness.now = at("00:48")
    lan = await harness.join(501, "16702-K01")
    await lan.send("/language")
    await lan.tap("English")
    await lan.send("/incident")
    _, first_category = lan.last_buttons_call().inline_buttons()[0]
    await lan.tap_data(first_category)
    await tap_when(lan, fields.TODAY)
    calls = await lan.send("9pm")
    assert "21:00 today is still ahead (it is 00:48 now)" in calls[0].text
    assert [label for label, _ in calls[0].inline_buttons()] == ["Last night 21:00"]
