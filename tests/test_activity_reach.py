"""Activity numbers mean one thing: team members who took part, and, for outreach-like
types only, the people or households reached, asked as a question of its own."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import zipfile
from datetime import timedelta
from typing import Any
from xml.etree import ElementTree

import pytest

from botapi_sim.driver import ZONE, Harness, Person
from domain import flow
from domain.catalogue import default_catalogues
from domain.fields import Accept
from domain.forms import (
    ACTIVITY,
    REACHING_TYPES,
    SUMMARY_STEP,
    AnswerIn,
    Field,
    FieldKind,
    Form,
)
from domain.models import Draft, Role
from domain.reporting import new_report
from handlers.context import services_of
from storage.digests import digest_data

REACHED_ASKED = "được tuyên truyền, vận động, giúp đỡ"
COUNT_ASKED = "Có bao nhiêu tổ viên"
# An outreach's answers up to (not including) the people reached.
OUTREACH = {
    "type": "LEGAL_OUTREACH", "day": "2026-11-25", "span": {"minutes": 120, "span": ""},
    "count": 3,
}  # fmt: skip
PATROL_DONE = {
    "type": "PATROL", "day": "2026-11-25", "span": {"minutes": 120, "span": ""}, "count": 3,
    "place": {"none": True}, "summary": "Tuần tra khu chợ", "photos": None,
}  # fmt: skip


def draft(step: str, data: dict[str, Any], editing: bool = False) -> Draft:
    return Draft(1, 1, ACTIVITY.kind, step, "", editing, data)


def field(key: str) -> Field:
    spec = ACTIVITY.field(key)
    assert spec is not None
    return spec


# --- the form's declaration and its steps (pure) ------------------------------------------


def test_reached_is_declared_for_the_outreach_like_types_only() -> None:
    reached = field("reached")
    assert reached.kind is FieldKind.COUNT and not reached.optional
    assert reached.only_if == AnswerIn("type", REACHING_TYPES)
    assert set(REACHING_TYPES) == {
        "LEGAL_OUTREACH", "OFFENDER_SUPPORT", "RESIDENCE_SUPPORT", "MEDIATION",
    }  # fmt: skip
    codes = {item.code for item in default_catalogues()["activity"]}
    assert set(REACHING_TYPES) <= codes  # no typo that would never match


@pytest.mark.parametrize("kind", ["PATROL", "TEAM_MEETING", "TRAINING", None])
def test_a_type_that_reaches_nobody_goes_from_participants_to_the_place(
    kind: str | None,
) -> None:
    assert ACTIVITY.step_after("count", {"type": kind}) == "place"
    assert not ACTIVITY.applies(field("reached"), {"type": kind})


@pytest.mark.parametrize("kind", REACHING_TYPES)
def test_an_outreach_asks_participants_then_people_reached(kind: str) -> None:
    assert ACTIVITY.step_after("span", {"type": kind}) == "count"
    assert ACTIVITY.step_after("count", {"type": kind}) == "reached"
    assert ACTIVITY.step_after("reached", {"type": kind}) == "place"


def test_without_answers_step_after_walks_every_field() -> None:
    assert ACTIVITY.step_after("count") == "reached"


def test_the_summary_lists_only_the_fields_that_apply() -> None:
    keys = [spec.key for spec in ACTIVITY.applicable({"type": "PATROL"})]
    assert keys == ["type", "day", "span", "count", "place", "summary", "photos"]
    keys = [spec.key for spec in ACTIVITY.applicable({"type": "MEDIATION"})]
    assert keys == ["type", "day", "span", "count", "reached", "place", "summary", "photos"]


def test_people_reached_is_required_only_where_it_applies() -> None:
    assert flow.missing_fields(ACTIVITY, PATROL_DONE) == []
    outreach = {**PATROL_DONE, "type": "LEGAL_OUTREACH"}
    assert flow.missing_fields(ACTIVITY, outreach) == ["reached"]
    assert flow.missing_fields(ACTIVITY, {**outreach, "reached": 40}) == []


def test_answering_participants_of_an_outreach_asks_people_reached_next() -> None:
    change = flow.advance(ACTIVITY, draft("count", {**OUTREACH, "count": None}),
                          field("count"), Accept(3))  # fmt: skip
    assert isinstance(change, flow.Change)
    assert (change.step, change.data["count"]) == ("reached", 3)
    change = flow.advance(ACTIVITY, draft("reached", OUTREACH), field("reached"), Accept(40))
    assert isinstance(change, flow.Change)
    assert (change.step, change.data["reached"]) == ("place", 40)


def test_a_type_changed_to_patrol_drops_the_people_reached() -> None:
    done = {**PATROL_DONE, "type": "LEGAL_OUTREACH", "reached": 40}
    change = flow.advance(
        ACTIVITY, draft("type", done, editing=True), field("type"), Accept("PATROL")
    )
    assert isinstance(change, flow.Change)
    assert change.step == SUMMARY_STEP
    assert "reached" not in change.data
    assert change.data == {**PATROL_DONE}


def test_a_type_changed_to_outreach_asks_people_reached_then_the_summary() -> None:
    change = flow.advance(
        ACTIVITY, draft("type", PATROL_DONE, editing=True), field("type"), Accept("MEDIATION")
    )
    assert isinstance(change, flow.Change)
    assert (change.step, change.data["type"]) == ("reached", "MEDIATION")
    # Once answered, back to the summary: every other answer was given already.
    after = draft(change.step, dict(change.data), editing=change.editing)
    change = flow.advance(ACTIVITY, after, field("reached"), Accept(12))
    assert isinstance(change, flow.Change)
    assert (change.step, change.data["reached"]) == (SUMMARY_STEP, 12)


def test_a_field_that_does_not_apply_cannot_be_edited_or_stood_on() -> None:
    at_summary = draft(SUMMARY_STEP, PATROL_DONE)
    assert flow.edit(ACTIVITY, at_summary, "reached") is None
    assert flow.edit(ACTIVITY, at_summary, "count") is not None
    outreach = draft(SUMMARY_STEP, {**PATROL_DONE, "type": "MEDIATION", "reached": 5})
    assert flow.edit(ACTIVITY, outreach, "reached") == flow.Change(
        outreach.data, "reached", "", True
    )
    # A draft left on the question when the type no longer asks it moves on.
    stranded = draft("reached", PATROL_DONE)
    assert flow.repair(ACTIVITY, stranded) == flow.Change(PATROL_DONE, SUMMARY_STEP)


def test_a_condition_must_name_an_earlier_field() -> None:
    later = Field("n", FieldKind.COUNT, "l", "p", only_if=AnswerIn("kind", ("A",)))
    first = Field("kind", FieldKind.CHOICE, "l", "p")
    with pytest.raises(ValueError, match="earlier field"):
        Form("x", "t", (later, first))
    assert Form("x", "t", (first, later)).step_after("kind", {"kind": "B"}) == SUMMARY_STEP


def test_a_field_depending_on_one_that_does_not_apply_does_not_apply_either() -> None:
    kind = Field("kind", FieldKind.CHOICE, "l", "p")
    sub = Field("sub", FieldKind.CHOICE, "l", "p", only_if=AnswerIn("kind", ("A",)))
    deep = Field("deep", FieldKind.COUNT, "l", "p", only_if=AnswerIn("sub", ("S",)))
    form = Form("x", "t", (kind, sub, deep))
    assert [f.key for f in form.applicable({"kind": "A", "sub": "S"})] == ["kind", "sub", "deep"]
    assert [f.key for f in form.applicable({"kind": "B", "sub": "S"})] == ["kind"]
    assert form.without_inapplicable({"kind": "B", "sub": "S", "deep": 3, "@mark": 1}) == {
        "kind": "B",
        "@mark": 1,  # not a field's answer: kept as it was
    }


def test_the_report_keeps_people_reached_only_where_it_applies() -> None:
    outreach = {**PATROL_DONE, "type": "LEGAL_OUTREACH", "reached": 40}
    report = new_report(ACTIVITY, outreach, ZONE)
    assert (report.participants, report.data["reached"]) == (3, 40)
    # A stray answer (a draft from before a type change) never reaches the report.
    report = new_report(ACTIVITY, {**PATROL_DONE, "reached": 40}, ZONE)
    assert report.participants == 3 and "reached" not in report.data


# --- through the bot -----------------------------------------------------------------------


def texts_of(calls: list[Any]) -> str:
    return "\n".join(str(call.params.get("text", "")) for call in calls)


async def start_activity(lan: Person, kind: str) -> list[Any]:
    """Answer up to and including the team members who took part; the calls since."""
    calls = await lan.send("/activity")
    calls += await lan.tap(kind)
    calls += await lan.tap("Hôm qua")
    calls += await lan.tap("2 giờ")
    calls += await lan.tap("3")
    return calls


async def finish_activity(lan: Person, summary: str) -> list[Any]:
    """From the place question to the summary."""
    calls = await lan.send("⏭ Bỏ qua")
    calls += await lan.send(summary)
    calls += await lan.tap("Bỏ qua")  # photos
    return calls


def xlsx_records(content: bytes) -> list[dict[str, str | float]]:
    """The first sheet's rows under its header: text as text, numbers as numbers."""
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))  # noqa: S314
        strings = []
        if "xl/sharedStrings.xml" in archive.namelist():
            shared = ElementTree.fromstring(archive.read("xl/sharedStrings.xml"))  # noqa: S314
            strings = ["".join(t.text or "" for t in si.iter(f"{main}t")) for si in shared]
    rows: list[dict[str, str | float]] = []
    for row in sheet.iter(f"{main}row"):
        cells: dict[str, str | float] = {}
        for cell in row.iter(f"{main}c"):
            column = re.sub(r"\d", "", cell.get("r", ""))
            value = cell.find(f"{main}v")
            if cell.get("t") == "inlineStr":
                cells[column] = "".join(t.text or "" for t in cell.iter(f"{main}t"))
            elif value is not None and cell.get("t") == "s":
                cells[column] = strings[int(value.text or 0)]
            elif value is not None:
                cells[column] = float(value.text or 0)
        rows.append(cells)
    header, *body = rows
    return [{str(header[c]): v for c, v in cells.items()} for cells in body]


