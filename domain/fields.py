"""What a member's answer means for one form field: pure parsing and validation.

Nothing here talks to Telegram or SQLite, so every rule is testable on its own.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from domain.clock import Moment
from domain.forms import MAX_PHOTOS, Field, FieldKind
from domain.values import Address, Duration, NoPlace, PhotoRef, Photos, Pin, Value

# Button values with a meaning of their own; catalogue codes are upper case, so no clash.
SKIP = "_skip"
NONE = "_none"
DONE = "_done"
CLEAR = "_clear"
KEEP = "_keep"  # while editing from the summary: leave the answer as it was
NOW = "now"
TODAY = "today"
YESTERDAY = "yesterday"
OTHER = "other"
DURATION_CHOICES = ("30", "60", "120", "180", "240")
COUNT_CHOICES = ("1", "2", "3", "4", "5", "10")

# How far back a report may reach: a guard against typos, not a business rule.
MAX_AGE = timedelta(days=366)
# Phones' clocks drift; a time this little ahead of ours is taken as "now".
CLOCK_SLACK = timedelta(minutes=5)
# The longest typed date, time, duration or count anyone means ("từ 7 giờ 30 phút tối đến
# 9 giờ 30 phút tối" is 41): anything longer is refused before it is read at all.
MAX_TYPED_ANSWER = 64
# A date and a time are a few words ("9 gio 30 phut toi 24 / 11 / 2026" is 10), so a
# longer phrase is refused before any way of splitting it is tried.
MAX_DATETIME_TOKENS = 12


@dataclass(frozen=True)
class Button:
    value: str


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    title: str | None = None


@dataclass(frozen=True)
class PhotoAnswer:
    file_id: str
    file_unique_id: str
    kind: str = "photo"  # or "document": an image sent as a file is sent on as one


@dataclass(frozen=True)
class Unsupported:
    """A sticker, voice note, file or anything else no field takes."""


Answer = Button | Text | Location | PhotoAnswer | Unsupported


@dataclass(frozen=True)
class Accept:
    """Store the value and move on; ``note`` says how a loose phrase was read."""

    value: Value | None
    note: str | None = None
    values: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Keep:
    """Store the value but stay on the field (more photos may come)."""

    value: Value
    notice: str
    values: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Switch:
    """Ask the same field again in another mode (e.g. now type the time)."""

    mode: str


@dataclass(frozen=True)
class Reject:
    """Say what is wrong and ask again; nothing is stored.

    ``offer`` is a reading the member may take with one tap instead (a time of day that is
    still ahead today, offered as yesterday's).
    """

    error: str
    values: Mapping[str, object] = field(default_factory=dict)
    offer: datetime | None = None


Outcome = Accept | Keep | Switch | Reject


def telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


# Words a member may add around a date or time that change nothing: "lúc 21h",
# "ngày 24/11", "từ 19h đến 21h", "khoảng 8h".
_FILLER = re.compile(r"\b(?:luc|ngay|vao|khoang|tu|at|on|about)\b")


def _normalise(text: str) -> str:
    """Lower case, no Vietnamese accents, single spaces: "9 Giờ Tối" -> "9 gio toi".

    People typing fast often leave accents out, so both spellings must read the same.
    """
    lowered = text.lower().replace("đ", "d")
    bare = "".join(c for c in unicodedata.normalize("NFD", lowered) if not unicodedata.combining(c))
    return " ".join(bare.split())


def _clean(text: str) -> str:
    """Normalise and drop filler words: "Lúc 9 Giờ Tối" -> "9 gio toi".

    Each answer is cleaned once; the readers below take cleaned text, so trying several
    readings of one answer never normalises it again.
    """
    return " ".join(_FILLER.sub(" ", _normalise(text)).split())


_TIME = re.compile(
    r"^(\d{1,2})(?:\s*(?:[:.hg]|gio)\s*(\d{2})?)?(?:\s*(?:phut|p))?"
    r"(?:\s*(sang|trua|chieu|toi|dem|am|pm))?$"
)


def _with_part_of_day(hour: int, part: str | None) -> int:
    """Apply "sáng/trưa/chiều/tối/đêm" (or am/pm) to a 12-hour clock reading."""
    if part is None or hour > 12:
        return hour
    if part in ("chieu", "toi", "pm") and hour < 12:
        return hour + 12
    if part == "trua" and hour < 11:
        return hour + 12  # "1 giờ trưa" is 13:00
    if part == "dem" and 6 <= hour < 12:
        return hour + 12  # "11 giờ đêm" is 23:00, "2 giờ đêm" is 02:00
    if part in ("sang", "am") and hour == 12:
        return 0
    return hour


def parse_time(text: str) -> time | None:
    """Read "14:30", "14h30", "14g", "14 giờ 30", "2 giờ chiều" or "14" as a time of day."""
    return _read_time(_clean(text))


def _read_time(cleaned: str, part: str | None = None) -> time | None:
    """Read a time of day from text already cleaned; ``part`` is a part of the day said
    elsewhere ("tối qua 9h"), used when the time names none of its own."""
    match = _TIME.match(cleaned)
    if not match:
        return None
    hour = _with_part_of_day(int(match.group(1)), match.group(3) or part)
    minute = int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


_DATE = re.compile(r"^(\d{1,2})\s*[/.-]\s*(\d{1,2})(?:\s*[/.-]\s*(\d{4}|\d{2}))?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_RELATIVE_DAYS = {
    "hom nay": 0,
    "today": 0,
    "hom qua": 1,
    "yesterday": 1,
    "hom kia": 2,
    "ngay kia": 2,
}
# After a part of the day: "tối qua", "sáng nay", "tối hôm kia".
_SHORT_DAYS = {"nay": 0, "qua": 1, "kia": 2, **_RELATIVE_DAYS}
# A part of the day: (the hour it starts, the time stored when no exact time is given).
PARTS_OF_DAY = {
    "sang": (5, 8),
    "trua": (11, 12),
    "chieu": (13, 15),
    "toi": (18, 20),
    "dem": (21, 23),
}
_PART_FIRST = re.compile(r"^(?:buoi )?(sang|trua|chieu|toi|dem) (.+)$")
_PART_LAST = re.compile(r"^(.+) (?:buoi )?(sang|trua|chieu|toi|dem)$")
_WEEKDAYS = {
    "thu hai": 0, "thu 2": 0, "t2": 0, "monday": 0,
    "thu ba": 1, "thu 3": 1, "t3": 1, "tuesday": 1,
    "thu tu": 2, "thu 4": 2, "t4": 2, "wednesday": 2,
    "thu nam": 3, "thu 5": 3, "t5": 3, "thursday": 3,
    "thu sau": 4, "thu 6": 4, "t6": 4, "friday": 4,
    "thu bay": 5, "thu 7": 5, "t7": 5, "saturday": 5,
    "chu nhat": 6, "cn": 6, "sunday": 6,
}  # fmt: skip
_WEEKDAY = re.compile(r"^(?:last )?([a-z]+(?: [a-z0-9]+)?)(?: (tuan truoc|tuan roi|last week))?$")

# How a phrase naming only a part of the day was read, shown to the member.
_PART_NOTES = {
    "sang": "when.noted.morning",
    "trua": "when.noted.noon",
    "chieu": "when.noted.afternoon",
    "toi": "when.noted.evening",
    "dem": "when.noted.night",
}
# A date and, when the words named one, a part of the day ("tối qua": yesterday, "toi").
Day = tuple[date, str | None]


def parse_date(text: str, today: date) -> date | None:
    """Read "24/11", "24/11/2026", "2026-11-24", "hôm qua", "hôm kia" or "thứ Hai"; no
    year means the last one."""
    day = _read_date(_clean(text), today)
    return day[0] if day is not None and day[1] is None else None


def _read_date(cleaned: str, today: date) -> Day | None:
    """Read a date, and a part of the day said with it, from text already cleaned."""
    for pattern, part_group, day_group in ((_PART_FIRST, 1, 2), (_PART_LAST, 2, 1)):
        if match := pattern.match(cleaned):
            rest = match.group(day_group)
            if rest in _SHORT_DAYS:
                return today - timedelta(days=_SHORT_DAYS[rest]), match.group(part_group)
            plain = _read_plain_date(rest, today)
            return (plain, match.group(part_group)) if plain is not None else None
    plain = _read_plain_date(cleaned, today)
    return (plain, None) if plain is not None else None


def _read_plain_date(cleaned: str, today: date) -> date | None:
    """A date without a part of the day: relative words, a weekday or digits."""
    if cleaned in _RELATIVE_DAYS:
        return today - timedelta(days=_RELATIVE_DAYS[cleaned])
    if (weekday := _WEEKDAY.match(cleaned)) and weekday.group(1) in _WEEKDAYS:
        target = _WEEKDAYS[weekday.group(1)]
        if weekday.group(2) or cleaned.startswith("last "):
            # "chủ nhật tuần trước": that day of last week (weeks start on Monday).
            monday = today - timedelta(days=today.weekday())
            return monday - timedelta(days=7 - target)
        # "thứ Hai": the last one, today included.
        return today - timedelta(days=(today.weekday() - target) % 7)
    if iso := _ISO_DATE.match(cleaned):
        year, month, day = (int(part) for part in iso.groups())
        year_given = True
    elif match := _DATE.match(cleaned):
        day, month = int(match.group(1)), int(match.group(2))
        year_text = match.group(3)
        year_given = year_text is not None
        year = (
            (2000 + int(year_text) if len(year_text) == 2 else int(year_text))
            if year_text
            else today.year
        )
    else:
        return None
    try:
        result = date(year, month, day)
    except ValueError:
        return None
    if not year_given and result > today + timedelta(days=31):
        # "30/12" typed in January means last December; "27/11" typed on 26/11 is a
        # slip of the thumb and is left in the future for the caller to refuse.
        try:
            result = result.replace(year=year - 1)
        except ValueError:
            return None
    return result


def parse_datetime(text: str, today: date) -> tuple[date, time] | None:
    """Read a date and a time in either order: "24/11 21:15", "hôm qua 9h tối", "tối qua 9h"."""
    return _read_datetime(_clean(text), today)


def _read_datetime(cleaned: str, today: date) -> tuple[date, time] | None:
    """Read a date and a time from text already cleaned, trying each split into two."""
    # maxsplit: a long answer is refused without being cut into thousands of words.
    parts = cleaned.replace(",", " ").split(None, MAX_DATETIME_TOKENS)
    if len(parts) > MAX_DATETIME_TOKENS:
        return None
    for split in range(1, len(parts)):
        head, tail = " ".join(parts[:split]), " ".join(parts[split:])
        for date_text, time_text in ((head, tail), (tail, head)):
            day = _read_date(date_text, today)
            if day is None:
                continue
            moment = _read_time(time_text, day[1])
            if moment is not None:
                if day[1] == "dem" and moment.hour < 6:
                    return day[0] + timedelta(days=1), moment  # "2 giờ đêm qua"
                return day[0], moment
    return None


_SPAN = re.compile(r"^(.+?)\s*(?:-|–|—|\bden\b|\bto\b)\s*(.+)$")
# Bounded digit runs: a day is 1440 minutes, and "999…9h" must not overflow a float.
_DURATION = re.compile(r"^(?:(\d{1,4}(?:[.,]\d{1,4})?)h)?(?:(\d{1,4})m?)?$")
# Not \b: "1g30" and "1gio30" put digits straight after the unit.
_HOUR_WORDS = re.compile(r"\s*(?:tieng|gio|hours?|hrs?|g)(?![^\W\d_])")
_MINUTE_WORDS = re.compile(r"\s*(?:phut|ph|p|mins?|minutes?)\b")
_HALF_HOUR = re.compile(r"^nua (?:tieng|gio)$|^half an hour$")
# "1 tiếng rưỡi": one and a half hours. The look-behind starts a try only where a run of
# digits starts, so a long run of digits is scanned once, not once per digit.
_AND_A_HALF = re.compile(r"(?<!\d)(\d+)h\s*ruoi$")


def parse_duration(text: str) -> tuple[int, str | None] | None:
    """Read a duration in minutes and, for a span like "19:00-21:30", the span itself."""
    cleaned = _clean(text)
    if _HALF_HOUR.match(cleaned):
        return 30, None
    if span := _SPAN.match(cleaned):
        start, end = _read_time(span.group(1)), _read_time(span.group(2))
        if start and end:
            minutes = (end.hour * 60 + end.minute - start.hour * 60 - start.minute) % (24 * 60)
            if minutes == 0:
                return None
            return minutes, f"{start:%H:%M}–{end:%H:%M}"
    compact = _MINUTE_WORDS.sub("m", _HOUR_WORDS.sub("h", cleaned))
    compact = _AND_A_HALF.sub(r"\1h30", compact).replace(" ", "")
    match = _DURATION.match(compact)
    if not match or not any(match.groups()):
        return None
    hours_text, minutes_text = match.groups()
    if hours_text is None and not compact.endswith("m"):
        # A bare number: "2" means hours, "90" means minutes.
        number = int(minutes_text)
        minutes = number * 60 if number <= 24 else number
    else:
        hours = float(hours_text.replace(",", ".")) if hours_text else 0.0
        minutes = round(hours * 60) + int(minutes_text or 0)
    if not 0 < minutes <= 24 * 60:
        return None
    return minutes, None


_COUNT = re.compile(r"^(\d{1,4})(?:\s*(?:nguoi|people|persons?))?$")


def parse_count(text: str) -> int | None:
    """Read a number of people: "12", "12 người"."""
    match = _COUNT.match(_normalise(text))
    if not match:
        return None
    number = int(match.group(1))
    return number if 1 <= number <= 999 else None


def _check_day(day: date, clock: Moment) -> Reject | None:
    if day > clock.today:
        return Reject("error.future")
    if day < clock.today - MAX_AGE:
        return Reject("error.too_old")
    return None


# Each says what the field takes, with examples: a long answer here is usually the
# description typed one question too early.
_TOO_LONG_FOR = {
    FieldKind.WHEN: "error.answer_too_long_for_field.when",
    FieldKind.DAY: "error.answer_too_long_for_field.day",
    FieldKind.DURATION: "error.answer_too_long_for_field.duration",
    FieldKind.COUNT: "error.answer_too_long_for_field.count",
}


def interpret(
    spec: Field,
    mode: str,
    current: Value | None,
    answer: Answer,
    clock: Moment,
    choices: Collection[str] = (),
) -> Outcome:
    """Decide what an answer to a field means: a value, another question, or an error."""
    if isinstance(answer, Button) and answer.value == SKIP:
        if spec.kind is FieldKind.PHOTOS and isinstance(current, tuple) and current:
            # An older prompt's Skip tapped after sending photos: keep them, never drop.
            return Accept(current)
        return Accept(None) if spec.optional else Reject("error.required")
    if isinstance(answer, Unsupported):
        return Reject("error.unsupported")
    if (
        isinstance(answer, Text)
        and (too_long := _TOO_LONG_FOR.get(spec.kind))
        and telegram_length(answer.text) > MAX_TYPED_ANSWER
    ):
        return Reject(too_long, {"limit": MAX_TYPED_ANSWER})
    match spec.kind:
        case FieldKind.CHOICE | FieldKind.YESNO:
            return _choice(spec, answer, choices)
        case FieldKind.WHEN:
            return _when(mode, answer, clock)
        case FieldKind.DAY:
            return _day(mode, answer, clock)
        case FieldKind.DURATION:
            return _duration(answer)
        case FieldKind.COUNT:
            return _count(answer)
        case FieldKind.PLACE:
            return _place(spec, answer)
        case FieldKind.TEXT:
            return _text(spec, answer)
        case FieldKind.PHOTOS:
            return _photos(current, answer)
    raise AssertionError(spec.kind)  # pragma: no cover


def _choice(spec: Field, answer: Answer, choices: Collection[str]) -> Outcome:
    if isinstance(answer, Button) and answer.value in choices:
        if spec.kind is FieldKind.YESNO:
            return Accept(answer.value == "yes")
        return Accept(answer.value)
    return Reject("error.use_buttons")


def _typed_text(answer: Answer) -> str | None:
    return answer.text if isinstance(answer, Text) else None


# The one-tap answer a refusal may offer: "at" and a local moment, "at202611272100".
OFFER_PREFIX = "at"
_OFFER = re.compile(r"^at(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})$")
# The mode of the "when" question once a date is known and only its time is asked.
TIME_ON = "time@"


def offer_value(moment: datetime) -> str:
    """The button value of an offered reading, in local time."""
    return f"{OFFER_PREFIX}{moment:%Y%m%d%H%M}"


def day_of_mode(mode: str) -> date | None:
    """The date a "when" question already has ("time@2026-11-27"), if any."""
    if not mode.startswith(TIME_ON):
        return None
    try:
        return date.fromisoformat(mode[len(TIME_ON) :])
    except ValueError:
        return None


def _examples(clock: Moment) -> dict[str, object]:
    """Examples for a refusal, from the current time: an hour ago, as typed."""
    before = clock.now.astimezone(clock.zone) - timedelta(hours=1)
    return {"now": f"{clock.now.astimezone(clock.zone):%H:%M}", "example": f"{before:%d/%m %H:%M}"}


def _check_when(when: datetime, clock: Moment) -> Reject | None:
    if when > clock.now + CLOCK_SLACK:
        return Reject("when.error.future", {"when": f"{when:%d/%m %H:%M}", **_examples(clock)})
    if when < clock.now - MAX_AGE:
        return Reject("when.error.too_old", _examples(clock))
    return None


def _when(mode: str, answer: Answer, clock: Moment) -> Outcome:
    if isinstance(answer, Button):
        if answer.value == NOW:
            return Accept(clock.now)
        if answer.value == TODAY:
            return Switch("time")
        if answer.value == OTHER:
            return Switch("datetime")
        if offered := _OFFER.match(answer.value):
            # A forged value is only ever a moment, and it is checked like a typed one.
            try:
                year, month, day, hour, minute = (int(part) for part in offered.groups())
                when = clock.local(date(year, month, day), time(hour, minute))
            except ValueError:
                return Reject("error.use_buttons")
            return _check_when(when, clock) or Accept(when)
        return Reject("error.use_buttons")
    text = _typed_text(answer)
    if text is None:
        return Reject("error.need_text")
    # A typed answer is read for what it is, whichever button came before.
    cleaned = _clean(text)
    on_day = day_of_mode(mode)
    moment = _read_time(cleaned)
    if moment is not None and mode != "datetime":
        when = clock.local(on_day or clock.today, moment)
        if on_day is None and when > clock.now + CLOCK_SLACK:
            # After midnight, "9 giờ tối" means last night: offer it with one tap.
            earlier = clock.local(clock.today - timedelta(days=1), moment)
            return Reject(
                "when.error.later_today",
                {"time": f"{moment:%H:%M}", **_examples(clock)},
                offer=earlier,
            )
        return _check_when(when, clock) or Accept(when)
    if (pair := _read_datetime(cleaned, clock.today)) is not None:
        when = clock.local(*pair)
        return _check_when(when, clock) or Accept(when)
    if (named := _read_date(cleaned, clock.today)) is not None:
        return _day_only(named, clock)
    if moment is not None:  # a time alone, where a date was asked for
        earlier = clock.local(clock.today - timedelta(days=1), moment)
        return Reject("when.error.need_date", {"example": f"{earlier:%d/%m %H:%M}"})
    if on_day is not None:
        return Reject("when.error.bad_time_on", {"day": f"{on_day:%d/%m}", **_examples(clock)})
    key = "when.error.bad_datetime" if mode == "datetime" else "when.error.bad_time"
    return Reject(key, _examples(clock))


def _day_only(day: Day, clock: Moment) -> Outcome:
    """A date with no time: ask only for the time; with a part of the day, store its usual
    hour (or now, when that part of today has begun but its usual hour is still ahead)."""
    on, part = day
    if part is None:
        if problem := _check_when(clock.local(on, time(0, 0)), clock):
            return problem
        return Switch(f"{TIME_ON}{on.isoformat()}")
    start, usual = PARTS_OF_DAY[part]
    when = clock.local(on, time(usual, 0))
    local_now = clock.now.astimezone(clock.zone)
    if on == clock.today and local_now.hour >= start and when > clock.now:
        when = local_now.replace(second=0, microsecond=0)
    if problem := _check_when(when, clock):
        return problem
    return Accept(when, _PART_NOTES[part], {"when": f"{when:%H:%M %d/%m}"})


def _day(mode: str, answer: Answer, clock: Moment) -> Outcome:
    if isinstance(answer, Button):
        if answer.value == TODAY:
            return Accept(clock.today)
        if answer.value == YESTERDAY:
            return Accept(clock.today - timedelta(days=1))
        if answer.value == OTHER:
            return Switch("date")
        return Reject("error.use_buttons")
    text = _typed_text(answer)
    if text is None:
        return Reject("error.need_text")
    day = parse_date(text, clock.today)
    if day is None:
        return Reject("error.bad_date")
    if problem := _check_day(day, clock):
        return problem
    return Accept(day)


def _duration(answer: Answer) -> Outcome:
    if isinstance(answer, Button):
        if answer.value in DURATION_CHOICES:
            return Accept(Duration(int(answer.value)))
        return Reject("error.use_buttons")
    text = _typed_text(answer)
    if text is None:
        return Reject("error.need_text")
    parsed = parse_duration(text)
    if parsed is None:
        return Reject("error.bad_duration")
    return Accept(Duration(parsed[0], parsed[1]))


def _count(answer: Answer) -> Outcome:
    if isinstance(answer, Button):
        if answer.value in COUNT_CHOICES:
            return Accept(int(answer.value))
        return Reject("error.use_buttons")
    text = _typed_text(answer)
    if text is None:
        return Reject("error.need_text")
    number = parse_count(text)
    if number is None:
        return Reject("error.bad_count")
    return Accept(number)


def _place(spec: Field, answer: Answer) -> Outcome:
    if isinstance(answer, Button):
        return Accept(NoPlace()) if answer.value == NONE else Reject("error.use_buttons")
    if isinstance(answer, Location):
        if not (-90 <= answer.latitude <= 90 and -180 <= answer.longitude <= 180):
            return Reject("error.bad_location")
        return Accept(Pin(answer.latitude, answer.longitude, answer.title))
    text = _typed_text(answer)
    if text is None:
        return Reject("error.need_place")
    return _checked_text(spec, text, Address)


def _text(spec: Field, answer: Answer) -> Outcome:
    text = _typed_text(answer)
    if text is None:
        return Reject("error.need_text")
    return _checked_text(spec, text, str)


def _is_blank(text: str) -> bool:
    """True when nothing would show: only whitespace and format characters (category Cf).

    Zero-width spaces, joiners, word joiners and BOMs are Cf; Vietnamese accents are
    combining marks (Mn) and an emoji's ZWJ sits between visible emoji, so neither is blank.
    """
    return all(char.isspace() or unicodedata.category(char) == "Cf" for char in text)


def _checked_text(spec: Field, text: str, wrap: Callable[[str], Value]) -> Outcome:
    value = text.strip()
    if _is_blank(value):
        return Reject("error.empty")
    length = telegram_length(value)
    if spec.max_length and length > spec.max_length:
        return Reject("error.too_long", {"length": length, "limit": spec.max_length})
    return Accept(wrap(value))


def _photos(current: Value | None, answer: Answer) -> Outcome:
    photos: Photos = current if isinstance(current, tuple) else ()
    if isinstance(answer, Button):
        if answer.value == DONE:
            return Accept(photos or None)
        if answer.value == CLEAR:
            return Keep((), "photos.cleared")
        return Reject("error.use_buttons")
    if isinstance(answer, PhotoAnswer):
        if len(photos) >= MAX_PHOTOS:
            return Reject("error.too_many_photos", {"limit": MAX_PHOTOS})
        if any(stored.unique_id == answer.file_unique_id for stored in photos):
            return Keep(photos, "photos.duplicate", {"count": len(photos)})
        photos = (*photos, PhotoRef(answer.file_id, answer.file_unique_id, answer.kind))
        return Keep(photos, "photos.received", {"count": len(photos), "limit": MAX_PHOTOS})
    return Reject("error.need_photo")
