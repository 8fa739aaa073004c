"""Behaviour a careful reviewer asked for: ways out, honest confirmations, no silence."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

from domain.models import Role
from tests.harness import Harness
from tests.test_alerts import deliveries, submit_urgent
from tests.test_incident_flow import draft_row, walk_incident


async def to_place_step(harness: Harness) -> None:
    lan = harness.user(501)
    await lan.send("/incident")
    await lan.tap("Trộm cắp tài sản")
    await lan.tap("Vừa xảy ra")


async def test_a_failed_reply_shows_the_question_the_member_is_now_on(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await to_place_step(harness)
    await lan.send("Ngõ 5")
    harness.telegram.fail_next("sendMessage", 502, "Bad Gateway", chat_id=501)
    calls = await lan.send("Mất xe máy")
    texts = [c.text for c in calls if c.method == "sendMessage"]
    assert "Xin lỗi, bot vừa gặp lỗi" in texts[-3]
    assert texts[-2] == "Tiếp tục báo cáo đang làm dở:"
    assert texts[-1].startswith("Những ai liên quan")


async def test_keep_as_it_is_returns_to_the_summary_unchanged(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await walk_incident(lan)
    await lan.tap("✏️ Diễn biến")
    calls = await lan.tap("Giữ nguyên")
    assert "Kiểm tra báo cáo" in calls[-1].text
    assert "Mất xe máy trước nhà số 5" in calls[-1].text
    # The place is edited through a reply keyboard: it has its own "keep" button.
    calls = await lan.tap("✏️ Địa điểm")
    assert [b["text"] for b in calls[-1].reply_buttons()][-1] == "↩️ Giữ nguyên"
    calls = await lan.send("↩️ Giữ nguyên")
    assert calls[0].reply_buttons()[0]["text"] == "🚨 Báo sự việc"
    assert "Địa điểm: 📍 vị trí 18.67960, 105.68130" in calls[-1].text
    assert draft_row(harness)[0] == "@summary"  # type: ignore[index]


async def test_a_draft_from_an_older_version_does_not_lock_the_member_out(
    harness: Harness,
) -> None:
    lan = await harness.join(501, "16702-K01")
    await to_place_step(harness)
    with sqlite3.connect(harness.db_path) as connection:
        connection.execute("UPDATE drafts SET step = 'renamed_field'")
    calls = await lan.send("/incident")
    assert "Việc xảy ra ở đâu?" in calls[-1].text
    with sqlite3.connect(harness.db_path) as connection:
        connection.execute("UPDATE drafts SET kind = 'removed_kind'")
    calls = await lan.send("xin chào")
    assert "không dùng được nữa" in calls[0].text
    calls = await lan.send("/incident")
    assert "Đây là loại việc gì?" in calls[-1].text


async def test_the_place_keyboard_survives_other_commands_and_leaves_with_the_draft(
    harness: Harness,
) -> None:
    lan = await harness.join(501, "16702-K01")
    await to_place_step(harness)
    for command in ("/help", "/my", "/nothing"):
        calls = await lan.send(command)
        assert calls[-1].reply_buttons()[0].get("request_location") is True
    await lan.send("/activity")
    calls = await lan.tap("Bỏ và làm báo cáo mới")
    shown = [c for c in calls if c.method == "sendMessage"]
    assert shown[0].text == "Đã bỏ báo cáo dở."
    assert shown[0].reply_buttons()[0]["text"] == "🚨 Báo sự việc"


async def test_no_button_or_command_goes_unanswered(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    calls = await lan.tap_data("poll:42")
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    calls = await lan.send("/menu")
    assert "Bot không có lệnh này" in calls[0].text


async def test_language_double_tap_does_not_break(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/language")
    await lan.tap("English")
    harness.telegram.fail_next(
        "editMessageReplyMarkup", 400, "Bad Request: message is not modified", chat_id=501
    )
    calls = await lan.tap("English")
    assert calls[-1].text == "Switched to English."


async def test_the_member_is_told_how_many_supervisors_really_got_the_alert(
    harness: Harness,
) -> None:
    await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    await harness.join(901, "16702", Role.SUPERVISOR, "Hà")
    lan = await harness.join(501, "16702-K01")
    harness.telegram.fail_next("sendMessage", 403, "Forbidden: bot was blocked", chat_id=901)
    await submit_urgent(lan)
    assert "Đã báo ngay cho 1 cán bộ phụ trách" in lan.last_text()
    harness.telegram.fail_next("sendMessage", 403, "Forbidden: bot was blocked", chat_id=900)
    harness.telegram.fail_next("sendMessage", 403, "Forbidden: bot was blocked", chat_id=901)
    await submit_urgent(lan)
    assert "Chưa báo được cho cán bộ phụ trách nào" in lan.last_text()


async def test_a_supervisor_reporting_is_not_alerted_about_their_own_report(
    harness: Harness,
) -> None:
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    ha = await harness.join(901, "16702", Role.SUPERVISOR, "Hà")
    await submit_urgent(hung)
    assert "Đã báo ngay cho 1 cán bộ phụ trách" in hung.last_text()
    assert not any("KHẨN CẤP" in c.text for c in hung.calls() if c.method == "sendMessage")
    assert any("KHẨN CẤP" in c.text for c in ha.calls() if c.method == "sendMessage")


async def test_the_retry_job_and_a_submit_never_send_one_alert_twice(harness: Harness) -> None:
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01")
    harness.telegram.fail_next("sendMessage", 502, "Bad Gateway", chat_id=900)
    await submit_urgent(lan)
    harness.now += timedelta(seconds=10)  # past the retry's back-off
    job = harness.application.job_queue.get_jobs_by_name("outbox:drain")[0]  # type: ignore[union-attr]
    outbox = harness.application.bot_data["services"].outbox
    await asyncio.gather(
        *(job.run(harness.application) for _ in range(3)),
        outbox.send_for_report(harness.application.bot, 1),
    )
    assert deliveries(harness) == [(900, "sent", 2)]
    delivered = [c for c in supervisor.calls() if "KHẨN CẤP" in str(c.params.get("text"))]
    assert len(delivered) == 2  # the refused attempt and one delivery


async def test_images_sent_as_files_reach_supervisors_as_files(harness: Harness) -> None:
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01")
    await to_place_step(harness)
    await lan.send("❔ Không rõ địa điểm")
    await lan.send("Cháy kho")
    await lan.tap("Bỏ qua")
    await lan.send_photo("photo-1")
    await lan.send_image_file("scan-1")
    await lan.tap("Xong")
    await lan.tap("Cần theo dõi")
    await lan.tap("🚨 Khẩn cấp")
    await lan.tap("Gửi báo cáo")
    methods = [c.method for c in supervisor.calls()[-3:]]
    assert methods == ["sendMessage", "sendPhoto", "sendDocument"]
    with sqlite3.connect(harness.db_path) as connection:
        kinds = connection.execute(
            "SELECT file_id, kind FROM report_photos ORDER BY position"
        ).fetchall()
    assert kinds == [("photo-1", "photo"), ("scan-1", "document")]


async def test_a_restart_does_not_repeat_a_reply_that_changed_nothing(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/my", update_id=9300)
    await harness.stop()
    with sqlite3.connect(harness.db_path) as connection:
        # As if the process died while answering /my, before recording it: /my changed
        # nothing, so it left no note of replies owed.
        connection.execute("DELETE FROM once_keys WHERE key = 'update:9300'")
    seen = len(lan.calls())
    await harness.start()
    assert len(lan.calls()) == seen
    with sqlite3.connect(harness.db_path) as connection:
        assert connection.execute("SELECT count(*) FROM pending_replies").fetchone() == (0,)


async def test_strangers_leave_nothing_in_flight(harness: Harness) -> None:
    await harness.user(666, "X").send("xin chào")
    await harness.db.flush_deferred()
    with sqlite3.connect(harness.db_path) as connection:
        assert connection.execute("SELECT count(*) FROM pending_replies").fetchone() == (0,)


async def test_an_album_is_acknowledged_once_after_its_last_photo(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await to_place_step(harness)
    await lan.send("❔ Không rõ địa điểm")
    await lan.send("Cháy kho")
    await lan.tap("Bỏ qua")
    for n in range(4):
        assert await lan.send_photo(f"album-{n}", album="A1") == []
    jobs = harness.application.job_queue.get_jobs_by_name("album:501:A1")  # type: ignore[union-attr]
    assert len(jobs) == 1  # each photo replaced the previous photo's pending answer
    seen = len(lan.calls())
    await jobs[0].run(harness.application)
    told = lan.calls()[seen:]
    assert [c.text for c in told] == ["Đã nhận 4/10 ảnh. Gửi thêm, hoặc bấm Xong."]
    assert told[0].inline_buttons()[0][0] == "✅ Xong (4 ảnh)"


async def test_a_double_tap_on_an_edit_button_is_quiet(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await walk_incident(lan)
    call, data = lan.find_button("✏️ Diễn biến")
    await lan.tap_data(data, call.text)
    calls = await lan.tap_data(data, call.text)
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert lan.popups(calls) == [""]
