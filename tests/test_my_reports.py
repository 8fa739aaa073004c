"""/my: one compact line a report, no made-up time, and no word cut in half."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime

import pytest

from botapi_sim.driver import ZONE, Harness, Person
from domain.catalogue import MAX_SHORT_LABEL, default_catalogues
from domain.models import CatalogueItem, Report, ReportStatus
from handlers.own_reports import cut_at_word, own_line
from presentation.i18n import Translator
from presentation.render import FormRenderer
from tests.flows import walk_incident

PATROL_NAME = "Tuần tra, canh gác bảo đảm an ninh, trật tự"
LONG_NAME = "Tuần tra, canh gác khu dân cư ban đêm theo lịch của tổ"


async def file_activity(lan: Person, *answers: str) -> None:
    """A patrol of yesterday: the typed duration, three members, no place or photos."""
    await lan.send("/activity")
    await lan.tap("Tuần tra")
    await lan.tap("Hôm qua")
    for answer in answers:
        await lan.send(answer)
    await lan.tap("3")
    await lan.send("⏭ Bỏ qua")
    await lan.send("Tuần tra khu chợ đêm")
    await lan.tap("Bỏ qua")  # photos
    await lan.tap("Gửi báo cáo")


async def my_lines(lan: Person) -> list[str]:
    calls = await lan.send("/my")
    return calls[0].text.splitlines()


async def test_an_activity_without_a_start_time_shows_only_its_date(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/activity")
    await lan.tap("Tuần tra")
    await lan.tap("Hôm qua")
    await lan.tap("2 giờ")
    await lan.tap("3")
    await lan.send("⏭ Bỏ qua")
    await lan.send("Tuần tra khu chợ đêm")
    await lan.tap("Bỏ qua")
    await lan.tap("Gửi báo cáo")
    lines = await my_lines(lan)
    assert "#1 · Tuần tra, canh gác · 25/11 · 2 giờ · 3 người · ⏳ chờ xác minh" in lines
    assert "00:00" not in "\n".join(lines)


async def test_an_activity_with_a_start_time_shows_it(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await file_activity(lan, "19:00-21:30")
    lines = await my_lines(lan)
    assert "#1 · Tuần tra, canh gác · 19:00 25/11 · 2 giờ 30 phút · 3 người · ⏳ chờ xác minh" in (
        lines
    )


async def test_an_incident_shows_its_time_and_status(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await walk_incident(lan)
    await lan.tap("Gửi báo cáo")
    await lan.send("/nothing")
    lines = await my_lines(lan)
    # Newest first; "Vừa xảy ra" at 10:00 on 26/11.
    assert lines[1:3] == [
        "#2 · Không có gì mới · 26/11 · đã gửi",
        "#1 · Trộm cắp tài sản · 10:00 26/11 · ⏳ chờ xác minh",
    ]


async def test_a_long_name_without_a_short_label_is_cut_between_words(
    harness: Harness,
) -> None:
    # A deployment's own name for the item, with no short label for its button.
    with sqlite3.connect(harness.db_path) as connection:
        connection.execute(
            "UPDATE catalogue_items SET name_vi = ?, short_vi = '', short_en = ''"
            " WHERE kind = 'activity' AND code = 'PATROL'",
            (LONG_NAME,),
        )
    await harness.restart()  # the catalogue is read at start-up
    lan = await harness.join(501, "16702-K01")
    await file_activity(lan, "1h")
    lines = await my_lines(lan)
    assert "#1 · Tuần tra, canh gác khu… · 25/11 · 1 giờ · 3 người · ⏳ chờ xác minh" in lines


# --- the line itself (pure) ----------------------------------------------------------------


def report(kind: str, code: str, **changes: object) -> Report:
    fields: dict[str, object] = {
        "id": 7, "kind": kind, "member_id": 1, "unit_code": "16702-K01",
        "category_code": code, "occurred_at": datetime(2026, 11, 27, 14, 30, tzinfo=UTC),
        "period_date": date(2026, 11, 27), "submitted_at": datetime(2026, 11, 27, 15, tzinfo=UTC),
        "latitude": None, "longitude": None, "address": None, "description": "d",
        "people": None, "action_taken": None, "urgent": False, "participants": None,
        "duration_minutes": None, "status": ReportStatus.SUBMITTED,
    }  # fmt: skip
    fields.update(changes)
    return Report(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "vi", "en"),
    [
        (ReportStatus.SUBMITTED, "⏳ chờ xác minh", "⏳ awaiting review"),
        (ReportStatus.RETURNED, "✏️ cần bổ sung", "✏️ more information needed"),
        (ReportStatus.VERIFIED, "✅ đã xác minh", "✅ verified"),
        (ReportStatus.REJECTED, "❌ không tiếp nhận", "❌ rejected"),
        (ReportStatus.WITHDRAWN, "↩️ đã rút", "↩️ withdrawn"),
    ],
)
def test_an_urgent_incident_line_in_both_languages(status: ReportStatus, vi: str, en: str) -> None:
    urgent = report("incident", "THEFT", urgent=True, status=status)
    translator, catalogues = Translator.load("vi"), default_catalogues()
    line = own_line(FormRenderer(translator, "vi", ZONE, catalogues), urgent)
    assert line == f"#7 🚨 · Trộm cắp tài sản · 21:30 27/11 · {vi}"
    line = own_line(FormRenderer(translator, "en", ZONE, catalogues), urgent)
    assert line == f"#7 🚨 · Theft · 21:30 27/11 · {en}"


def test_a_deployment_label_is_escaped_and_an_unknown_code_shown_as_is() -> None:
    item = CatalogueItem("activity", "NIGHT", "Gác <đêm> & sáng", "Night <watch>")
    activity = report("activity", "NIGHT", participants=1, duration_minutes=45)
    renderer = FormRenderer(Translator.load("vi"), "vi", ZONE, {"activity": [item]})
    line = own_line(renderer, activity)
    assert line == "#7 · Gác &lt;đêm&gt; &amp; sáng · 27/11 · 45 phút · 1 người · ⏳ chờ xác minh"
    gone = report("activity", "RETIRED", participants=2, duration_minutes=60)
    assert own_line(renderer, gone).startswith("#7 · RETIRED · 27/11 · 1 giờ")


@pytest.mark.parametrize(
    ("text", "cut"),
    [
        ("Tuần tra", "Tuần tra"),
        ("x" * MAX_SHORT_LABEL, "x" * MAX_SHORT_LABEL),
        (PATROL_NAME, "Tuần tra, canh gác bảo…"),
        ("Nắm tình hình, tiếp nhận và báo tin", "Nắm tình hình, tiếp…"),  # no dangling ","
        ("Hỗ trợ quản lý cư trú, căn cước", "Hỗ trợ quản lý cư trú…"),
        ("Siêu-dài-một-từ-không-có-khoảng-trắng nào", "Siêu-dài-một-từ-không-có-khoảng-trắng…"),
    ],
)
def test_a_label_is_cut_only_between_words(text: str, cut: str) -> None:
    assert cut_at_word(text) == cut
    kept = cut.removesuffix("…")
    assert text.startswith(kept)
    rest = text[len(kept) :]
    assert rest == "" or not rest[0].isalnum()  # the cut falls between two words
