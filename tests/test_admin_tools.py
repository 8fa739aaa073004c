"""Supervisors' and admins' tools: their menu, /export, /invite, /members, privacy by level.

Demo tree (botapi_sim/driver.py): 40 Tỉnh Nghệ An > 16702 Phường Vinh Phú > 16702-K01,
16702-K02; 40 > 17464 Xã Diễn Châu > 17464-X01. The session's moment is 26/11/2026 10:00.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import zipfile
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest

from botapi_sim.driver import DEMO_UNITS, Harness, Person
from domain.access import UnitTree
from domain.day_range import DayRange, RangeError, Span, parse_day_range, span_range
from domain.levels import commune_of
from domain.models import Role, Unit
from domain.privacy import (
    mask_phones,
    names_shown_to,
    people_or_hidden,
    shows_names,
)
from domain.settings import SettingsError, load_settings
from handlers.invite import unit_token
from presentation.callbacks import (
    DeactivateAsk,
    DeactivateDo,
    ExportRange,
    FileFormat,
    InviteMake,
    InviteRole,
    InviteUnit,
    MembersPage,
)
from presentation.i18n import Translator
from presentation.keyboards import main_keyboard
from storage.audit import AuditAction, audit_entries

SHEET = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
FORMULA = '=HYPERLINK("http://x.example","bấm")'
TREE = UnitTree(DEMO_UNITS)
NAMES = {unit.code: unit.name for unit in DEMO_UNITS}


# --- helpers ---------------------------------------------------------------------------


async def file_incident(person: Person, description: str, people: str | None = None) -> None:
    """File one non-urgent theft report, typing the people involved if given."""
    await person.send("/incident")
    await person.tap("Trộm cắp tài sản")
    await person.tap("Vừa xảy ra")
    await person.send_location(18.6796, 105.6813)
    await person.send(description)
    if people is None:
        await person.tap("Bỏ qua")
    else:
        await person.send(people)
    await person.send_photo("photo-1")
    await person.tap("Xong")
    await person.tap("Đã chuyển Công an")
    await person.tap("Không khẩn cấp")
    await person.tap("Gửi báo cáo")
    assert "số" in person.last_text().lower()


def reply_labels(person: Person) -> list[str]:
    """The labels of the newest reply keyboard the bot sent this person."""
    for call in reversed(person.calls()):
        buttons = call.reply_buttons()
        if buttons:
            return [str(button["text"]) for button in buttons]
    raise AssertionError("no reply keyboard was sent")


def xlsx_rows(content: bytes) -> tuple[list[list[str | float | None]], bool]:
    """The first sheet's rows (text and numbers), and whether any cell holds a formula."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.testzip() is None
        parts = {name: archive.read(name) for name in archive.namelist()}
    shared: list[str] = []
    if "xl/sharedStrings.xml" in parts:
        root = ElementTree.fromstring(parts["xl/sharedStrings.xml"])  # noqa: S314 - ours
        shared = ["".join(t.text or "" for t in si.iter(f"{SHEET}t")) for si in root]
    sheet = ElementTree.fromstring(parts["xl/worksheets/sheet1.xml"])  # noqa: S314 - ours
    rows: list[list[str | float | None]] = []
    formulas = False
    for row in sheet.iter(f"{SHEET}row"):
        cells: dict[int, str | float] = {}
        for cell in row.iter(f"{SHEET}c"):
            column = ord(re.sub(r"\d", "", cell.get("r", "A"))[-1]) - ord("A")
            formulas = formulas or cell.find(f"{SHEET}f") is not None
            kind = cell.get("t")
            if kind == "inlineStr":
                cells[column] = "".join(t.text or "" for t in cell.iter(f"{SHEET}t"))
            elif kind == "s":
                value = cell.find(f"{SHEET}v")
                assert value is not None and value.text is not None
                cells[column] = shared[int(value.text)]
            elif (value := cell.find(f"{SHEET}v")) is not None and value.text is not None:
                cells[column] = float(value.text)
        width = max(cells, default=-1) + 1
        rows.append([cells.get(i) for i in range(width)])
    return rows, formulas


