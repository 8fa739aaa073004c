"""From a finished form's answers to the report that storage keeps: the one mapping."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from domain.forms import Form
from domain.models import NewReport, Photo
from domain.values import Address, Duration, NoPlace, PhotoRef, Pin, Value, decode_answers

T = TypeVar("T")


def place_columns(place: Value | None) -> dict[str, Any]:
    """Latitude, longitude and address of an answered place; a venue's title is its address."""
    match place:
        case Pin(latitude, longitude, title):
            return {"latitude": latitude, "longitude": longitude, "address": title}
        case Address(text):
            return {"address": text}
        case NoPlace() | None:
            return {}
    raise TypeError(f"not a place: {place!r}")


def _photos(value: Value | None) -> tuple[Photo, ...]:
    refs = value if isinstance(value, tuple) else ()
    return tuple(Photo(p.file_id, p.unique_id, p.kind) for p in refs if isinstance(p, PhotoRef))


def _as(kind: type[T], value: Value | None) -> T:
    if not isinstance(value, kind):
        raise TypeError(f"expected {kind.__name__}, got {value!r}")
    return value


def _answers_only(data: Mapping[str, Any]) -> dict[str, Any]:
    """A draft's answers without its marks ("@urgent_first"): those say how the draft
    was asked, and a report reopened later is asked as any other."""
    return {key: value for key, value in data.items() if not key.startswith("@")}


def new_report(form: Form, data: Mapping[str, Any], zone: ZoneInfo) -> NewReport:
    """Map a form's answers onto report columns; the answers are kept whole as well."""
    answers = decode_answers(form, data)
    if form.kind == "incident":
        occurred = _as(datetime, answers["when"])
        people, action = answers["people"], answers["action"]
        return NewReport(
            kind=form.kind,
            category_code=_as(str, answers["cat"]),
            occurred_at=occurred,
            period_date=occurred.astimezone(zone).date(),
            description=_as(str, answers["desc"]),
            people=people if isinstance(people, str) else None,
            # An urgent incident is alerted before the member says what was done.
            action_taken=action if isinstance(action, str) else None,
            urgent=answers["urgent"] is True,
            photos=_photos(answers["photos"]),
            data=_answers_only(data),
            **place_columns(answers["place"]),
        )
    if form.kind == "activity":
        day = _as(date, answers["day"])
        span = _as(Duration, answers["span"])
        start = time.fromisoformat(span.span[:5]) if span.span else time(0, 0)
        return NewReport(
            kind=form.kind,
            category_code=_as(str, answers["type"]),
            occurred_at=datetime.combine(day, start, tzinfo=zone),
            period_date=day,
            description=_as(str, answers["summary"]),
            participants=_as(int, answers["count"]),
            duration_minutes=span.minutes,
            photos=_photos(answers["photos"]),
            # People reached stays in the answers, and only for a type that asks it.
            data=_answers_only(form.without_inapplicable(data)),
            **place_columns(answers["place"]),
        )
    raise ValueError(f"no report mapping for form {form.kind!r}")
