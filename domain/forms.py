"""The report forms, declared once as data and walked by handlers/reports.py.

A new report kind is a new ``Form`` here plus its messages in the catalogues.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class FieldKind(StrEnum):
    CHOICE = "choice"  # inline buttons: fixed options or the deployment's catalogue
    WHEN = "when"  # now / earlier today (a time) / another day (date and time)
    DAY = "day"  # today / yesterday / a typed date
    DURATION = "duration"  # buttons or typed "1h30", "90", "19:00-21:30"
    PLACE = "place"  # a location pin, a typed address, or none
    TEXT = "text"
    COUNT = "count"
    PHOTOS = "photos"
    YESNO = "yesno"


@dataclass(frozen=True)
class Option:
    value: str
    label: str  # message id


@dataclass(frozen=True)
class AnswerIn:
    """A field's condition: the answer to an earlier field is one of these values."""

    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Field:
    key: str  # also used in callback data, so keep it short
    kind: FieldKind
    label: str  # message id, shown in the summary and on its edit button
    prompt: str  # message id
    optional: bool = False
    options: tuple[Option, ...] = ()
    catalogue: str | None = None  # CHOICE: take the options from this catalogue kind
    max_length: int = 0  # TEXT and PLACE addresses, in characters as Telegram counts them
    none_label: str = ""  # PLACE: the button that answers "no place"
    # Asked only when this holds (e.g. people reached, for outreach-like activity types);
    # otherwise not asked, not shown, and any answer it had is dropped.
    only_if: AnswerIn | None = None


@dataclass(frozen=True)
class Form:
    kind: str
    title: str  # message id
    fields: tuple[Field, ...]

    def __post_init__(self) -> None:
        keys = [f.key for f in self.fields]
        if len(set(keys)) != len(keys) or not all(key.isidentifier() for key in keys):
            raise ValueError(f"form {self.kind}: field keys must be unique plain words: {keys}")
        for index, spec in enumerate(self.fields):
            # Its condition must be answered before it comes up, so it names an earlier field.
            if spec.only_if is not None and spec.only_if.key not in keys[:index]:
                raise ValueError(
                    f"form {self.kind}: {spec.key} depends on {spec.only_if.key!r},"
                    " which is not an earlier field"
                )

    def field(self, key: str) -> Field | None:
        return next((f for f in self.fields if f.key == key), None)

    def first_step(self) -> str:
        return self.fields[0].key

    def applies(self, spec: Field, data: Mapping[str, Any]) -> bool:
        """Whether the field is asked, given the answers so far (its condition's too)."""
        condition = spec.only_if
        if condition is None:
            return True
        source = self.field(condition.key)
        return (
            source is not None
            and self.applies(source, data)
            and data.get(condition.key) in condition.values
        )

    def applicable(self, data: Mapping[str, Any]) -> tuple[Field, ...]:
        """The fields these answers call for, in order: what the summary lists."""
        return tuple(spec for spec in self.fields if self.applies(spec, data))

    def without_inapplicable(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The answers less those of fields that no longer apply (e.g. the type changed)."""
        dropped = {spec.key for spec in self.fields if not self.applies(spec, data)}
        return {key: value for key, value in data.items() if key not in dropped}

    def step_after(self, key: str, data: Mapping[str, Any] | None = None) -> str:
        """The next field after ``key``; with ``data``, the next one that applies."""
        keys = [f.key for f in self.fields]
        for spec in self.fields[keys.index(key) + 1 :]:
            if data is None or self.applies(spec, data):
                return spec.key
        return SUMMARY_STEP


# Not a valid field key (keys are plain words), so it can never be mistaken for one.
SUMMARY_STEP = "@summary"
MAX_PHOTOS = 10

INCIDENT = Form(
    kind="incident",
    title="incident.title",
    fields=(
        Field("cat", FieldKind.CHOICE, "incident.category", "incident.ask.category",
              catalogue="incident"),
        Field("when", FieldKind.WHEN, "incident.when", "incident.ask.when"),
        Field("place", FieldKind.PLACE, "incident.place", "incident.ask.place",
              max_length=300, none_label="place.unknown"),
        Field("desc", FieldKind.TEXT, "incident.description", "incident.ask.description",
              max_length=1000),
        Field("people", FieldKind.TEXT, "incident.people", "incident.ask.people",
              optional=True, max_length=300),
        Field("photos", FieldKind.PHOTOS, "report.photos", "report.ask.photos", optional=True),
        Field("action", FieldKind.CHOICE, "incident.action", "incident.ask.action",
              options=(
                  Option("on_spot", "incident.action.on_spot"),
                  Option("police", "incident.action.police"),
                  Option("follow_up", "incident.action.follow_up"),
              )),
        Field("urgent", FieldKind.YESNO, "incident.urgent", "incident.ask.urgent",
              options=(
                  Option("yes", "incident.urgent.yes"),
                  Option("no", "incident.urgent.no"),
              )),
    ),
)  # fmt: skip

# Activity types that reach people beyond the team: these also ask how many people (or
# households) were reached, apart from how many team members took part.
REACHING_TYPES = ("LEGAL_OUTREACH", "OFFENDER_SUPPORT", "RESIDENCE_SUPPORT", "MEDIATION")

ACTIVITY = Form(
    kind="activity",
    title="activity.title",
    fields=(
        Field("type", FieldKind.CHOICE, "activity.type", "activity.ask.type",
              catalogue="activity"),
        Field("day", FieldKind.DAY, "activity.day", "activity.ask.day"),
        Field("span", FieldKind.DURATION, "activity.duration", "activity.ask.duration"),
        Field("count", FieldKind.COUNT, "activity.participants", "activity.ask.participants"),
        Field("reached", FieldKind.COUNT, "activity.reached", "activity.ask.reached",
              only_if=AnswerIn("type", REACHING_TYPES)),
        Field("place", FieldKind.PLACE, "activity.place", "activity.ask.place",
              optional=True, max_length=300, none_label="place.skip"),
        Field("summary", FieldKind.TEXT, "activity.summary", "activity.ask.summary",
              max_length=1000),
        Field("photos", FieldKind.PHOTOS, "report.photos", "report.ask.photos", optional=True),
    ),
)  # fmt: skip

FORMS: dict[str, Form] = {form.kind: form for form in (INCIDENT, ACTIVITY)}