def as_dicts(rows: list[list[str | float | None]]) -> list[dict[str, str | float | None]]:
    header = [str(title) for title in rows[0]]
    return [
        dict(zip(header, row + [None] * (len(header) - len(row)), strict=True)) for row in rows[1:]
    ]


def audit_rows(harness: Harness) -> list[tuple[object, ...]]:
    with sqlite3.connect(harness.db_path) as connection:
        return connection.execute(
            "SELECT actor_id, action, target_member, target_unit FROM audit_log ORDER BY id"
        ).fetchall()


def invite_count(harness: Harness) -> int:
    with sqlite3.connect(harness.db_path) as connection:
        row = connection.execute("SELECT count(*) FROM invites").fetchone()
        return int(row[0])


async def reports_in_two_communes(harness: Harness) -> tuple[Person, Person]:
    """Lan (Khối 1, Vinh Phú) files an incident; Minh (Xóm 1, Diễn Châu) has nothing new."""
    lan = await harness.join(501, "16702-K01", Role.MEMBER, "Lan")
    minh = await harness.join(601, "17464-X01", Role.MEMBER, "Minh")
    await file_incident(lan, FORMULA, people="Nguyễn Văn Bình, 0912 345 678")
    await minh.send("/nothing")
    return lan, minh


# --- the menus ------------------------------------------------------------------------


async def test_each_role_gets_its_own_keyboard(harness: Harness) -> None:
    member = await harness.join(501, "16702-K01", Role.MEMBER, "Lan")
    leader = await harness.join(502, "16702-K01", Role.LEADER, "Bình")
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    admin = await harness.join(950, "40", Role.ADMIN, "Quản")

    assert reply_labels(member) == [
        "🆘 Báo khẩn", "🚨 Báo vụ việc", "📋 Báo hoạt động", "✅ Không có gì mới",
        "🗂 Báo cáo của tôi",
    ]  # fmt: skip
    assert reply_labels(leader) == [*reply_labels(member), "📥 Báo cáo của tổ", "👥 Thành viên tổ"]
    overseer = [
        "📥 Báo cáo mới", "⏰ Chưa nộp", "📈 Tổng hợp", "📤 Xuất dữ liệu",
        "👥 Thành viên", "✉️ Mời thành viên", "🆘 Báo khẩn", "🚨 Báo vụ việc",
    ]  # fmt: skip
    assert reply_labels(supervisor) == overseer
    assert reply_labels(admin) == overseer
    assert "✅ Không có gì mới" not in reply_labels(supervisor)
    # The keyboard comes back in the role's shape after /help and /cancel too.
    await supervisor.send("/help")
    assert reply_labels(supervisor) == overseer
    assert "Xuất dữ liệu" in supervisor.last_text()
    await supervisor.send("/cancel")
    assert reply_labels(supervisor) == overseer


def test_main_keyboard_without_a_role_is_the_members() -> None:
    t = Translator.load("vi")
    assert main_keyboard(t, "vi") == main_keyboard(t, "vi", Role.MEMBER)
    assert main_keyboard(t, "en", Role.ADMIN) == main_keyboard(t, "en", Role.SUPERVISOR)
    assert main_keyboard(t, "vi", Role.DEPUTY) == main_keyboard(t, "vi", Role.LEADER)
    assert main_keyboard(t, "vi", Role.LEADER) != main_keyboard(t, "vi", Role.MEMBER)


async def test_each_menu_button_does_what_its_command_does(harness: Harness) -> None:
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    for label, command in (
        ("📥 Báo cáo mới", "/reports"),
        ("⏰ Chưa nộp", "/overdue"),
        ("📤 Xuất dữ liệu", "/export"),
        ("👥 Thành viên", "/members"),
        ("✉️ Mời thành viên", "/invite"),
        ("📈 Tổng hợp", "/digest"),
    ):
        await supervisor.send(command)
        by_command = supervisor.last_text()
        await supervisor.send(label)
        assert supervisor.last_text() == by_command, label
        assert by_command


