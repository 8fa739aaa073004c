"""Reviewing reports, and members changing their own: which moves a report's status allows.

Pure functions of a report's status, kind and times: the access rules (domain/access.py)
say *who* may review or change a report; this module says *whether the report, as it
stands now, allows it*. Storage asks it inside the transaction that makes the change, so
a double tap or two reviewers at once find the report already moved on.

A report's review lifecycle::

    submitted ──verify──▶ verified
        │  └────reject──▶ rejected
        ├──return──▶ returned ──resubmit──▶ submitted
        │               └──reject──▶ rejected
        ├──edit (own, in the window, never reviewed)──▶ submitted
        └──withdraw (own, in the window, never reviewed)──▶ withdrawn
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from domain.models import ReportStatus

# How long after submitting a member may still change their own report (BOT_EDIT_WINDOW).
DEFAULT_EDIT_WINDOW = timedelta(hours=2)
MAX_EDIT_WINDOW = timedelta(days=7)
# A reviewer's comment or reason, in characters.
MAX_NOTE_LENGTH = 500
# A reviewer asked for a comment has this long to type it; after that, what they type
# is read as whatever it would have been without the question.
NOTE_PATIENCE = timedelta(hours=1)

# Events that are a reviewer's verdict: once one is recorded, the reporter's own changes
# are over ("after that, only through a review").
REVIEW_EVENTS = frozenset({"verified", "returned", "rejected"})


class Verdict(StrEnum):
    VERIFY = "verify"
    RETURN = "return"  # needs more information: reopened for the reporter
    REJECT = "reject"


# Each verdict's resulting status and the event it is recorded as.
VERDICT_STATUS = {
    Verdict.VERIFY: ReportStatus.VERIFIED,
    Verdict.RETURN: ReportStatus.RETURNED,
    Verdict.REJECT: ReportStatus.REJECTED,
}
VERDICT_EVENT = {
    Verdict.VERIFY: "verified",
    Verdict.RETURN: "returned",
    Verdict.REJECT: "rejected",
}
# Verdicts that need the reviewer's words: what to add, or why not.
NEEDS_NOTE = frozenset({Verdict.RETURN, Verdict.REJECT})

# Which verdicts each status allows. A returned report waits for its reporter; a reviewer
# may still close it (they never answered), but verifies only what was resubmitted.
_REVIEW_MOVES: dict[ReportStatus, tuple[Verdict, ...]] = {
    ReportStatus.SUBMITTED: (Verdict.VERIFY, Verdict.RETURN, Verdict.REJECT),
    ReportStatus.RETURNED: (Verdict.REJECT,),
    ReportStatus.VERIFIED: (),
    ReportStatus.REJECTED: (),
    ReportStatus.WITHDRAWN: (),
}
# Kinds without a form cannot be reopened as a draft: "nothing to report" has no answers.
REOPENABLE_KINDS = frozenset({"incident", "activity"})


def verdicts_for(status: str, kind: str) -> tuple[Verdict, ...]:
    """The verdicts a report in this status, of this kind, allows, in the order shown."""
    known = _status(status)
    moves = _REVIEW_MOVES[known] if known is not None else ()
    return tuple(v for v in moves if v is not Verdict.RETURN or kind in REOPENABLE_KINDS)


def review(status: str, kind: str, verdict: Verdict) -> ReportStatus | None:
    """The status a verdict moves a report to; None if the report does not allow it now."""
    return VERDICT_STATUS[verdict] if verdict in verdicts_for(status, kind) else None


def clean_note(text: str) -> str | None:
    """A reviewer's typed comment, trimmed; None if empty or longer than MAX_NOTE_LENGTH."""
    note = text.strip()
    if not note or len(note) > MAX_NOTE_LENGTH:
        return None
    return note


def note_expired(asked_at: datetime, now: datetime) -> bool:
    """Whether a question for a comment has waited too long to take the next message."""
    return not timedelta(0) <= now - asked_at <= NOTE_PATIENCE


# --- the reporter's own changes -----------------------------------------------------


class OwnChange(StrEnum):
    EDIT = "edit"
    WITHDRAW = "withdraw"


# Why a member may not change their own report now (message ids).
OWN_REVIEWED = "own.reviewed"
OWN_WINDOW_PASSED = "own.window_passed"
OWN_CLOSED = "own.closed"
OWN_NO_FORM = "own.no_form"


