"""The activity report, walked by the same engine with another declaration."""

from __future__ import annotations

import sqlite3

from botapi_sim.driver import Harness


async def test_full_activity_report_with_typed_answers(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("📋 Báo hoạt động")
    await lan.tap("Tuần tra")
    await lan.tap("Ngày khác")
    calls = await lan.send("27/11")  # tomorrow
    assert "tương lai" in calls[0].text
    await lan.send("25/11")
    calls = await lan.send("cả tối")
    assert "Chưa hiểu thời lượng" in calls[0].text
    await lan.send("19:00-21:30")
    calls = await lan.send("0")
    assert "từ 1 đến 999" in calls[0].text
    await lan.send("4")
    calls = await lan.send("⏭ Bỏ qua")  # place, from the reply keyboard
    assert calls[0].reply_buttons()[0]["text"] == "🆘 Báo khẩn"
    await lan.send("Tuần tra khu chợ đêm, nhắc nhở 3 hộ lấn chiếm vỉa hè.")
    calls = await lan.tap("Bỏ qua")  # photos
    summary = calls[-1].text
    assert "Kiểm tra báo cáo: Hoạt động" in summary
    assert "Ngày: 25/11/2026" in summary
    assert "Thời lượng: 19:00–21:30 (2 giờ 30 phút)" in summary
    assert "Số tổ viên tham gia: 4 người" in summary
    assert "Địa điểm: (không có)" in summary or "Địa điểm: không rõ" in summary
    calls = await lan.tap("Gửi báo cáo")
    assert "Đã gửi báo cáo số 1" in calls[-1].text

    with sqlite3.connect(harness.db_path) as connection:
        row = connection.execute(
            "SELECT kind, category_code, period_date, occurred_at, duration_minutes,"
            " participants, description, latitude, address FROM reports"
        ).fetchone()
    assert row == (
        "activity", "PATROL", "2026-11-25", "2026-11-25T19:00:00+07:00", 150, 4,
        "Tuần tra khu chợ đêm, nhắc nhở 3 hộ lấn chiếm vỉa hè.", None, None,
    )  # fmt: skip


async def test_activity_with_buttons_only(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/activity")
    await lan.tap("Họp tổ")
    await lan.tap("Hôm qua")
    await lan.tap("2 giờ")
    await lan.tap("5")
    await lan.send_location(18.67, 105.68)
    await lan.send("Họp tổ tháng 11")
    await lan.send_photo("meeting")
    await lan.tap("Xong")
    await lan.tap("Gửi báo cáo")
    with sqlite3.connect(harness.db_path) as connection:
        row = connection.execute(
            "SELECT category_code, period_date, duration_minutes, participants, latitude"
            " FROM reports"
        ).fetchone()
    assert row == ("TEAM_MEETING", "2026-11-25", 120, 5, 18.67)


async def test_required_activity_fields_cannot_be_skipped(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/activity")
    _, data = lan.find_button("Tuần tra")
    calls = await lan.tap_data(data.rsplit(":", 1)[0] + ":_skip")
    assert "không bỏ qua được" in lan.popups(calls)[0]


async def test_nothing_to_report_counts_once_a_day(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    calls = await lan.send("✅ Không có gì mới")
    assert "ngày 26/11/2026 không có gì mới (số 1)" in calls[0].text
    calls = await lan.send("/nothing")
    assert "đã báo ngày 26/11/2026 không có gì mới rồi (số 1)" in calls[0].text
    harness.now = harness.now.replace(day=27)
    calls = await lan.send("/nothing")
    assert "27/11/2026" in calls[0].text
    with sqlite3.connect(harness.db_path) as connection:
        days = connection.execute(
            "SELECT period_date FROM reports WHERE kind = 'nothing'"
        ).fetchall()
    assert days == [("2026-11-26",), ("2026-11-27",)]


async def test_my_reports_lists_recent_ones(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    calls = await lan.send("/my")
    assert "chưa có báo cáo" in calls[0].text
    await lan.send("/nothing")
    await lan.send("/activity")
    await lan.tap("Tuần tra")
    await lan.tap("Hôm nay")
    await lan.tap("1 giờ")
    await lan.tap("3")
    await lan.send("⏭ Bỏ qua")
    await lan.send("Tuần tra đêm")
    await lan.tap("Bỏ qua")
    await lan.tap("Gửi báo cáo")
    calls = await lan.send("🗂 Báo cáo của tôi")
    text = calls[0].text
    assert text.index("#2 · Tuần tra, canh gác · 26/11 · 1 giờ · 3 người") < text.index(
        "#1 · Không có gì mới"
    )


async def test_language_switch_changes_every_text(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/language")
    calls = await lan.tap("English")
    assert calls[-1].text == "Switched to English."
    assert calls[-1].reply_buttons()[0]["text"] == "🆘 Urgent report"
    calls = await lan.send("🚨 Report incident")
    assert "What kind of incident" in calls[-1].text
    assert "Theft" in [text for text, _ in calls[-1].inline_buttons()]
    calls = await lan.send("/help")
    assert "Quick guide" in calls[0].text


async def test_command_menus_are_set_in_both_languages(harness: Harness) -> None:
    menus = {
        c.params.get("language_code"): c.params["commands"]
        for c in harness.telegram.of("setMyCommands")
    }
    assert set(menus) == {None, "en"}
    assert [c["command"] for c in menus[None]] == [
        "incident",
        "activity",
        "nothing",
        "my",
        "cancel",
        "language",
        "help",
    ]
    assert menus[None][0]["description"] == "Báo vụ việc"
    assert menus["en"][0]["description"] == "Report an incident"


async def test_idle_text_gets_a_hint(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    calls = await lan.send("chào")
    assert "Đồng chí muốn báo gì?" in calls[0].text