async def test_a_member_typing_a_supervisors_button_is_refused(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01", Role.MEMBER, "Lan")
    await lan.send("📤 Xuất dữ liệu")
    assert "không dành cho vai trò" in lan.last_text()
    assert harness.telegram.api.uploads(501) == []


# --- /export ---------------------------------------------------------------------------


async def test_export_xlsx_holds_the_subtree_only_with_the_commune_and_safe_cells(
    harness: Harness,
) -> None:
    await reports_in_two_communes(harness)
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    await supervisor.send("/export")
    assert "XLSX" in supervisor.last_text()
    await supervisor.tap("Tháng này")

    [upload] = harness.telegram.api.uploads(900)
    assert upload.method == "sendDocument"
    assert upload.filename == "bao-cao-20261101-20261126.xlsx"
    rows, formulas = xlsx_rows(upload.content)
    assert not formulas
    [report] = as_dicts(rows)
    assert report["Xã/phường"] == "Phường Vinh Phú"
    assert report["Đơn vị"] == "Khối 1"
    assert report["Nội dung"] == FORMULA  # the text as typed, a string, never a formula
    assert report["Người báo"] == "Lan Nguyễn"  # a commune officer sees names
    assert "0912 345 678" in str(report["Người liên quan"])
    assert "Xóm 1" not in {str(v) for v in report.values()}
    caption = supervisor.messages()[-1].text
    assert "01/11/2026" in caption and "26/11/2026" in caption and "Phường Vinh Phú" in caption
    assert "ẩn" not in caption


async def test_export_csv_on_request_is_neutralised_and_has_the_commune(
    harness: Harness,
) -> None:
    await reports_in_two_communes(harness)
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    await supervisor.send("/export")
    await supervisor.tap("CSV")
    assert "CSV" in supervisor.last_text()
    await supervisor.tap("30 ngày qua")

    [upload] = harness.telegram.api.uploads(900)
    assert upload.filename == "bao-cao-20261028-20261126.csv"
    assert upload.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(upload.content.decode("utf-8-sig"))))
    [report] = rows
    assert report["Xã/phường"] == "Phường Vinh Phú"
    assert report["Nội dung"] == "'" + FORMULA
    assert report["Người báo"] == "Lan Nguyễn"


async def test_an_admin_above_the_privacy_level_gets_everything_without_names(
    harness: Harness,
) -> None:
    await reports_in_two_communes(harness)
    admin = await harness.join(950, "40", Role.ADMIN, "Quản")
    await admin.send("/export")
    await admin.tap("Tháng này")
    [upload] = harness.telegram.api.uploads(950)
    rows, _ = xlsx_rows(upload.content)
    reports = as_dicts(rows)
    assert {r["Xã/phường"] for r in reports} == {"Phường Vinh Phú", "Xã Diễn Châu"}
    assert {r["Người báo"] for r in reports} == {"(ẩn)"}
    incident = next(r for r in reports if r["Nội dung"])
    assert incident["Người liên quan"] == "(ẩn)"
    caption = admin.messages()[-1].text
    assert "toàn bộ đơn vị" in caption and "được ẩn" in caption


async def test_the_privacy_level_is_a_setting(tmp_path: Path) -> None:
    harness = Harness(tmp_path / "bot.sqlite3", settings={"privacy_level": 0})
    await harness.start()
    try:
        await harness.load_demo_units()
        await reports_in_two_communes(harness)
        admin = await harness.join(950, "40", Role.ADMIN, "Quản")
        await admin.send("/export")
        await admin.tap("Tháng này")
        [upload] = harness.telegram.api.uploads(950)
        reporters = {r["Người báo"] for r in as_dicts(xlsx_rows(upload.content)[0])}
        assert reporters == {"Lan Nguyễn", "Minh Nguyễn"}
    finally:
        await harness.stop()


