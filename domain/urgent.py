"""Urgent first: an urgent incident reaches the supervisors after three answers.

"🆘 Báo khẩn" starts an incident draft already marked urgent and dated now
(``start_data``). It asks the category, the place and one line of what is happening,
and as soon as those are in (``alert_ready``) the report is submitted and alerted. The
rest of the incident form follows on a draft that reopens the report, from
``follow_up_step``; what it adds (``added``) reaches the same supervisors as a reply to
their alert (handlers/report/urgent.py, handlers/report/resubmit.py). Nothing here reads
the clock or the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from domain.forms import INCIDENT, SUMMARY_STEP, Form
from domain.models import Draft
from domain.values import decode, encode

# The draft's mark: not a field key (keys are plain words), so it never clashes with one.
URGENT_FIRST = "@urgent_first"
# What the alert waits for, in the order it is asked; ``when`` and ``urgent`` are set at
# the start. Everything else is asked after the alert has gone.
ALERT_FIELDS = ("cat", "place", "desc")
# Fields the member does not change in a follow-up: the alert has gone out as urgent.
LOCKED_IN_FOLLOW_UP = frozenset({"urgent"})


def start_data(now: datetime) -> dict[str, Any]:
    """A new urgent-first draft's answers: urgent, happening now."""
    when, urgent = INCIDENT.field("when"), INCIDENT.field("urgent")
    assert when is not None and urgent is not None
    return {URGENT_FIRST: True, "when": encode(when, now), "urgent": encode(urgent, True)}


def is_urgent_first(data: Mapping[str, Any]) -> bool:
    return data.get(URGENT_FIRST) is True


def step_after(form: Form, data: Mapping[str, Any], key: str) -> str:
    """The step after ``key`` in an urgent-first draft: what the alert needs first, then
    the rest of the form, passing over what is already answered."""
    order = [*ALERT_FIELDS, *(f.key for f in form.fields if f.key not in ALERT_FIELDS)]
    if key not in order:
        return SUMMARY_STEP
    for later in order[order.index(key) + 1 :]:
        spec = form.field(later)
        if spec is not None and decode(spec, data.get(later)) is None:
            return later
    return SUMMARY_STEP


def alert_ready(draft: Draft) -> bool:
    """Whether an urgent-first draft not yet sent has what its alert needs."""
    if draft.kind != INCIDENT.kind or draft.report_id is not None:
        return False
    if not is_urgent_first(draft.data):
        return False
    for key in ALERT_FIELDS:
        spec = INCIDENT.field(key)
        if spec is None or decode(spec, draft.data.get(key)) is None:
            return False
    return True


def asks_for_alert(draft: Draft, key: str) -> bool:
    """Whether the question is one an urgent-first draft's alert still waits for."""
    return draft.report_id is None and key in ALERT_FIELDS and is_urgent_first(draft.data)


def follow_up_step(form: Form, data: Mapping[str, Any]) -> str:
    """Where the follow-up draft starts: the first field the alert did not ask."""
    return step_after(form, data, ALERT_FIELDS[-1])


def is_follow_up(draft: Draft) -> bool:
    """A draft that adds to an urgent report already alerted."""
    return draft.report_id is not None and is_urgent_first(draft.data)


def added(form: Form, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The keys of the fields whose answers a follow-up adds, changes or takes back (the
    people first named, then skipped), in form order."""
    return [
        spec.key
        for spec in form.fields
        if spec.key not in LOCKED_IN_FOLLOW_UP
        and (after.get(spec.key) or None) != (before.get(spec.key) or None)
    ]


def new_photos(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[list[str]]:
    """The photos a follow-up adds, as stored: [file_id, unique_id, kind]."""
    seen = {tuple(p[:2]) for p in before.get("photos") or ()}
    return [p for p in after.get("photos") or () if tuple(p[:2]) not in seen]


def just_alerted(draft: Draft) -> bool:
    """A follow-up still on its first question: the alert has just gone, and the member
    may not have seen that it did (their reply was lost to a restart)."""
    return is_follow_up(draft) and draft.step == follow_up_step(INCIDENT, draft.data)
