"""Joining with an invite, and strangers being turned away."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from botapi_sim.driver import Harness
from domain.invites import new_invite_code
from domain.models import Role, Unit
from handlers.context import services_of
from handlers.join import team_and_commune
from presentation.i18n import language_for
from storage.units import upsert_units
from tests.flows import AppUser


def members(harness: Harness) -> list[tuple[int, str, str]]:
    with sqlite3.connect(harness.db_path) as connection:
        return connection.execute(
            "SELECT telegram_user_id, unit_code, role FROM members ORDER BY id"
        ).fetchall()


async def test_valid_invite_makes_a_member_of_its_unit_and_role(harness: Harness) -> None:
    code = await harness.invite("16702", Role.SUPERVISOR)
    hung = harness.user(900, "Hùng")
    calls = await hung.send(f"/start {code}")
    assert "Chào mừng Hùng Nguyễn" in calls[-1].text
    assert "Phường Vinh Phú" in calls[-1].text
    assert "cán bộ phụ trách" in calls[-1].text
    # A supervisor gets the supervisors' keyboard, not the members' (tests/test_admin_tools.py).
    assert [b["text"] for b in calls[-1].reply_buttons()] == [
        "📥 Báo cáo mới", "⏰ Chưa nộp", "📈 Tổng hợp", "📤 Xuất dữ liệu",
        "👥 Thành viên", "✉️ Mời thành viên", "🆘 Báo khẩn", "🚨 Báo vụ việc",
    ]  # fmt: skip
    assert members(harness) == [(900, "16702", "supervisor")]


async def test_invite_works_once(harness: Harness) -> None:
    code = await harness.invite("16702-K01")
    await harness.user(501).send(f"/start {code}")
    calls = await harness.user(502, "Minh").send(f"/start {code}")
    assert "đã được dùng" in calls[-1].text
    assert [m[0] for m in members(harness)] == [501]


async def test_expired_invite_is_refused(harness: Harness) -> None:
    code = await harness.invite("16702-K01", hours=1)
    harness.now += timedelta(hours=1, seconds=1)
    calls = await harness.user(501).send(f"/start {code}")
    assert "hết hạn" in calls[-1].text
    assert members(harness) == []


async def test_forged_and_malformed_codes_are_refused(harness: Harness) -> None:
    await harness.invite("16702-K01")
    stranger = harness.user(666, "X")
    for code in (new_invite_code(), "abc", "<script>alert(1)</script>", "A" * 64):
        calls = await stranger.send(f"/start {code}")
        assert "Mã mời không đúng" in calls[-1].text
    assert members(harness) == []


async def test_the_code_is_stored_only_as_a_hash(harness: Harness) -> None:
    code = await harness.invite("16702-K01")
    raw = harness.db_path.read_bytes() + harness.db_path.with_suffix(".sqlite3-wal").read_bytes()
    assert code.encode() not in raw


async def test_stranger_can_do_nothing(harness: Harness) -> None:
    stranger = harness.user(666, "X")
    for text in ("/start", "/incident", "/my", "hello", "🚨 Báo vụ việc"):
        calls = await stranger.send(text)
        assert [c.method for c in calls] == ["sendMessage"]
        assert "chỉ dành cho thành viên" in calls[0].text
    calls = await stranger.tap_data("r:1:s")
    assert harness.telegram.of("answerCallbackQuery")[-1].params["show_alert"] is True
    assert "chưa được mời" in stranger.popups(calls)[0]
    with sqlite3.connect(harness.db_path) as connection:
        assert connection.execute("SELECT count(*) FROM drafts").fetchone() == (0,)
        assert connection.execute("SELECT count(*) FROM reports").fetchone() == (0,)


async def test_member_opening_another_invite_stays_as_they_are(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    code = await harness.invite("17464", Role.SUPERVISOR)
    calls = await lan.send(f"/start {code}")
    assert "Chào Lan Nguyễn" in calls[-1].text
    assert members(harness) == [(501, "16702-K01", "member")]
    # The invite was not spent on someone who is already a member.
    calls = await harness.user(502, "Minh").send(f"/start {code}")
    assert "Chào mừng" in calls[-1].text


async def test_group_chats_are_ignored(harness: Harness) -> None:
    code = await harness.invite("16702-K01")
    update = {
        "message": {
            "message_id": 1, "date": 0, "text": f"/start {code}",
            "chat": {"id": -100, "type": "group", "title": "Tổ 1"},
            "from": {"id": 501, "is_bot": False, "first_name": "Lan"},
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        }
    }  # fmt: skip
    assert await harness.deliver(update) == []
    assert members(harness) == []


# --- the language of a newcomer, and where they have joined ------------------------------


def stored_language(harness: Harness, telegram_user_id: int) -> str:
    with sqlite3.connect(harness.db_path) as connection:
        row = connection.execute(
            "SELECT language FROM members WHERE telegram_user_id = ?", (telegram_user_id,)
        ).fetchone()
    assert row is not None
    return str(row[0])


@pytest.mark.parametrize("language_code", ["en", "en-GB", "en-US", "EN"])
async def test_an_english_app_gets_english_from_the_first_message(
    harness: Harness, language_code: str
) -> None:
    mary = AppUser(harness, 601, "Mary", "Tran", language_code)
    calls = await mary.send(f"/start {await harness.invite('16702-K01')}")

    welcome = calls[-1]
    assert welcome.text.startswith("Welcome, Mary Tran!")
    assert "You have joined Khối 1 – Phường Vinh Phú as team member." in welcome.text
    assert "/language" in welcome.text
    t = services_of(harness.application).translator
    assert t.plain("en", "menu.incident") in [b["text"] for b in welcome.reply_buttons()]
    assert stored_language(harness, 601) == "en"
    # It is her language from now on, not only for the welcome.
    calls = await mary.send("/start")
    assert calls[-1].text == "Hello, Mary Tran! Use the buttons below to report."


@pytest.mark.parametrize("language_code", [None, "vi", "fr", "zh-hans", ""])
async def test_any_other_app_language_gets_vietnamese(
    harness: Harness, language_code: str | None
) -> None:
    lan = AppUser(harness, 501, "Lan", "Nguyễn", language_code)
    calls = await lan.send(f"/start {await harness.invite('16702-K01')}")
    assert calls[-1].text.startswith("Chào mừng Lan Nguyễn!")
    assert stored_language(harness, 501) == "vi"


@pytest.mark.parametrize(
    ("language_code", "expected"),
    [
        (None, "Gõ /help để xem hướng dẫn, /language để đổi ngôn ngữ."),
        ("en", "Send /help for a short guide, /language to change the language."),
    ],
)
async def test_the_welcome_mentions_language_in_both_languages(
    harness: Harness, language_code: str | None, expected: str
) -> None:
    person = AppUser(harness, 501, "Lan", "Nguyễn", language_code)
    calls = await person.send(f"/start {await harness.invite('16702-K01')}")
    assert calls[-1].text.endswith(expected)


async def test_english_strangers_are_refused_in_english(harness: Harness) -> None:
    stranger = AppUser(harness, 666, "Sam", None, "en-AU")
    calls = await stranger.send("hello")
    assert calls[-1].text.startswith("Sorry, this bot is only for invited members")
    calls = await stranger.send("/start")
    assert calls[-1].text.startswith("Sorry, this bot is only for invited members")
    calls = await stranger.send(f"/start {new_invite_code()}")
    assert calls[-1].text.startswith("This invite code is not valid.")
    calls = await stranger.tap_data("r:1:s")
    assert stranger.popups(calls) == ["You have not been invited to use this bot."]
    used = await harness.invite("16702-K01")
    await harness.user(501).send(f"/start {used}")
    calls = await stranger.send(f"/start {used}")
    assert calls[-1].text.startswith("This invite has already been used.")
    assert members(harness) == [(501, "16702-K01", "member")]


@pytest.mark.parametrize(
    ("unit", "shown"),
    [
        ("16702-K01", "Khối 1 – Phường Vinh Phú"),  # a hamlet: and its ward
        ("17464-X01", "Xóm 1 – Xã Diễn Châu"),  # and its commune
        ("16702", "Phường Vinh Phú"),  # the ward itself: just its name
        ("40", "Tỉnh Nghệ An"),  # above the communes: just its name
        ("16702-K01-T3", "Tổ 3, Khối 1 – Phường Vinh Phú"),  # a team: its hamlet and ward
    ],
)
async def test_the_newcomer_learns_their_team_and_their_commune(
    harness: Harness, unit: str, shown: str
) -> None:
    await upsert_units(harness.db, [Unit("16702-K01-T3", "Tổ 3", "16702-K01")])
    lan = harness.user(501)
    calls = await lan.send(f"/start {await harness.invite(unit)}")
    assert f"Đồng chí đã tham gia {shown} với vai trò" in calls[-1].text
    assert f"{shown} –" not in calls[-1].text


def test_team_and_commune_follows_the_tree_when_names_do_not_say() -> None:
    # No "Xã"/"Phường" in the names: the commune is the unit one level below the root.
    chain = [
        Unit("T", "Đội 2", "H"),
        Unit("H", "Thôn Đông", "C"),
        Unit("C", "Vinh Phu", "P"),
        Unit("P", "Nghệ An", None),
    ]
    assert team_and_commune(chain) == "Đội 2, Thôn Đông – Vinh Phu"
    assert team_and_commune(chain[1:]) == "Thôn Đông – Vinh Phu"
    assert team_and_commune(chain[2:]) == "Vinh Phu"
    assert team_and_commune(chain[3:]) == "Nghệ An"
    assert team_and_commune([]) == ""
    # A hand-edited tree with a cycle repeats units in the chain: still one answer.
    looped = [Unit("K", "Khối 1", "W"), Unit("W", "Phường Vinh Phú", "K")] * 3
    assert team_and_commune(looped) == "Khối 1 – Phường Vinh Phú"
    # A team two levels below its ward: every unit between them, nearest first.
    deep = [
        Unit("T", "Tổ 1", "X"),
        Unit("X", "Cụm 2", "K"),
        Unit("K", "Khối 1", "W"),
        Unit("W", "Phường Vinh Phú", "P"),
        Unit("P", "Tỉnh Nghệ An", None),
    ]
    assert team_and_commune(deep) == "Tổ 1, Cụm 2, Khối 1 – Phường Vinh Phú"


@pytest.mark.parametrize(
    ("language_code", "default", "expected"),
    [
        ("en", "vi", "en"),
        ("en-GB", "vi", "en"),
        ("en_US", "vi", "en"),
        (" EN ", "vi", "en"),
        ("vi-VN", "en", "vi"),
        ("fr", "vi", "vi"),
        ("fr", "en", "en"),
        ("eng", "vi", "vi"),  # not "en": only the first subtag counts
        (None, "vi", "vi"),
        ("", "en", "en"),
    ],
)
def test_the_app_language_is_taken_only_when_the_bot_speaks_it(
    language_code: str | None, default: str, expected: str
) -> None:
    assert language_for(language_code, default) == expected