async def test_a_typed_range_gets_a_second_chance_and_may_ask_for_csv(harness: Harness) -> None:
    await reports_in_two_communes(harness)
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    await supervisor.send("/export")
    await supervisor.send("31/02/2026-01/03/2026")
    assert "không có trên lịch" in supervisor.last_text()
    await supervisor.send("30/11/2026-01/11/2026")
    assert "trước ngày kết thúc" in supervisor.last_text()
    assert harness.telegram.api.uploads(900) == []
    await supervisor.send("01/11/2026 - 30/11/2026 csv")
    [upload] = harness.telegram.api.uploads(900)
    assert upload.filename == "bao-cao-20261101-20261130.csv"
    # Once used, a range typed later is not an export any more.
    await supervisor.send("01/11/2026-30/11/2026")
    assert len(harness.telegram.api.uploads(900)) == 1
    # With the command, at once.
    await supervisor.send("/export 26/11/2026")
    assert harness.telegram.api.uploads(900)[-1].filename == "bao-cao-20261126-20261126.xlsx"


async def test_a_typed_range_is_an_export_only_soon_after_and_outside_a_report(
    harness: Harness,
) -> None:
    await reports_in_two_communes(harness)
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    await supervisor.send("/export")
    harness.elapse(timedelta(minutes=16))
    await supervisor.send("01/11/2026-30/11/2026")
    assert harness.telegram.api.uploads(900) == []
    # A report in progress keeps what is typed; the command still exports at once.
    await supervisor.send("/incident")
    await supervisor.tap("Trộm cắp tài sản")
    await supervisor.send("/export")
    await supervisor.send("01/11/2026-30/11/2026")
    assert harness.telegram.api.uploads(900) == []
    await supervisor.send("/export 01/11/2026-30/11/2026")
    assert len(harness.telegram.api.uploads(900)) == 1


async def test_a_typed_range_takes_the_format_the_menu_shows(harness: Harness) -> None:
    await reports_in_two_communes(harness)
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    await supervisor.send("/export")
    await supervisor.tap("CSV")
    await supervisor.send("01/11/2026-26/11/2026")
    assert [u.filename for u in harness.telegram.api.uploads(900)] == [
        "bao-cao-20261101-20261126.csv"
    ]


async def test_an_empty_range_says_so_instead_of_an_empty_file(harness: Harness) -> None:
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    await supervisor.send("/export 01/01/2025-31/01/2025")
    assert "Không có báo cáo nào" in supervisor.last_text()
    assert harness.telegram.api.uploads(900) == []


async def test_a_double_tap_sends_one_file(harness: Harness) -> None:
    await reports_in_two_communes(harness)
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    await supervisor.send("/export")
    message, data = supervisor.find_button("Năm nay")
    await supervisor.tap_data(data, message)
    calls = await supervisor.tap_data(data, message)
    assert len(harness.telegram.api.uploads(900)) == 1
    assert "đã được gửi" in " ".join(supervisor.popups(calls))


async def test_export_is_refused_to_members_leaders_and_forged_buttons(harness: Harness) -> None:
    await reports_in_two_communes(harness)
    lan = harness.user(501, "Lan")
    leader = await harness.join(502, "16702-K01", Role.LEADER, "Bình")
    for person in (lan, leader):
        await person.send("/export")
        assert "vai trò" in person.last_text()
        calls = await person.tap_data(ExportRange(Span.THIS_YEAR, FileFormat.CSV).pack())
        assert any("vai trò" in text for text in person.popups(calls))
        assert harness.telegram.api.uploads(person.user_id) == []


# --- /invite ---------------------------------------------------------------------------


