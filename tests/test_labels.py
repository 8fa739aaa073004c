"""Catalogue buttons fit a phone; summaries and alerts say things the way the force does."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from botapi_sim.driver import Harness, Person
from domain.catalogue import (
    DEFAULT_FILES,
    MAX_SHORT_LABEL,
    default_catalogue,
    default_catalogues,
    read_catalogue,
)
from domain.forms import FORMS, INCIDENT, FieldKind
from domain.models import Member, Role, Unit
from presentation.i18n import LOCALES_DIR, Translator
from presentation.render import FormRenderer
from storage.catalogue import all_catalogues, seed_catalogues
from storage.db import Database
from tests.flows import submit_urgent, walk_incident

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
DISORDER = "Gây rối trật tự công cộng (tụ tập gây rối, đua xe trái phép)"
# A phone shows about nine rows of buttons under a question without scrolling.
MAX_ROWS = 9


def rows_of(person: Person) -> list[list[str]]:
    """The labels of the newest inline keyboard, row by row, as Telegram lays them out."""
    markup: dict[str, Any] = person.last_buttons_call().json["reply_markup"]
    return [[button["text"] for button in row] for row in markup["inline_keyboard"]]


def assert_two_columns(rows: list[list[str]], labels: list[str]) -> None:
    """Every row holds two catalogue buttons in catalogue order; only the last may hold one."""
    assert [label for row in rows for label in row] == labels
    assert all(len(row) == 2 for row in rows[:-1]), rows
    assert len(rows[-1]) in (1, 2)
    assert len(rows) <= MAX_ROWS


# --- the shipped labels -----------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(DEFAULT_FILES))
@pytest.mark.parametrize("language", ["vi", "en"])
def test_every_shipped_item_has_a_short_label_that_fits_half_a_phone(
    kind: str, language: str
) -> None:
    items = default_catalogue(kind)
    labels = [item.short(language) for item in items]
    too_long = [label for label in labels if len(label) > MAX_SHORT_LABEL]
    assert too_long == []
    # Each label is its own (not the fallback to a long name) and tells the items apart.
    assert all(item.short_vi and item.short_en for item in items)
    assert len(set(labels)) == len(labels)
    # The full legal name is kept for the summary, the alert and the files.
    assert any(len(item.name(language)) > MAX_SHORT_LABEL for item in items)


def test_a_deployment_file_with_the_old_header_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "old.csv"
    long_name = "Chó thả rông không rọ mõm, gây nguy hiểm cho người đi đường"
    path.write_text(
        f'code,vi,en\nLOST_DOG,Chó lạc,Lost dog\nLOOSE_DOG,"{long_name}",Loose dog\n',
        encoding="utf-8",
    )
    lost, loose = read_catalogue("incident", path)
    assert (lost.short("vi"), lost.short("en")) == ("Chó lạc", "Lost dog")
    assert loose.short("vi") == long_name == loose.name("vi")
    path.write_text("code,vi,en,short\nA,Một,One,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="header"):
        read_catalogue("incident", path)


async def test_a_deployment_seeded_before_short_labels_gets_them(tmp_path: Path) -> None:
    db = Database(tmp_path / "bot.sqlite3")
    await db.open()
    try:
        assert await seed_catalogues(db, default_catalogues()) == ["incident", "activity"]

        def as_before_labels(tx: Any) -> None:
            # What migration 0010 leaves of a deployment seeded before it: no labels; and
            # one item the deployment renamed itself.
            tx.execute("UPDATE catalogue_items SET short_vi = '', short_en = ''")
            tx.execute(
                "UPDATE catalogue_items SET name_vi = 'Trộm chó, trộm gia súc'"
                " WHERE kind = 'incident' AND code = 'THEFT'"
            )

        await db.write(as_before_labels)
        assert await seed_catalogues(db, default_catalogues()) == []  # nothing reloaded
        loaded = await all_catalogues(db)
    finally:
        await db.close()
    shipped = default_catalogues()
    for kind, items in loaded.items():
        for item, default in zip(items, shipped[kind], strict=True):
            if item.code == "THEFT":
                # The deployment's own name: no shipped label is pinned on it.
                assert (item.short_vi, item.short("vi")) == ("", "Trộm chó, trộm gia súc")
            else:
                assert (item.short_vi, item.short_en) == (default.short_vi, default.short_en)


def offender_support(rows: dict[str, list[Any]]) -> tuple[str, str]:
    (item,) = [item for item in rows["activity"] if item.code == "OFFENDER_SUPPORT"]
    return item.short_vi, item.short_en


async def seeded_then(tmp_path: Path, sql: str, *params: str) -> tuple[str, str]:
    """OFFENDER_SUPPORT's labels after a start, once the database was changed by ``sql``."""
    db = Database(tmp_path / "bot.sqlite3")
    await db.open()
    try:
        await seed_catalogues(db, default_catalogues())
        await db.write(
            lambda tx: tx.execute(
                sql + " WHERE kind = 'activity' AND code = 'OFFENDER_SUPPORT'", params
            )
        )
        assert await seed_catalogues(db, default_catalogues()) == []  # nothing reloaded
        return offender_support(await all_catalogues(db))
    finally:
        await db.close()


