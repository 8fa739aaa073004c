"""Where a member goes next in a form: pure transitions of a draft.

The handlers judge an answer (domain/fields.py), ask ``advance`` what it changes, commit
that change, and only then reply. Nothing here reads the clock or the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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
    """Keys of required fields that have no answer yet."""
    return [f.key for f in form.fields if not f.optional and data.get(f.key) is None]


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
    data = {**draft.data, spec.key: encode(spec, outcome.value)}
    if isinstance(outcome, Keep):
        return Change(data, draft.step, draft.mode, draft.editing)
    assert isinstance(outcome, Accept)
    step = SUMMARY_STEP if draft.editing else form.step_after(spec.key)
    return Change(data, _after(form, data, step))


def edit(form: Form, draft: Draft, key: str) -> Change | None:
    """From the summary, go back to one field to change it; None if that is not possible."""
    if draft.step != SUMMARY_STEP or form.field(key) is None:
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
    if draft.step == SUMMARY_STEP or form.field(draft.step) is not None:
        return None
    return Change(draft.data, _after(form, draft.data, SUMMARY_STEP))
