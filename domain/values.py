"""Typed answer values, and their one JSON form in a stored draft.

Parsing (domain/fields.py) produces these values, rendering shows them, and
domain/reporting.py maps them onto report columns: nobody spells a stored shape by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.forms import Field, FieldKind, Form


@dataclass(frozen=True)
class Pin:
    """A location shared from the phone; a venue carries its title."""

    latitude: float
    longitude: float
    title: str | None = None


@dataclass(frozen=True)
class Address:
    """A place typed by the member."""

    text: str


@dataclass(frozen=True)
class NoPlace:
    """The member said they don't know where (or, where optional, that there is none)."""


Place = Pin | Address | NoPlace


@dataclass(frozen=True)
class Duration:
    minutes: int
    span: str | None = None  # "19:00–21:30" when a span was typed


@dataclass(frozen=True)
class PhotoRef:
    file_id: str
    unique_id: str
    kind: str = "photo"  # or "document": an image sent as a file is sent on as one


Photos = tuple[PhotoRef, ...]
Value = str | bool | int | date | datetime | Place | Duration | Photos


def encode(spec: Field, value: Value | None) -> Any:
    """The JSON form of an answer, as a draft stores it."""
    if value is None:
        return None
    match value:
        case Pin(latitude, longitude, title):
            return {"lat": latitude, "lon": longitude, "title": title}
        case Address(text):
            return {"address": text}
        case NoPlace():
            return {"none": True}
        case Duration(minutes, span):
            return {"minutes": minutes, "span": span}
        case tuple():
            return [[p.file_id, p.unique_id, p.kind] for p in value]
        case datetime() | date():
            return value.isoformat()
    return value


def decode(spec: Field, raw: Any) -> Value | None:
    """An answer from its stored JSON form; drafts from older versions are read too."""
    if raw is None:
        return None
    match spec.kind:
        case FieldKind.WHEN:
            return datetime.fromisoformat(raw)
        case FieldKind.DAY:
            return date.fromisoformat(raw)
        case FieldKind.DURATION:
            return Duration(int(raw["minutes"]), raw.get("span"))
        case FieldKind.COUNT:
            return int(raw)
        case FieldKind.YESNO:
            return bool(raw)
        case FieldKind.PLACE:
            if raw.get("none"):
                return NoPlace()
            if "address" in raw:
                return Address(str(raw["address"]))
            return Pin(float(raw["lat"]), float(raw["lon"]), raw.get("title"))
        case FieldKind.PHOTOS:
            # Drafts saved before documents were told apart hold [file_id, unique_id].
            return tuple(PhotoRef(p[0], p[1], p[2] if len(p) > 2 else "photo") for p in raw)
    return str(raw)


def decode_answers(form: Form, data: Mapping[str, Any]) -> dict[str, Value | None]:
    """Every field's answer of a stored draft, typed; None where there is none yet."""
    return {spec.key: decode(spec, data.get(spec.key)) for spec in form.fields}


def encode_answers(form: Form, answers: Mapping[str, Value | None]) -> dict[str, Any]:
    """The JSON form of a draft's answers, for storage."""
    by_key = {spec.key: spec for spec in form.fields}
    return {key: encode(by_key[key], value) for key, value in answers.items() if key in by_key}
