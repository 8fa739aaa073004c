"""Joining with an invite, and strangers being turned away."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from botapi_sim.driver import Harness
from domain.invites import new_invite_code
from domain.models import Role


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
        "👥 Thành viên", "✉️ Mời thành viên", "🚨 Báo sự việc",
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
    for text in ("/start", "/incident", "/my", "hello", "🚨 Báo sự việc"):
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
