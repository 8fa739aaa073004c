"""Where a member goes next in a form: pure transitions of a draft.

The handlers judge an answer (domain/fields.py), ask ``advance`` what it changes, commit
that change, and only then reply. Nothing here reads the clock or the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain import urgent
from domain.fields import Accept, Keep, Outcome, Reject, Switch
from domain.forms import SUMMARY_STEP, Field, Form
from domain.models import Draft
from domain.values import encode


@dataclass(frozen=True)
class Change:
    """A draft's next state: its stored answers and the question it is on."""

    data: Mapping[str, Any]
    step: str
    mode: str = ""
    editing: bool = False


def missing_fields(form: Form, data: Mapping[str, Any]) -> list[str]:
    """Keys of required fields that apply to these answers and have no answer yet."""
    return [f.key for f in form.applicable(data) if not f.optional and data.get(f.key) is None]


def _next_to_ask(form: Form, data: Mapping[str, Any], key: str) -> str:
    """The next field after ``key`` that applies and was never asked, else the summary.

    In a new report that is simply the next field that applies. When a change made from
    the summary calls for a new field (an activity type that asks how many people were
    reached), that field is asked and the member goes back to the summary, rather than
    through every answer already given.
    """
    step = form.step_after(key, data)
    while step != SUMMARY_STEP and step in data:
        step = form.step_after(step, data)
    return step


def _after(form: Form, data: Mapping[str, Any], step: str) -> str:
    """The step to go to, or the first required field still empty instead of the summary."""
    if step == SUMMARY_STEP and (gaps := missing_fields(form, data)):
        return gaps[0]
    return step


def advance(form: Form, draft: Draft, spec: Field, outcome: Outcome) -> Change | Reject:
    """What one judged answer to the draft's current field changes."""
    if isinstance(outcome, Reject):
        return outcome
    if isinstance(outcome, Switch):
        return Change(draft.data, draft.step, outcome.mode, draft.editing)
    # An answer some other field depended on may leave that field's answer moot: drop it.
    data = form.without_inapplicable({**draft.data, spec.key: encode(spec, outcome.value)})
    if isinstance(outcome, Keep):
        return Change(data, draft.step, draft.mode, draft.editing)
    assert isinstance(outcome, Accept)
    if draft.editing:
        step = SUMMARY_STEP
    elif urgent.is_urgent_first(data):  # what the alert needs first, then the rest
        step = urgent.step_after(form, data, spec.key)
    else:
        step = _next_to_ask(form, data, spec.key)
    return Change(data, _after(form, data, step))


def edit(form: Form, draft: Draft, key: str) -> Change | None:
    """From the summary, go back to one field to change it; None if that is not possible."""
    spec = form.field(key)
    if draft.step != SUMMARY_STEP or spec is None or not form.applies(spec, draft.data):
        return None
    return Change(draft.data, key, editing=True)


def keep(form: Form, draft: Draft) -> Change:
    """Leave the field being edited as it was and go back to the summary."""
    return Change(draft.data, _after(form, draft.data, SUMMARY_STEP))


def ready_to_submit(form: Form, draft: Draft) -> Change | None:
    """None when every required answer is there; else the change to the first one missing."""
    gaps = missing_fields(form, draft.data)
    return Change(draft.data, gaps[0]) if gaps else None


def repair(form: Form, draft: Draft) -> Change | None:
    """Put a draft saved by an older version back on a step this form still has."""
    spec = form.field(draft.step)
    if draft.step == SUMMARY_STEP or (spec is not None and form.applies(spec, draft.data)):
        return None
    return Change(draft.data, _after(form, draft.data, SUMMARY_STEP))