async def test_a_supervisor_invites_within_the_subtree_and_the_link_works(
    harness: Harness,
) -> None:
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    await supervisor.send("/invite")
    roles = [label for label, _ in supervisor.last_buttons_call().inline_buttons()]
    assert roles == ["tổ viên", "tổ trưởng", "tổ phó", "cán bộ phụ trách"]
    await supervisor.tap("tổ trưởng")
    units = [label for label, _ in supervisor.last_buttons_call().inline_buttons()]
    assert units == ["✅ Mời vào Phường Vinh Phú", "✅ Khối 1", "✅ Khối 2"]
    await supervisor.tap("Khối 2")
    text = supervisor.last_text()
    link = re.search(r"https://t\.me/field_report_test_bot\?start=([A-Za-z0-9_-]{22})", text)
    assert link is not None, text
    assert "tổ trưởng" in text and "Khối 2" in text and "03/12/2026" in text

    newcomer = harness.user(777, "Tâm")
    await newcomer.send(f"/start {link.group(1)}")
    assert "Khối 2" in newcomer.last_text() and "tổ trưởng" in newcomer.last_text()
    [entry] = await audit_entries(harness.db)
    assert entry.action is AuditAction.INVITE and entry.target_unit == "16702-K02"
    assert entry.detail["role"] == "leader" and entry.actor_id is not None


async def test_a_double_tap_on_the_unit_makes_one_invite(harness: Harness) -> None:
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    before = invite_count(harness)
    await supervisor.send("/invite")
    await supervisor.tap("tổ viên")
    message, data = supervisor.find_button("Khối 1")
    await supervisor.tap_data(data, message)
    calls = await supervisor.tap_data(data, message)
    assert invite_count(harness) == before + 1
    assert any("đã được tạo" in text for text in supervisor.popups(calls))


async def test_an_admin_invites_any_role_anywhere(harness: Harness) -> None:
    admin = await harness.join(950, "40", Role.ADMIN, "Quản")
    await admin.send("/invite")
    roles = [label for label, _ in admin.last_buttons_call().inline_buttons()]
    assert "quản trị viên" in roles
    await admin.tap("quản trị viên")
    assert "Tỉnh Nghệ An" in admin.last_text()
    await admin.tap("Xã Diễn Châu")  # a unit with units below: opened, not chosen
    assert "Xã Diễn Châu" in admin.last_text()
    await admin.tap("Mời vào Xã Diễn Châu")
    assert "t.me/field_report_test_bot?start=" in admin.last_text()
    assert audit_rows(harness)[-1][1:] == ("invite", None, "17464")


async def test_an_admin_pages_through_a_large_tree(harness: Harness) -> None:
    from storage.units import upsert_units

    await upsert_units(harness.db, [Unit(f"40-{n:03}", f"Xã Số {n:03}", "40") for n in range(20)])
    admin = await harness.join(950, "40", Role.ADMIN, "Quản")
    await admin.send("/invite")
    await admin.tap("tổ viên")
    assert "trang 1/3" in admin.last_text()
    await admin.tap("Trang tiếp")
    assert "trang 2/3" in admin.last_text()
    await admin.tap("Trang tiếp")
    await admin.tap("Xã Số 019")
    assert "Xã Số 019" in admin.last_text() and "t.me/" in admin.last_text()


async def test_forged_invite_buttons_are_refused(harness: Harness) -> None:
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01", Role.MEMBER, "Lan")
    before = invite_count(harness)
    forged = [
        (supervisor, InviteMake(Role.MEMBER, unit_token("17464-X01")), "phạm vi"),
        (supervisor, InviteUnit(Role.MEMBER, unit_token("17464"), 0), "phạm vi"),
        (supervisor, InviteUnit(Role.MEMBER, "top", 0), "phạm vi"),
        (supervisor, InviteMake(Role.ADMIN, unit_token("16702-K01")), "vai trò"),
        (supervisor, InviteRole(Role.ADMIN), "vai trò"),
        (supervisor, InviteMake(Role.MEMBER, "0123456789ab"), "không dùng được"),
        (lan, InviteMake(Role.MEMBER, unit_token("16702-K01")), "vai trò"),
        (lan, InviteRole(Role.MEMBER), "vai trò"),
    ]
    for person, data, reason in forged:
        calls = await person.tap_data(data.pack())
        popups = " ".join(person.popups(calls))
        assert reason in popups, (data, popups)
        assert not any("t.me/" in call.text for call in calls)
    assert invite_count(harness) == before
    assert audit_rows(harness) == []
    await lan.send("/invite")
    assert "vai trò" in lan.last_text()