def report_data(harness: Harness) -> dict[str, Any]:
    with sqlite3.connect(harness.db_path) as connection:
        (data,) = connection.execute("SELECT data FROM reports").fetchone()
    loaded: dict[str, Any] = json.loads(data)
    return loaded


async def test_a_patrol_asks_no_people_reached_question(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    calls = await start_activity(lan, "Tuần tra")
    assert COUNT_ASKED in texts_of(calls)
    assert "Hoạt động ở đâu?" in calls[-1].text  # straight from team members to the place
    calls += await finish_activity(lan, "Tuần tra khu chợ đêm")
    assert REACHED_ASKED not in texts_of(calls)
    summary = calls[-1].text
    assert "Số tổ viên tham gia: 3 người" in summary
    assert "tuyên truyền" not in summary
    with pytest.raises(AssertionError):
        lan.find_button("Số người/hộ")  # no edit button for a question never asked
    await lan.tap("Gửi báo cáo")
    assert "reached" not in report_data(harness)


async def test_an_outreach_asks_both_numbers_in_order_and_shows_and_exports_both(
    harness: Harness,
) -> None:
    lan = await harness.join(501, "16702-K01")
    calls = await start_activity(lan, "Tuyên truyền")
    assert COUNT_ASKED in texts_of(calls)
    assert REACHED_ASKED in calls[-1].text  # asked right after the team members
    calls = await lan.send("40")
    calls += await finish_activity(lan, "Tuyên truyền Luật Cư trú tại nhà văn hóa")
    summary = calls[-1].text
    members = summary.index("Số tổ viên tham gia: 3 người")
    reached = summary.index("Số người/hộ dân (ngoài tổ viên): 40")
    assert members < reached
    await lan.tap("Gửi báo cáo")
    with sqlite3.connect(harness.db_path) as connection:
        assert connection.execute("SELECT participants FROM reports").fetchall() == [(3,)]
    assert report_data(harness)["reached"] == 40

    # Both numbers, each in its own column, in the supervisor's XLSX and CSV exports.
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    await hung.send("/export")
    await hung.tap("Tháng này")
    await hung.send("/export")
    await hung.tap("CSV")
    await hung.tap("Tháng này")
    book, table = harness.telegram.api.uploads(900)
    (row,) = xlsx_records(book.content)
    assert (row["Số tổ viên tham gia"], row["Số người/hộ dân (ngoài tổ viên)"]) == (3, 40)
    (record,) = csv.DictReader(io.StringIO(table.content.decode("utf-8-sig")))
    assert (record["Số tổ viên tham gia"], record["Số người/hộ dân (ngoài tổ viên)"]) == ("3", "40")
    # And the digest reads both, for its spreadsheet.
    now = harness.now
    data = await digest_data(
        harness.db, now - timedelta(days=1), now + timedelta(minutes=1), ZONE,
        services_of(harness.application).settings.thresholds, now - timedelta(days=1),
    )  # fmt: skip
    (outreach,) = data.reports
    assert (outreach.participants, outreach.reached) == (3, 40)


async def test_changing_the_type_from_the_summary_asks_or_drops_people_reached(
    harness: Harness,
) -> None:
    lan = await harness.join(501, "16702-K01")
    await start_activity(lan, "Tuần tra")
    await finish_activity(lan, "Tuyên truyền và tuần tra khu chợ")
    # Patrol → outreach: the one new question, then straight back to the summary.
    await lan.tap("Loại hoạt động")
    calls = await lan.tap("Tuyên truyền")
    assert REACHED_ASKED in calls[-1].text
    calls = await lan.send("25")
    summary = calls[-1].text
    assert "Số người/hộ dân (ngoài tổ viên): 25" in summary
    assert "Tuyên truyền và tuần tra khu chợ" in summary  # nothing asked again
    lan.find_button("Gửi báo cáo")
    # Outreach → patrol: the answer no longer applies and is dropped.
    await lan.tap("Loại hoạt động")
    calls = await lan.tap("Tuần tra")
    summary = calls[-1].text
    assert "Loại hoạt động: Tuần tra" in summary
    assert "tuyên truyền, vận động" not in summary
    await lan.tap("Gửi báo cáo")
    data = report_data(harness)
    assert data["type"] == "PATROL" and "reached" not in data