NEW_LABELS = ("Giáo dục người vi phạm", "Supporting ex-offenders")


def test_the_shipped_offender_label_says_what_the_work_is() -> None:
    (item,) = [i for i in default_catalogue("activity") if i.code == "OFFENDER_SUPPORT"]
    assert (item.short_vi, item.short_en) == NEW_LABELS
    assert all(len(label) <= MAX_SHORT_LABEL for label in NEW_LABELS)


async def test_a_deployment_with_the_old_shipped_label_gets_the_new_one(tmp_path: Path) -> None:
    labels = await seeded_then(
        tmp_path,
        "UPDATE catalogue_items SET short_vi = ?, short_en = ?",
        "Giúp người vi phạm",
        "Helping offenders",
    )
    assert labels == NEW_LABELS


async def test_a_label_the_deployment_chose_itself_is_kept(tmp_path: Path) -> None:
    labels = await seeded_then(
        tmp_path,
        "UPDATE catalogue_items SET short_vi = ?, short_en = ?",
        "Cảm hóa, giáo dục",
        "Helping offenders",  # English still as shipped before: replaced
    )
    assert labels == ("Cảm hóa, giáo dục", "Supporting ex-offenders")


async def test_a_deployment_that_renamed_in_one_language_gets_the_others_label(
    tmp_path: Path,
) -> None:
    # It corrected the English name only: the Vietnamese label still arrives, the English
    # one (the deployment's own name now) is left to the deployment.
    labels = await seeded_then(
        tmp_path,
        "UPDATE catalogue_items SET name_en = ?, short_vi = '', short_en = ''",
        "Re-educating offenders living in the area",
    )
    assert labels == ("Giáo dục người vi phạm", "")
    labels = await seeded_then(
        tmp_path / "other",
        "UPDATE catalogue_items SET name_vi = ?, short_vi = ?, short_en = ?",
        "Giúp đỡ người vi phạm pháp luật",
        "Giúp người vi phạm",
        "Helping offenders",
    )
    assert labels == ("Giúp người vi phạm", "Supporting ex-offenders")


def test_a_deployment_label_too_long_for_half_a_phone_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "activity.csv"
    long_label = "Tuần tra canh gác ban đêm khu phố"
    path.write_text(
        f"code,vi,en,short_vi,short_en\nNIGHT,Tuần tra đêm,Night patrol,{long_label},Night\n"
        "DAY,Tuần tra ngày,Day patrol,Ban ngày,Day\n",
        encoding="utf-8",
    )
    with caplog.at_level("WARNING", logger="domain.catalogue"):
        night, day = read_catalogue("activity", path)
    # Loaded all the same (its button gets a row of its own); the short one is not logged.
    assert (night.short("vi"), day.short("vi")) == (long_label, "Ban ngày")
    assert len(caplog.records) == 1, caplog.text
    logged = caplog.records[0].getMessage()
    assert len(long_label) == 33
    assert all(part in logged for part in (str(path), "NIGHT", long_label, "33", "24"))
    caplog.clear()
    with caplog.at_level("WARNING", logger="domain.catalogue"):
        default_catalogues()
    assert caplog.records == []