@dataclass(frozen=True)
class OwnReport:
    """What decides whether a reporter may still change their report."""

    kind: str
    status: str
    submitted_at: datetime
    reviewed: bool  # any verdict was ever recorded, even if it was resubmitted since


def own_change(
    change: OwnChange, report: OwnReport, now: datetime, window: timedelta
) -> str | None:
    """None if the reporter may make the change now; else the reason (a message id).

    A returned report is reopened through its review, whatever the time: that is how
    the reviewer's question is answered. Otherwise a report may be edited or withdrawn
    only within the window after it was submitted, and only if no reviewer has ever
    given a verdict on it.
    """
    status = _status(report.status)
    if change is OwnChange.EDIT and report.kind not in REOPENABLE_KINDS:
        return OWN_NO_FORM
    if status is ReportStatus.RETURNED:
        return None if change is OwnChange.EDIT else OWN_REVIEWED
    if status in (ReportStatus.VERIFIED, ReportStatus.REJECTED):
        return OWN_REVIEWED
    if status is not ReportStatus.SUBMITTED:
        return OWN_CLOSED  # withdrawn, or a status this version does not know
    if report.reviewed:
        return OWN_REVIEWED
    if not within_window(report.submitted_at, now, window):
        return OWN_WINDOW_PASSED
    return None


def within_window(submitted_at: datetime, now: datetime, window: timedelta) -> bool:
    """Whether a report submitted then may still be changed by its reporter now."""
    # A clock set back before the submission counts as no time passed.
    return now - submitted_at <= window


@dataclass(frozen=True)
class Resubmission:
    event: str  # "resubmitted" (answering a review) or "edited" (the reporter's own)
    own: bool  # the reporter's own edit: bound by the window and the review rule


def resubmission(status: str) -> Resubmission | None:
    """What submitting a reopened draft of a report in this status records; None if the
    report can no longer take it (verified, rejected or withdrawn meanwhile)."""
    match _status(status):
        case ReportStatus.RETURNED:
            return Resubmission("resubmitted", own=False)
        case ReportStatus.SUBMITTED:
            return Resubmission("edited", own=True)
        case _:
            return None


# --- listing reports to review ------------------------------------------------------


class KindFilter(StrEnum):
    ALL = "all"
    INCIDENT = "incident"
    ACTIVITY = "activity"
    NOTHING = "nothing"


class StatusFilter(StrEnum):
    ALL = "all"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    VERIFIED = "verified"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class PeriodFilter(StrEnum):
    ALL = "all"
    TODAY = "today"
    WEEK = "7d"
    MONTH = "30d"


_PERIOD_DAYS = {PeriodFilter.TODAY: 1, PeriodFilter.WEEK: 7, PeriodFilter.MONTH: 30}


def period_start(period: PeriodFilter, now: datetime, zone: ZoneInfo) -> datetime | None:
    """The first moment a period filter takes in (UTC); None for all time.

    Whole local days: "7 days" is today and the six before it, from local midnight.
    """
    days = _PERIOD_DAYS.get(period)
    if days is None:
        return None
    first: date = now.astimezone(zone).date() - timedelta(days=days - 1)
    return datetime.combine(first, time(0, 0), tzinfo=zone).astimezone(UTC)


def page_count(total: int, per_page: int) -> int:
    """How many pages a list of this many has; an empty list still has its one page."""
    return max(1, -(-total // per_page))


def clamp_page(page: int, total: int, per_page: int) -> int:
    """A page number that exists (a forged or stale one is brought in range)."""
    return min(max(page, 0), page_count(total, per_page) - 1)


# --- BOT_EDIT_WINDOW ----------------------------------------------------------------

_WINDOW = re.compile(r"^(\d{1,5})\s*([mhd])$")
_WINDOW_UNITS = {"m": 60, "h": 3600, "d": 86400}


def parse_edit_window(text: str) -> timedelta | None:
    """Read "2h", "90m", "1d" or "0" (members never change a sent report); None if not
    such a duration or longer than MAX_EDIT_WINDOW."""
    value = text.strip().lower()
    if value == "0":
        return timedelta(0)
    match = _WINDOW.match(value)
    if match is None:
        return None
    window = timedelta(seconds=int(match.group(1)) * _WINDOW_UNITS[match.group(2)])
    return window if window <= MAX_EDIT_WINDOW else None


def _status(status: str) -> ReportStatus | None:
    try:
        return ReportStatus(status)
    except ValueError:
        return None