# --- /members and deactivation ------------------------------------------------------------


async def test_members_lists_the_subtree_with_each_last_report(harness: Harness) -> None:
    await reports_in_two_communes(harness)
    await harness.join(503, "16702-K02", Role.MEMBER, "Chi")
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    await supervisor.send("/members")
    text = supervisor.last_text()
    assert "Lan Nguyễn · tổ viên · Khối 1 · báo cáo gần nhất 26/11/2026" in text
    assert "Chi Nguyễn · tổ viên · Khối 2 · chưa báo cáo lần nào" in text
    assert "Hùng Nguyễn" in text
    assert "Minh" not in text  # another commune's
    labels = [label for label, _ in supervisor.last_buttons_call().inline_buttons()]
    assert labels == ["🚫 Lan Nguyễn", "🚫 Chi Nguyễn"]  # never themselves


async def test_a_leader_sees_the_team_without_deactivation(harness: Harness) -> None:
    await reports_in_two_communes(harness)
    await harness.join(503, "16702-K02", Role.MEMBER, "Chi")
    leader = await harness.join(502, "16702-K01", Role.LEADER, "Bình")
    await leader.send("👥 Thành viên tổ")
    text = leader.last_text()
    assert "Lan Nguyễn" in text and "Bình Nguyễn" in text and "Chi" not in text
    assert leader.messages()[-1].inline_buttons() == []
    calls = await leader.tap_data(DeactivateDo(1).pack())
    assert any("vai trò" in text for text in leader.popups(calls))


async def test_members_are_paged(harness: Harness) -> None:
    for n in range(12):
        await harness.join(1000 + n, "16702-K01", Role.MEMBER, f"Người{n:02}")
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    await supervisor.send("/members")
    assert "trang 1/2" in supervisor.last_text()
    assert "Người00" in supervisor.last_text() and "Người11" not in supervisor.last_text()
    await supervisor.tap("Trang tiếp")
    assert "trang 2/2" in supervisor.last_text() and "Người11" in supervisor.last_text()
    await supervisor.tap_data(MembersPage(99).pack())
    assert "trang 2/2" in supervisor.last_text()