# --- the buttons, as the member gets them -----------------------------------------------


async def test_category_buttons_are_short_and_two_to_a_row(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/incident")
    incident = default_catalogue("incident")
    assert_two_columns(rows_of(lan), [item.short("vi") for item in incident])
    assert len(rows_of(lan)) == 8  # 16 categories, not 16 rows


async def test_activity_buttons_are_short_and_two_to_a_row(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/activity")
    activity = default_catalogue("activity")
    assert_two_columns(rows_of(lan), [item.short("vi") for item in activity])


async def test_english_buttons_use_the_english_short_labels(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/language")
    await lan.tap("English")
    await lan.send("/incident")
    assert_two_columns(rows_of(lan), [item.short("en") for item in default_catalogue("incident")])


async def test_the_summary_and_the_echo_name_the_category_in_full(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await walk_incident(lan)
    calls = await lan.tap("✏️ Loại việc")
    rows = rows_of(lan)
    # Editing: the catalogue in pairs, then the row that keeps the answer.
    assert rows[-1] == ["↩️ Giữ nguyên"]
    assert_two_columns(rows[:-1], [item.short("vi") for item in default_catalogue("incident")])
    calls = await lan.tap("Gây rối trật tự")
    assert f"→ {DISORDER}" in calls[-1].text  # the tapped button, named in full
    assert f"Loại việc: {DISORDER}" in calls[-1].text
    await lan.tap("Gửi báo cáo")
    with sqlite3.connect(harness.db_path) as connection:
        assert connection.execute("SELECT category_code FROM reports").fetchall() == [
            ("PUBLIC_DISORDER",)
        ]


async def test_a_long_name_without_a_short_label_gets_a_row_of_its_own(
    harness: Harness,
) -> None:
    long_name = "Gây rối trật tự công cộng, tụ tập đông người ban đêm"
    with sqlite3.connect(harness.db_path) as connection:
        connection.execute(
            "UPDATE catalogue_items SET name_vi = ?, short_vi = '', short_en = ''"
            " WHERE kind = 'incident' AND code = 'PUBLIC_DISORDER'",
            (long_name,),
        )
    await harness.restart()  # the catalogue is read at start-up
    lan = await harness.join(501, "16702-K01")
    await lan.send("/incident")
    rows = rows_of(lan)
    assert rows[:3] == [
        ["Trộm cắp tài sản", "Cướp, cướp giật"],
        [long_name],
        ["Đánh nhau", "Bạo lực gia đình"],
    ]
    assert [len(row) for row in rows[3:]] == [2, 2, 2, 2, 2, 1]
    calls = await lan.tap(long_name)
    assert f"→ {long_name}" in calls[-1].text


# --- the summary and the alert ----------------------------------------------------------


async def test_summary_reads_level_unknown_people_and_a_pin_without_coordinates(
    harness: Harness,
) -> None:
    lan = await harness.join(501, "16702-K01")
    await walk_incident(lan)
    summary = lan.last_buttons_call().text
    assert "Mức độ: Bình thường" in summary
    assert "Khẩn cấp:" not in summary
    assert "Người liên quan: (chưa rõ)" in summary
    assert "Địa điểm: 📍 Vị trí trên bản đồ" in summary
    assert "18.67" not in summary and "105.68" not in summary
    # The answer to the place question named the pin once, with no coordinates either.
    [echo] = [m.text for m in lan.messages() if m.text.startswith("✅ Địa điểm")]
    assert echo.startswith("✅ Địa điểm: 📍 Vị trí trên bản đồ")
    assert echo.count("📍") == 1


async def test_urgent_alert_links_the_pin_to_a_map_and_still_sends_it(harness: Harness) -> None:
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01")
    await submit_urgent(lan)
    alert, location = next(
        (call, after)
        for call, after in zip(supervisor.calls(), supervisor.calls()[1:], strict=False)
        if call.method == "sendMessage" and "KHẨN CẤP" in call.text
    )
    assert (
        '• Địa điểm: 📍 <a href="https://maps.google.com/?q=18.679600,105.681300">'
        "Xem vị trí trên bản đồ</a>"
    ) in alert.params["text"]
    assert "Mức độ: 🚨 Khẩn cấp" in alert.text
    assert "18.6796," not in alert.text  # the link, not the numbers, is what is shown
    assert location.method == "sendLocation"
    assert (location.params["latitude"], location.params["longitude"]) == (18.6796, 105.6813)
    # The member's own summary before sending said the same level.
    assert any("Mức độ: 🚨 Khẩn cấp" in m.text for m in lan.messages())


def renderer(language: str) -> FormRenderer:
    return FormRenderer(Translator.load("vi"), language, ZONE, default_catalogues())


def incident_data(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "cat": "DRUGS",
        "when": "2026-11-26T09:30:00+07:00",
        "place": {"lat": -8.5, "lon": 115.123456789, "title": None},
        "desc": "Tụ tập sử dụng ma túy",
        "people": None,
        "photos": None,
        "action": "police",
        "urgent": False,
    }
    return {**data, **changes}


def test_english_summary_wording() -> None:
    summary = renderer("en").summary(INCIDENT, incident_data())
    assert "• Priority: Normal" in summary
    assert "• People involved: <i>(unknown)</i>" in summary
    assert "• Place: 📍 Location on the map" in summary
    assert "• Category: Drugs (illegal use, possession, dealing)" in summary
    urgent = renderer("en").summary(INCIDENT, incident_data(urgent=True))
    assert "• Priority: 🚨 Urgent" in urgent


def test_a_venue_in_the_alert_is_its_escaped_title_with_a_map_link() -> None:
    venue = {"lat": 18.67, "lon": 105.69, "title": 'Quán "Cây Si" <số 5> & chợ'}
    reporter = Member(1, 501, 501, "Lan", None, "16702-K01", Role.MEMBER, "vi")
    unit = Unit("16702-K01", "Khối 1", None)
    moment = datetime(2026, 11, 26, 2, 30, tzinfo=UTC)
    data = incident_data(place=venue, urgent=True)
    alert = renderer("vi").alert(7, "incident", data, reporter, unit, moment)
    assert (
        '• Địa điểm: 📍 Quán "Cây Si" &lt;số 5&gt; &amp; chợ'
        ' (<a href="https://maps.google.com/?q=18.670000,105.690000">xem bản đồ</a>)'
    ) in alert
    # Coordinates are written with six decimals, a minus sign kept, nothing else added.
    bare = renderer("vi").alert(8, "incident", incident_data(), reporter, unit, moment)
    assert 'href="https://maps.google.com/?q=-8.500000,115.123457"' in bare
    # The summary the member checks has no link: the pin is theirs, they know where it is.
    assert "<a " not in renderer("vi").summary(INCIDENT, data)
    assert "• Địa điểm: 📍 Quán" in renderer("vi").summary(INCIDENT, data)


def test_every_yes_no_field_names_its_level_in_the_summary() -> None:
    for form in FORMS.values():
        for spec in form.fields:
            if spec.kind is FieldKind.YESNO:
                for option in spec.options:
                    for language in ("vi", "en"):
                        key = f"value.{spec.key}.{option.value}"
                        assert Translator.load(language).plain(language, key) != key


# --- the force's own terms --------------------------------------------------------------


def test_the_vietnamese_texts_say_vu_viec_not_su_viec() -> None:
    texts = [(LOCALES_DIR / "vi" / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")]
    texts += [
        item.name_vi + item.short_vi for items in default_catalogues().values() for item in items
    ]
    found = [text for text in texts if re.search(r"\bsự việc\b", text, re.IGNORECASE)]
    assert found == []
    translator = Translator.load("vi")
    assert translator.plain("vi", "incident.title") == "Vụ việc"
    assert translator.plain("vi", "menu.incident") == "🚨 Báo vụ việc"
    roles = {role: translator.plain("vi", f"role.{role.value}") for role in Role}
    assert roles[Role.MEMBER] == "tổ viên"
    assert roles[Role.LEADER] == "tổ trưởng"
