"""Typed callback data: declared once per button, packed and checked in one place.

A button's data is declared like a dataclass, with a short prefix::

    class AnswerField(CallbackData, prefix="ra"):
        draft: int
        field: str
        value: str

``AnswerField(12, "cat", "THEFT").pack()`` gives ``"ra:12:cat:THEFT"``: the prefix, then
each field in declaration order, separated by ":". Telegram hands the data back verbatim,
but anyone can send any data with a modified client, so ``unpack`` accepts only what
``pack`` could have made and returns None for everything else, never raising:

- int: non-negative, ASCII digits, at most 18 of them, no leading zeros;
- str: one or more of ``A-Z a-z 0-9 _ . -`` (no ":", nothing that needs escaping);
- bool: "0" or "1";
- a StrEnum: one of its values (which must keep to the str charset).

Data over Telegram's 64 bytes is refused when packed, so a too-long button fails where it
is built, in tests, not as a 400 from Telegram in front of a member.
"""

from __future__ import annotations

import dataclasses
import re
from enum import StrEnum
from typing import Any, ClassVar, Self, dataclass_transform, get_type_hints

from domain.day_range import Span
from domain.models import Role
from domain.review import KindFilter, PeriodFilter, StatusFilter, Verdict

# Telegram refuses callback data longer than this many bytes.
CALLBACK_DATA_LIMIT = 64
SEPARATOR = ":"
PREFIX_SHAPE = re.compile(r"[a-z][a-z0-9]{0,2}")
# Explicit ASCII classes: \d and str.isdigit() also accept "²" and other digits.
INT_SHAPE = re.compile(r"0|[1-9][0-9]{0,17}")
STR_SHAPE = re.compile(r"[A-Za-z0-9_.-]+")
BOOL_VALUES = {"0": False, "1": True}

FieldType = type[int] | type[str] | type[bool] | type[StrEnum]


class CallbackRegistry:
    """Every callback data class of the bot by prefix, to unpack any button's data."""

    def __init__(self) -> None:
        self._classes: dict[str, type[CallbackData]] = {}

    def register(self, cls: type[CallbackData]) -> None:
        """Add a class; refuse a prefix another class already has."""
        other = self._classes.get(cls.prefix)
        if other is not None:
            raise ValueError(
                f"callback prefix {cls.prefix!r} of {cls.__qualname__} is taken by "
                f"{other.__qualname__}"
            )
        self._classes[cls.prefix] = cls

    @property
    def classes(self) -> tuple[type[CallbackData], ...]:
        """Return every registered class, in the order they were declared."""
        return tuple(self._classes.values())

    def unpack(self, data: object) -> CallbackData | None:
        """Read data made by any registered class; None for anything else."""
        if not isinstance(data, str):
            return None
        cls = self._classes.get(data.partition(SEPARATOR)[0])
        return cls.unpack(data) if cls is not None else None


REGISTRY = CallbackRegistry()