async def test_deactivate_asks_first_then_the_member_can_do_nothing(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01", Role.MEMBER, "Lan")
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    await supervisor.send("/members")
    await supervisor.tap("Lan Nguyễn")
    assert "Ngừng quyền dùng bot của Lan Nguyễn" in supervisor.last_text()
    await lan.send("/nothing")
    assert "Đã ghi nhận" in lan.last_text()  # not yet: only asked
    # Something queued for her, not yet sent.
    with sqlite3.connect(harness.db_path) as connection:
        connection.execute(
            "INSERT INTO outbox (key, purpose, recipient_id, chat_id, payload, next_attempt_at,"
            " created_at) SELECT 'reminder:test', 'reminder', id, chat_id, '{\"text\": \"x\"}',"
            " '2099-01-01T00:00:00+00:00', '2026-11-26T03:00:00+00:00' FROM members"
            " WHERE telegram_user_id = 501"
        )
    message, data = supervisor.find_button("Ngừng quyền")
    await supervisor.tap_data(data, message)
    assert "Đã ngừng quyền của Lan Nguyễn" in supervisor.last_text()
    with sqlite3.connect(harness.db_path) as connection:
        [(status,)] = connection.execute(
            "SELECT status FROM outbox WHERE key = 'reminder:test'"
        ).fetchall()
    assert status == "failed"
    calls = await supervisor.tap_data(data, message)  # a double tap
    assert any("đã bị ngừng quyền" in text for text in supervisor.popups(calls))

    for attempt in ("/incident", "/nothing", "🗂 Báo cáo của tôi"):
        await lan.send(attempt)
        assert "chỉ dành cho thành viên" in lan.last_text(), attempt
    [entry] = await audit_entries(harness.db)
    assert entry.action is AuditAction.DEACTIVATE
    assert entry.target_unit == "16702-K01" and entry.detail == {"role": "member"}
    await supervisor.send("/members")
    assert "Lan" not in supervisor.last_text()

    # Invited again, she is back as the same member.
    code = await harness.invite("16702-K02", Role.MEMBER)
    await lan.send(f"/start {code}")
    assert "Khối 2" in lan.last_text()
    await lan.send("/my")
    assert "Không có gì mới" in lan.last_text()


async def test_forged_deactivation_is_refused(harness: Harness) -> None:
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    admin = await harness.join(950, "16702", Role.ADMIN, "Quản")
    minh = await harness.join(601, "17464-X01", Role.MEMBER, "Minh")
    lan = await harness.join(501, "16702-K01", Role.MEMBER, "Lan")
    with sqlite3.connect(harness.db_path) as connection:
        ids = dict(connection.execute("SELECT telegram_user_id, id FROM members").fetchall())
    cases = [
        (supervisor, DeactivateDo(ids[900]), "chính tài khoản"),
        (supervisor, DeactivateDo(ids[950]), "vai trò"),
        (supervisor, DeactivateAsk(ids[601], 0), "phạm vi"),
        (supervisor, DeactivateDo(ids[601]), "phạm vi"),
        (supervisor, DeactivateDo(424242), "không dùng được"),
        (lan, DeactivateDo(ids[601]), "vai trò"),
    ]
    for person, data, reason in cases:
        calls = await person.tap_data(data.pack())
        popups = " ".join(person.popups(calls))
        assert reason in popups, (data, popups)
    assert audit_rows(harness) == []
    await minh.send("/nothing")
    assert "Đã ghi nhận" in minh.last_text()
    # An admin may deactivate a supervisor.
    await admin.tap_data(DeactivateDo(ids[900]).pack())
    assert "Đã ngừng quyền của Hùng Nguyễn" in admin.last_text()
    await supervisor.send("/members")
    assert "chỉ dành cho thành viên" in supervisor.last_text()


# --- pure parts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("depth", "level", "shown"),
    [
        (0, 1, False),  # the province, by default
        (1, 1, True),  # a commune
        (3, 1, True),  # a team
        (0, 0, True),  # level 0: everyone sees names
        (1, 2, False),
        (2, 2, True),
        (None, 0, False),  # a unit the tree does not know: fail closed
        (-1, 0, False),
    ],
)
def test_shows_names(depth: int | None, level: int, shown: bool) -> None:
    assert shows_names(depth, level) is shown


def test_names_shown_to_reads_the_depth_from_the_tree() -> None:
    assert not names_shown_to(TREE, "40", 1)
    assert names_shown_to(TREE, "16702", 1)
    assert names_shown_to(TREE, "16702-K01", 2)
    assert not names_shown_to(TREE, "16702", 2)
    assert not names_shown_to(TREE, "nowhere", 0)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Gọi 0912345678 ngay", "Gọi ••• ngay"),
        ("anh B (0912 345 678), chị C +84.912.345.679", "anh B (•••), chị C •••"),
        ("số nhà 12, ngõ 3, 18.679600,105.681300", "số nhà 12, ngõ 3, 18.679600,105.681300"),
        ("lúc 19:00-21:30 ngày 26/11/2026", "lúc 19:00-21:30 ngày 26/11/2026"),
        ("mã 123456789012345", "mã 123456789012345"),
    ],
)
def test_mask_phones(text: str, masked: str) -> None:
    assert mask_phones(text) == masked


def test_people_are_hidden_whole_when_names_are_not_shown() -> None:
    assert people_or_hidden("Nguyễn Văn B", False, "(ẩn)") == "(ẩn)"
    assert people_or_hidden("Nguyễn Văn B", True, "(ẩn)") == "Nguyễn Văn B"
    assert people_or_hidden(None, False, "(ẩn)") is None


