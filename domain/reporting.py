"""From a finished form's answers to the report that storage keeps."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from domain.forms import Form
from domain.models import NewReport, Photo


def missing_fields(form: Form, data: Mapping[str, Any]) -> list[str]:
    """Keys of required fields that have no answer yet."""
    return [f.key for f in form.fields if not f.optional and data.get(f.key) is None]


def _place(value: Mapping[str, Any] | None) -> dict[str, Any]:
    if not value or value.get("none"):
        return {}
    return {
        "latitude": value.get("lat"),
        "longitude": value.get("lon"),
        "address": value.get("address") or value.get("title"),
    }


def _photos(value: list[list[str]] | None) -> tuple[Photo, ...]:
    # Drafts saved before documents were told apart hold [file_id, unique_id] only.
    return tuple(Photo(p[0], p[1], p[2] if len(p) > 2 else "photo") for p in value or ())


def new_report(form: Form, data: Mapping[str, Any], zone: ZoneInfo) -> NewReport:
    """Map a form's answers onto report columns; the answers are kept whole as well."""
    if form.kind == "incident":
        occurred = datetime.fromisoformat(data["when"])
        return NewReport(
            kind=form.kind,
            category_code=data["cat"],
            occurred_at=occurred,
            period_date=occurred.astimezone(zone).date(),
            description=data["desc"],
            people=data.get("people"),
            action_taken=data["action"],
            urgent=bool(data["urgent"]),
            photos=_photos(data.get("photos")),
            data=dict(data),
            **_place(data.get("place")),
        )
    if form.kind == "activity":
        day = date.fromisoformat(data["day"])
        span = data["span"]
        start = time.fromisoformat(span["span"][:5]) if span.get("span") else time(0, 0)
        return NewReport(
            kind=form.kind,
            category_code=data["type"],
            occurred_at=datetime.combine(day, start, tzinfo=zone),
            period_date=day,
            description=data["summary"],
            participants=int(data["count"]),
            duration_minutes=int(span["minutes"]),
            photos=_photos(data.get("photos")),
            data=dict(data),
            **_place(data.get("place")),
        )
    raise ValueError(f"no report mapping for form {form.kind!r}")