@dataclass_transform(frozen_default=True)
class CallbackData:
    """A button's data: subclass with ``prefix=`` and annotated fields."""

    prefix: ClassVar[str]
    # Declared so that type checkers know every subclass is a dataclass (it is made one).
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]
    _field_types: ClassVar[tuple[tuple[str, FieldType], ...]]

    def __init_subclass__(
        cls, *, prefix: str, registry: CallbackRegistry = REGISTRY, **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        if not PREFIX_SHAPE.fullmatch(prefix):
            raise ValueError(f"callback prefix {prefix!r}: 1-3 lower-case letters and digits")
        cls.prefix = prefix
        dataclasses.dataclass(frozen=True)(cls)
        # Resolved once here, so an unsupported field type fails at import, not on a tap.
        hints = get_type_hints(cls)
        cls._field_types = tuple(
            (f.name, _field_type(cls, f.name, hints[f.name])) for f in dataclasses.fields(cls)
        )
        registry.register(cls)

    def __post_init__(self) -> None:
        for name, kind in self._field_types:
            _check_value(type(self), name, kind, getattr(self, name))

    def pack(self) -> str:
        """Return the data for a button; ValueError if it would exceed 64 bytes."""
        parts = [self.prefix]
        parts += [_encode(getattr(self, name)) for name, _ in self._field_types]
        data = SEPARATOR.join(parts)
        if len(data.encode("utf-8")) > CALLBACK_DATA_LIMIT:
            raise ValueError(f"callback data over {CALLBACK_DATA_LIMIT} bytes: {data!r}")
        return data

    @classmethod
    def unpack(cls, data: object) -> Self | None:
        """Read data this class made; None for anything else, never an exception."""
        if not isinstance(data, str) or not data.isascii() or len(data) > CALLBACK_DATA_LIMIT:
            return None
        prefix, *pieces = data.split(SEPARATOR)
        if prefix != cls.prefix or len(pieces) != len(cls._field_types):
            return None
        values: dict[str, object] = {}
        for (name, kind), piece in zip(cls._field_types, pieces, strict=True):
            value = _decode(kind, piece)
            if value is None:
                return None
            values[name] = value
        try:
            return cls(**values)
        except (TypeError, ValueError):
            return None  # a subclass's own __post_init__ may refuse what the shapes allow

    @classmethod
    def matches(cls, data: object) -> bool:
        """Say whether data is this class's (a CallbackQueryHandler ``pattern``)."""
        return cls.unpack(data) is not None


def _field_type(cls: type, name: str, hint: object) -> FieldType:
    if hint is bool or hint is int or hint is str:
        return hint
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        bad = [member.value for member in hint if not STR_SHAPE.fullmatch(member.value)]
        if bad:
            raise TypeError(f"{cls.__qualname__}.{name}: {hint.__name__} values {bad} can't pack")
        return hint
    raise TypeError(f"{cls.__qualname__}.{name}: {hint!r} is not int, str, bool or a StrEnum")


def _check_value(cls: type, name: str, kind: FieldType, value: object) -> None:
    # An exact type for int: True is an int to Python, and would pack as "True".
    if kind is bool:
        ok = type(value) is bool
    elif kind is int:
        ok = type(value) is int and INT_SHAPE.fullmatch(str(value)) is not None
    elif kind is str:
        ok = isinstance(value, str) and STR_SHAPE.fullmatch(_encode(value)) is not None
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise ValueError(f"{cls.__qualname__}.{name}: {value!r} can't be packed as {kind}")


def _encode(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, StrEnum):
        return value.value
    return str(value)


def _decode(kind: FieldType, piece: str) -> object | None:
    if kind is bool:
        return BOOL_VALUES.get(piece)
    if kind is int:
        return int(piece) if INT_SHAPE.fullmatch(piece) else None
    if kind is str:
        return piece if STR_SHAPE.fullmatch(piece) else None
    try:
        return kind(piece)
    except ValueError:
        return None


# --- the report flow (handlers/reports.py) ------------------------------------------
# One class per button, all prefixed "r…". The flow's earlier format, "r:<draft>:<a>…",
# is deliberately not a prefix here, so an old button can never be read as a new one.


class AnswerField(CallbackData, prefix="ra"):
    """Answer the draft's current field with a button's value."""

    draft: int
    field: str  # a form field key
    value: str  # an option, a catalogue code (at most 32 characters) or _skip, _done…


class EditField(CallbackData, prefix="re"):
    """Change one field from the summary."""

    draft: int
    field: str


class KeepValue(CallbackData, prefix="rk"):
    """Leave the field being edited as it was."""

    draft: int


class SubmitDraft(CallbackData, prefix="rs"):
    """Submit the draft as a report."""

    draft: int


class DiscardDraft(CallbackData, prefix="rx"):
    """Throw the draft away."""

    draft: int


class ContinueDraft(CallbackData, prefix="rc"):
    """Go back to the open draft instead of starting another report."""

    draft: int


class ReplaceDraft(CallbackData, prefix="rn"):
    """Discard the open draft and start a new report of this kind."""

    draft: int
    kind: str  # a key of domain.forms.FORMS


# --- the menu (handlers/menu.py) ----------------------------------------------------


class ChooseLanguage(CallbackData, prefix="lg"):
    """Switch the member's language."""

    language: str  # one of domain.settings.SUPPORTED_LANGUAGES, checked by the handler


# --- reminders (handlers/deadlines.py) ----------------------------------------------


class StartReport(CallbackData, prefix="sr"):
    """Start a report of a kind, from a reminder."""

    kind: str  # a key of domain.forms.FORMS, checked by the handler


class NothingToday(CallbackData, prefix="nt"):
    """Record "nothing to report" for today, from a reminder."""


# --- leave (handlers/leave.py) ---------------------------------------------------------


class LeaveMember(CallbackData, prefix="lm"):
    """Choose the member to put on leave."""

    member: int


class LeaveDays(CallbackData, prefix="ld"):
    """Put the member on leave for this many days from today; 0 ends their leave."""

    member: int
    days: int


class DigestSpan(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class AskDigest(CallbackData, prefix="dg"):
    """/digest's buttons: today, this week or this month so far."""

    span: DigestSpan


class SameIncident(CallbackData, prefix="du"):
    """Before submitting: "the same incident as report N" (N = 0: a different one)."""

    draft_id: int
    report: int


# --- urgent alerts (handlers/alert_actions.py): checked again on every tap -----------


class AcknowledgeAlert(CallbackData, prefix="aa"):
    """An urgent alert's "Tiếp nhận": the supervisor takes the incident on."""

    report: int


class ResolveAlert(CallbackData, prefix="ar"):
    """An acknowledged alert's "Đã xử lý": the incident has been dealt with."""

    report: int


# --- supervisors' tools: export, invites, members (handlers/export.py, invite.py,
# members.py). Every tap is checked again against the access rules. ------------------


class FileFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


class ExportRange(CallbackData, prefix="exr"):
    """/export: the reports of a span of days, as a file of this format."""

    span: Span
    file: FileFormat


class ExportAs(CallbackData, prefix="exf"):
    """/export: switch the menu to another file format."""

    file: FileFormat


class InviteRole(CallbackData, prefix="ivr"):
    """/invite: the role the invite gives."""

    role: Role


class InviteUnit(CallbackData, prefix="ivu"):
    """/invite: browse the tree at a unit (a hash of its code; "top": the roots)."""

    role: Role
    unit: str
    page: int


class InviteMake(CallbackData, prefix="ivk"):
    """/invite: make the invite into this unit (a hash of its code)."""

    role: Role
    unit: str


class MembersPage(CallbackData, prefix="mbp"):
    """/members: another page of the list."""

    page: int


class DeactivateAsk(CallbackData, prefix="mbd"):
    """/members: ask to confirm deactivating a member (shown from this page)."""

    member: int
    page: int


class DeactivateDo(CallbackData, prefix="mbc"):
    """/members: deactivate the member, confirmed."""

    member: int


# --- reports to review, and members' own reports (handlers/reports_list.py, review.py,
# own_reports.py). Every tap is checked again against the access rules and the report's
# status: a button only names what to look at, never that it may be done. -------------


class ListFilter(StrEnum):
    KIND = "kind"
    STATUS = "status"
    UNIT = "unit"
    PERIOD = "period"


class ReportsPage(CallbackData, prefix="vl"):
    """/reports: one page of the list, with its filters (unit: 0 for all, else the
    position + 1 of a unit among those the asker sees, sorted by code)."""

    kind: KindFilter
    status: StatusFilter
    unit: int
    period: PeriodFilter
    page: int


class ReportsFilter(CallbackData, prefix="vf"):
    """/reports: the choices of one filter (page: of the units offered)."""

    kind: KindFilter
    status: StatusFilter
    unit: int
    period: PeriodFilter
    which: ListFilter
    page: int


class WatchReports(CallbackData, prefix="vw"):
    """/reports: be told (or stop being told) of each new report; the list is redrawn."""

    on: bool
    kind: KindFilter
    status: StatusFilter
    unit: int
    period: PeriodFilter
    page: int


class OpenReport(CallbackData, prefix="vo"):
    """Show one report in full, with its photos, place and history."""

    report: int


class ReviewReport(CallbackData, prefix="va"):
    """A reviewer's verdict on a report (return and reject then ask for a comment)."""

    report: int
    verdict: Verdict


class EditOwnReport(CallbackData, prefix="oe"):
    """/my: reopen one's own report as a draft, to edit it or answer a review."""

    report: int


class WithdrawStep(StrEnum):
    ASK = "ask"
    YES = "yes"
    NO = "no"


class WithdrawOwnReport(CallbackData, prefix="ow"):
    """/my: withdraw one's own report: asked first, then confirmed or not."""

    report: int
    step: WithdrawStep


def unpack(data: object) -> CallbackData | None:
    """Read any of the bot's callback data; None for anything it did not make."""
    return REGISTRY.unpack(data)


# --- no surprises while a report is open (handlers/menu.py, handlers/report/answers.py).
# Each names the draft it was shown for, so the report flow's handler checks it is still
# the open one: a second tap after the draft is gone does nothing. ----------------------


class ReplaceWithNothing(CallbackData, prefix="rnn"):
    """Discard the open draft (or a reopened report's changes), then record "nothing new"
    for today, as the menu button tapped over the open report would have."""

    draft: int


class ConfirmDiscard(CallbackData, prefix="rxc"):
    """The summary's "🗑 Hủy", confirmed: throw the draft away."""

    draft: int


class BackToDraft(CallbackData, prefix="rxb"):
    """The summary's "🗑 Hủy", thought better of: show the summary again."""

    draft: int