def test_commune_of_finds_the_ward_by_name_or_by_depth() -> None:
    assert commune_of(TREE, NAMES, "16702-K01") == "16702"
    assert commune_of(TREE, NAMES, "17464") == "17464"
    assert commune_of(TREE, NAMES, "40") is None
    assert commune_of(TREE, NAMES, "unknown") is None
    # An older tree with a district level: the name decides.
    old = [
        Unit("40", "Tỉnh Nghệ An", None),
        Unit("412", "Huyện Diễn Châu", "40"),
        Unit("17464", "Xã Diễn Châu", "412"),
        Unit("17464-X01", "Xóm 1", "17464"),
    ]
    names = {unit.code: unit.name for unit in old}
    assert commune_of(UnitTree(old), names, "17464-X01") == "17464"
    # Names that say nothing: the level below the root.
    plain = {code: code for code in names}
    assert commune_of(UnitTree(old), plain, "17464-X01") == "412"


def test_span_ranges() -> None:
    today = date(2026, 3, 15)
    assert span_range(Span.THIS_MONTH, today) == DayRange(date(2026, 3, 1), today)
    assert span_range(Span.LAST_MONTH, today) == DayRange(date(2026, 2, 1), date(2026, 2, 28))
    assert span_range(Span.LAST_30_DAYS, today).days == 30
    assert span_range(Span.THIS_YEAR, today) == DayRange(date(2026, 1, 1), today)
    january = date(2026, 1, 10)
    assert span_range(Span.LAST_MONTH, january) == DayRange(date(2025, 12, 1), date(2025, 12, 31))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("01/11/2026-30/11/2026", DayRange(date(2026, 11, 1), date(2026, 11, 30))),
        ("1/11/2026 đến 3/11/2026", DayRange(date(2026, 11, 1), date(2026, 11, 3))),
        (" 1.11.2026 – 2.11.2026 ", DayRange(date(2026, 11, 1), date(2026, 11, 2))),
        ("26/11/2026", DayRange(date(2026, 11, 26), date(2026, 11, 26))),
        ("31/02/2026-01/03/2026", "export.error.day"),
        ("30/11/2026-01/11/2026", "export.error.order"),
        ("01/01/2000-01/01/2026", "export.error.too_long"),
        ("tháng trước", "export.error.shape"),
        ("1" * 100, "export.error.shape"),
    ],
)
def test_parse_day_range(text: str, expected: DayRange | str) -> None:
    if isinstance(expected, DayRange):
        assert parse_day_range(text) == expected
    else:
        with pytest.raises(RangeError) as raised:
            parse_day_range(text)
        assert raised.value.reason == expected


def test_privacy_level_setting() -> None:
    base = {"TELEGRAM_BOT_TOKEN": "123456:" + "a" * 30}
    assert load_settings(base, None).privacy_level == 1
    assert load_settings({**base, "BOT_PRIVACY_LEVEL": "0"}, None).privacy_level == 0
    assert load_settings({**base, "BOT_PRIVACY_LEVEL": "3"}, None).privacy_level == 3
    for bad in ("-1", "x", "99"):
        with pytest.raises(SettingsError, match="BOT_PRIVACY_LEVEL"):
            load_settings({**base, "BOT_PRIVACY_LEVEL": bad}, None)


def test_unit_tokens_are_short_stable_and_distinct() -> None:
    codes = [unit.code for unit in DEMO_UNITS] + [f"code with spaces & ü {n}" for n in range(500)]
    tokens = {unit_token(code) for code in codes}
    assert len(tokens) == len(codes)
    assert all(re.fullmatch(r"[0-9a-f]{12}", token) for token in tokens)
    assert unit_token("16702") == unit_token("16702")


def test_settings_default_keeps_names_at_the_commune_level() -> None:
    settings = load_settings({"TELEGRAM_BOT_TOKEN": "123456:" + "a" * 30}, None)
    assert replace(settings, privacy_level=1) == settings
    assert shows_names(TREE.depth("17464"), settings.privacy_level)
    assert not shows_names(TREE.depth("40"), settings.privacy_level)
