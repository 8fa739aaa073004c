"""The form flow as pure transitions (domain/flow.py) and the typed answer values."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from botapi_sim.driver import ZONE
from domain import flow
from domain.fields import Accept, Keep, Reject, Switch
from domain.forms import ACTIVITY, FORMS, INCIDENT, SUMMARY_STEP, Field, Form
from domain.models import Draft
from domain.reporting import new_report
from domain.values import (
    Address,
    Duration,
    NoPlace,
    PhotoRef,
    Pin,
    Value,
    decode,
    decode_answers,
    encode,
)
from presentation.i18n import Translator
from presentation.render import FormRenderer


def draft(form: Form, step: str, data: dict[str, Any] | None = None, **kw: Any) -> Draft:
    return Draft(1, 1, form.kind, step, kw.get("mode", ""), kw.get("editing", False), data or {})


def spec(form: Form, key: str) -> Field:
    found = form.field(key)
    assert found is not None
    return found


def test_an_accepted_answer_moves_to_the_next_field() -> None:
    change = flow.advance(INCIDENT, draft(INCIDENT, "cat"), spec(INCIDENT, "cat"), Accept("FIRE"))
    assert change == flow.Change({"cat": "FIRE"}, "when")


def test_the_last_field_leads_to_the_summary_when_nothing_is_missing() -> None:
    answered = {
        "cat": "X", "when": "2026-11-26T09:00:00+07:00", "place": {"none": True},
        "desc": "d", "people": None, "photos": None, "action": "police",
    }  # fmt: skip
    before = draft(INCIDENT, "urgent", answered)
    change = flow.advance(INCIDENT, before, spec(INCIDENT, "urgent"), Accept(False))
    assert isinstance(change, flow.Change)
    assert change.step == SUMMARY_STEP
    assert change.data["urgent"] is False


def test_the_summary_is_never_reached_with_a_required_answer_missing() -> None:
    before = draft(INCIDENT, "urgent", {"cat": "X"})
    change = flow.advance(INCIDENT, before, spec(INCIDENT, "urgent"), Accept(True))
    assert isinstance(change, flow.Change)
    assert change.step == "when"


def test_an_edit_goes_back_to_the_summary() -> None:
    before = draft(INCIDENT, "desc", {"desc": "old"}, editing=True)
    change = flow.advance(INCIDENT, before, spec(INCIDENT, "desc"), Accept("new"))
    assert isinstance(change, flow.Change)
    assert (change.step, change.editing, change.data["desc"]) == ("cat", False, "new")


def test_a_switch_stays_on_the_field_in_another_mode() -> None:
    before = draft(INCIDENT, "when", {"cat": "X"})
    change = flow.advance(INCIDENT, before, spec(INCIDENT, "when"), Switch("time"))
    assert change == flow.Change({"cat": "X"}, "when", "time")


def test_keep_stores_and_stays() -> None:
    photos = (PhotoRef("f", "u"),)
    before = draft(INCIDENT, "photos")
    change = flow.advance(
        INCIDENT, before, spec(INCIDENT, "photos"), Keep(photos, "photos.received")
    )
    assert change == flow.Change({"photos": [["f", "u", "photo"]]}, "photos")


def test_a_refusal_changes_nothing() -> None:
    refusal = Reject("error.future")
    before = draft(INCIDENT, "when")
    assert flow.advance(INCIDENT, before, spec(INCIDENT, "when"), refusal) is refusal


def test_edit_only_from_the_summary_and_only_a_real_field() -> None:
    at_summary = draft(INCIDENT, SUMMARY_STEP, {"cat": "X"})
    assert flow.edit(INCIDENT, at_summary, "desc") == flow.Change({"cat": "X"}, "desc", "", True)
    assert flow.edit(INCIDENT, at_summary, "nope") is None
    assert flow.edit(INCIDENT, draft(INCIDENT, "desc"), "cat") is None


def test_a_draft_on_a_step_the_form_lost_is_repaired() -> None:
    stale = draft(INCIDENT, "weather", {"cat": "X"})
    assert flow.repair(INCIDENT, stale) == flow.Change({"cat": "X"}, "when")
    assert flow.repair(INCIDENT, draft(INCIDENT, "cat")) is None


VALUES: list[tuple[Form, str, Value]] = [
    (INCIDENT, "cat", "FIRE_EXPLOSION"),
    (INCIDENT, "when", datetime(2026, 11, 26, 2, 0, tzinfo=UTC)),
    (INCIDENT, "place", Pin(18.67, 105.69, "Chợ Vinh")),
    (INCIDENT, "place", Pin(18.67, 105.69)),
    (INCIDENT, "place", Address("Ngõ 5 & 7")),
    (INCIDENT, "place", NoPlace()),
    (INCIDENT, "photos", (PhotoRef("f", "u"), PhotoRef("d", "v", "document"))),
    (INCIDENT, "urgent", True),
    (ACTIVITY, "day", date(2026, 11, 25)),
    (ACTIVITY, "span", Duration(150, "19:00–21:30")),
    (ACTIVITY, "count", 12),
]


@pytest.mark.parametrize(("form", "key", "value"), VALUES, ids=[repr(v) for *_, v in VALUES])
def test_every_value_survives_its_stored_form(form: Form, key: str, value: Value) -> None:
    field = spec(form, key)
    assert decode(field, encode(field, value)) == value


def test_a_venue_is_stored_and_shown_as_its_title() -> None:
    """One mapping for the report columns: a venue's title is its address."""
    data = {
        "cat": "THEFT", "when": "2026-11-26T09:00:00+07:00",
        "place": encode(spec(INCIDENT, "place"), Pin(18.67, 105.69, "Chợ Vinh")),
        "desc": "Mất ví", "people": None, "photos": None, "action": "police", "urgent": False,
    }  # fmt: skip
    report = new_report(FORMS["incident"], data, ZONE)
    assert (report.latitude, report.longitude, report.address) == (18.67, 105.69, "Chợ Vinh")
    assert decode_answers(INCIDENT, data)["place"] == Pin(18.67, 105.69, "Chợ Vinh")
    renderer = FormRenderer(Translator.load("vi"), "vi", ZONE, {})
    shown = renderer.value(spec(INCIDENT, "place"), Pin(18.67, 105.69, "Chợ Vinh"))
    assert shown == "📍 Chợ Vinh"
