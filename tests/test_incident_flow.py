from __future__ import annotations

import sqlite3
from datetime import timedelta

from botapi_sim.driver import Harness
from domain.models import ReportStatus, Role
from storage.members import member_by_telegram_id
from storage.reports import get_report, report_events
from tests.flows import draft_row, to_place_step, walk_incident


async def test_full_incident_report_is_saved(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await walk_incident(lan)
    summary = lan.last_buttons_call()
    assert "Kiểm tra báo cáo: Vụ việc" in summary.text
    assert "Mất xe máy trước nhà số 5" in summary.text
    calls = await lan.tap("Gửi báo cáo")
    assert any("Đã gửi báo cáo số 1" in c.text for c in calls if c.method == "editMessageText")

    rows = (
        sqlite3.connect(harness.db_path)
        .execute(
            "SELECT kind, category_code, description, latitude, action_taken, urgent, unit_code"
            " FROM reports"
        )
        .fetchall()
    )
    assert rows == [
        ("incident", "THEFT", "Mất xe máy trước nhà số 5", 18.6796, "police", 0, "16702-K01")
    ]


def report_rows(harness: Harness, columns: str = "*") -> list[tuple[object, ...]]:
    with sqlite3.connect(harness.db_path) as connection:
        return connection.execute(f"SELECT {columns} FROM reports").fetchall()  # noqa: S608


async def test_menu_button_starts_a_report_like_the_command(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    calls = await lan.send("🚨 Báo vụ việc")
    assert "Vụ việc thuộc loại nào?" in calls[-1].text
    assert len(calls[-1].inline_buttons()) == 16


async def test_wrong_answers_are_explained_and_asked_again(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/incident")

    # Typing where a button is expected: one message, the reason then the question.
    [call] = await lan.send("trộm")
    assert "chọn một nút" in call.text
    assert "Vụ việc thuộc loại nào?" in call.text
    assert any("Trộm cắp" in label for label, _ in call.inline_buttons())
    # A forged button value the catalogue does not have.
    _, data = lan.find_button("Trộm cắp")
    calls = await lan.tap_data(data.rsplit(":", 1)[0] + ":NOT_A_CODE")
    assert "chọn một nút" in lan.popups(calls)[0]
    await lan.tap("Trộm cắp tài sản")

    # A time in the future, then nonsense, then a time that works.
    await lan.tap("Hôm nay, giờ khác")
    calls = await lan.send("23:00")
    # Issue 9: a time still ahead today is refused with yesterday's reading one tap away.
    assert "chưa tới" in calls[0].text
    assert [label for label, _ in calls[0].inline_buttons()] == ["Tối qua 23:00"]
    calls = await lan.send("lúc nãy")
    assert "Chưa hiểu giờ" in calls[0].text
    await lan.send("8h15")
    assert draft_row(harness)[0] == "place"  # type: ignore[index]

    # Another day must carry a date; one too far back is refused.
    await lan.send("Ngõ 5 Lê Lợi")
    calls = await lan.send_photo("p1")
    assert "vui lòng gõ chữ" in calls[0].text
    calls = await lan.send_sticker()
    assert "chưa đọc được tin nhắn thoại" in calls[0].text
    calls = await lan.send("x" * 1001)
    assert "dài 1001 ký tự, tối đa 1000" in calls[0].text
    calls = await lan.send("   ")
    assert "trống" in calls[0].text
    await lan.send("Mất xe máy")
    assert draft_row(harness)[0] == "people"  # type: ignore[index]
    # Nothing typed so far was lost along the way.
    data = str(draft_row(harness)[3])  # type: ignore[index]
    assert "THEFT" in data and "Ngõ 5 Lê Lợi" in data and "Mất xe máy" in data


async def test_another_day_needs_a_date_and_not_too_old(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/incident")
    await lan.tap("Trộm cắp tài sản")
    await lan.tap("Ngày khác")
    calls = await lan.send("21:15")
    assert "cả ngày và giờ" in calls[0].text
    calls = await lan.send("24/11/2024 21:15")
    assert "quá một năm" in calls[0].text
    await lan.send("24/11 21:15")
    assert draft_row(harness)[0] == "place"  # type: ignore[index]
    assert "2026-11-24T21:15:00+07:00" in str(draft_row(harness)[3])  # type: ignore[index]


async def test_place_can_be_unknown_and_the_menu_comes_back(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/incident")
    await lan.tap("Trộm cắp tài sản")
    calls = await lan.tap("Vừa xảy ra")
    place_prompt = calls[-1]
    buttons = place_prompt.reply_buttons()
    assert buttons[0] == {"text": "📍 Gửi vị trí", "request_location": True}
    calls = await lan.send("❔ Không rõ địa điểm")
    # The next question has no buttons of its own, so it comes in the same message.
    assert calls[0].text == "✅ Địa điểm: không rõ\n\nKể ngắn gọn việc gì đã xảy ra."
    assert calls[0].reply_buttons()[0]["text"] == "🆘 Báo khẩn"
    assert '"place": {"none": true}' in str(draft_row(harness)[3])  # type: ignore[index]


async def test_edit_from_the_summary_changes_one_field_and_returns(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await walk_incident(lan)
    calls = await lan.tap("✏️ Loại việc")
    assert "Đang sửa, hiện tại là: Trộm cắp tài sản" in calls[-1].text
    calls = await lan.tap("Cháy, nổ")
    assert "Kiểm tra báo cáo" in calls[-1].text
    assert "Loại việc: Cháy, nổ" in calls[-1].text
    assert "Mất xe máy" in calls[-1].text
    calls = await lan.tap("✏️ Người liên quan")
    calls = await lan.send("Hai thanh niên, xe Wave 37A-123.45")
    assert "Người liên quan: Hai thanh niên, xe Wave 37A-123.45" in calls[-1].text
    await lan.tap("Gửi báo cáo")
    assert report_rows(harness, "category_code, people") == [
        ("FIRE_EXPLOSION", "Hai thanh niên, xe Wave 37A-123.45")
    ]


async def test_typing_at_the_summary_shows_it_again(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await walk_incident(lan)
    calls = await lan.send("xong rồi")
    (shown,) = [c for c in calls if c.method == "sendMessage"]  # one message, not two
    assert "Bấm Gửi báo cáo" in shown.text
    assert "Kiểm tra báo cáo" in shown.text
    assert report_rows(harness) == []


async def test_cancel_discards_the_draft_at_any_step(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/incident")
    await lan.tap("Trộm cắp tài sản")
    calls = await lan.send("/cancel")
    assert "Đã hủy" in calls[0].text
    assert draft_row(harness) is None
    calls = await lan.send("/cancel")
    assert "Không có báo cáo nào đang làm" in calls[0].text
    # A button of the discarded draft no longer does anything.
    calls = await lan.tap("Vừa xảy ra")
    assert "báo cáo cũ" in lan.popups(calls)[0]
    assert draft_row(harness) is None


async def test_discard_button_on_the_summary(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await walk_incident(lan)
    summary, submit = lan.find_button("Gửi báo cáo")
    await lan.tap("🗑 Hủy")
    await lan.tap("🗑 Bỏ báo cáo")  # asked first (tests/test_no_surprises.py)
    assert draft_row(harness) is None
    # Submit on the summary as it was on screen, tapped before the discard took its buttons.
    calls = await lan.tap_data(submit, summary)
    assert "báo cáo cũ" in lan.popups(calls)[0]
    assert report_rows(harness) == []


async def test_html_typed_anywhere_is_shown_as_text(harness: Harness) -> None:
    """The fake answers 400 to HTML that does not parse, so a missed escape fails here."""
    lan = await harness.join(501, "16702-K01", first_name="<b>Lan</b> & <i")
    sup = await harness.join(900, "16702", Role.SUPERVISOR, first_name="Hùng")
    nasty = '<a href="x">bấm</a> & <script>alert(1)</script> </b>'
    await lan.send("/incident")
    await lan.tap("Trộm cắp tài sản")
    await lan.tap("Vừa xảy ra")
    await lan.send(nasty)  # address
    await lan.send(nasty)  # description
    await lan.send(nasty)  # people
    await lan.tap("Bỏ qua")
    await lan.tap("Đã xử lý tại chỗ")
    await lan.tap("🚨 Khẩn cấp")
    summary = lan.last_buttons_call()
    assert summary.text.count(nasty) == 3
    await lan.tap("Gửi báo cáo")
    alert = sup.calls()[-1]
    assert alert.text.count(nasty) == 3
    assert "<b>Lan</b> & <i" in alert.text
    failures = [
        c
        for c in harness.telegram.calls
        if c.method == "sendMessage" and c.params.get("parse_mode") != "HTML"
    ]
    assert failures == []


async def test_double_tap_on_submit_makes_one_report(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await walk_incident(lan)
    # Both taps land on the summary as it was, before the first one's edit reached the screen.
    summary, submit = lan.find_button("Gửi báo cáo")
    await lan.tap_data(submit, summary)
    calls = await lan.tap_data(submit, summary)
    assert lan.popups(calls) == ["Báo cáo này đã được gửi (số 1)."]
    assert len(report_rows(harness)) == 1


async def test_same_update_delivered_twice_changes_nothing_twice(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/incident")
    await lan.tap("Trộm cắp tài sản")
    await lan.tap("Vừa xảy ra")
    await lan.send("Ngõ 5", update_id=5000)
    calls = await lan.send("Ngõ 5", update_id=5000)
    assert calls == []
    assert draft_row(harness)[0] == "desc"  # type: ignore[index]
    await lan.send("Mất xe máy")
    await lan.tap("Bỏ qua")
    await lan.tap("Bỏ qua")
    await lan.tap("Đã xử lý tại chỗ")
    await lan.tap("Không khẩn cấp")
    summary, submit = lan.find_button("Gửi báo cáo")
    await lan.tap_data(submit, summary, update_id=6000)
    assert await lan.tap_data(submit, summary, update_id=6000) == []
    assert report_rows(harness, "kind, address") == [("incident", "Ngõ 5")]


async def test_a_second_report_kind_asks_before_replacing_a_draft(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/incident")
    await lan.tap("Trộm cắp tài sản")
    calls = await lan.send("/activity")
    assert "đang báo dở một vụ việc (Trộm cắp tài sản)" in calls[-1].text
    calls = await lan.tap("Tiếp tục báo cáo dở")
    assert "Việc xảy ra lúc nào?" in calls[-1].text
    await lan.send("/activity")
    calls = await lan.tap("Bỏ, báo hoạt động mới")
    assert "Đây là hoạt động gì?" in calls[-1].text
    assert draft_row(harness)[0] == "type"  # type: ignore[index]


async def test_the_same_command_resumes_where_the_member_was(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/incident")
    await lan.tap("Trộm cắp tài sản")
    calls = await lan.send("/incident")
    assert "Tiếp tục báo cáo đang làm dở" in calls[0].text
    assert "Việc xảy ra lúc nào?" in calls[1].text


async def test_old_buttons_of_answered_questions_are_refused(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/incident")
    call, data = lan.find_button("Trộm cắp")
    await lan.tap_data(data, call)
    calls = await lan.tap_data(data.replace("THEFT", "ROBBERY"), call)
    assert lan.popups(calls) == ["Câu này đã được trả lời rồi."]
    assert '"cat": "THEFT"' in str(draft_row(harness)[3])  # type: ignore[index]


async def test_forged_callback_data_for_someone_elses_draft_is_refused(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    minh = await harness.join(502, "16702-K01", first_name="Minh")
    await lan.send("/incident")
    _, data = lan.find_button("Trộm cắp")
    for forged in (data, "r:1:s", "r:abc", "r:1:e:desc", "lang:xx", "r:1:a:cat"):
        calls = await minh.tap_data(forged)
        assert calls[0].method == "answerCallbackQuery"
    assert '"cat"' not in str(draft_row(harness)[3])  # type: ignore[index]
    assert report_rows(harness) == []


async def test_photos_are_kept_in_order_and_limited(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/incident")
    await lan.tap("Trộm cắp tài sản")
    await lan.tap("Vừa xảy ra")
    await lan.send("❔ Không rõ địa điểm")
    await lan.send("Mất xe máy")
    await lan.tap("Bỏ qua")
    for n in range(10):
        await lan.send_photo(f"photo-{n}")
    # Sent one after another at once, they are a burst: one answer after the last one.
    calls = await lan.send_photo("photo-10")
    assert calls == []
    jobs = harness.application.job_queue.get_jobs_by_name("photos:501")  # type: ignore[union-attr]
    assert len(jobs) == 1
    seen = len(lan.calls())
    await jobs[0].run(harness.application)
    assert [c.text for c in lan.calls()[seen:]] == [
        "Đã nhận 10/10 ảnh. Gửi thêm, hoặc bấm Xong.\n"
        "Không nhận thêm 1 ảnh: mỗi báo cáo giữ tối đa 10 ảnh."
    ]
    # A photo on its own, once the burst is over, is refused at once.
    harness.elapse(timedelta(seconds=5))
    calls = await lan.send_photo("photo-11")
    assert "Đã đủ 10 ảnh" in calls[0].text
    calls = await lan.send("đây")
    assert "gửi ảnh" in calls[0].text
    await lan.tap("Xong (10 ảnh)")
    await lan.tap("Đã xử lý tại chỗ")
    await lan.tap("Không khẩn cấp")
    await lan.tap("Gửi báo cáo")
    with sqlite3.connect(harness.db_path) as connection:
        photos = connection.execute(
            "SELECT file_id FROM report_photos ORDER BY position"
        ).fetchall()
    assert [p[0] for p in photos] == [f"photo-{n}" for n in range(10)]


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
    assert calls[0].reply_buttons()[0]["text"] == "🆘 Báo khẩn"
    assert "Địa điểm: 📍 Vị trí trên bản đồ" in calls[-1].text
    assert draft_row(harness)[0] == "@summary"  # type: ignore[index]


async def test_a_double_tap_on_an_edit_button_is_quiet(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await walk_incident(lan)
    call, data = lan.find_button("✏️ Diễn biến")
    await lan.tap_data(data, call)
    calls = await lan.tap_data(data, call)
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert lan.popups(calls) == [""]


async def test_the_place_keyboard_survives_other_commands_and_leaves_with_the_draft(
    harness: Harness,
) -> None:
    lan = await harness.join(501, "16702-K01")
    await to_place_step(harness)
    for command in ("/help", "/my"):
        calls = await lan.send(command)
        assert calls[-1].reply_buttons()[0].get("request_location") is True
    # /nothing over the open report asks first, and leaves its keyboard where it is.
    calls = await lan.send("/nothing")
    assert "đang báo dở" in calls[-1].text and calls[-1].reply_buttons() == []
    await lan.send("/activity")
    calls = await lan.tap("Bỏ, báo hoạt động mới")
    shown = [c for c in calls if c.method == "sendMessage"]
    assert shown[0].text == "Đã bỏ báo cáo dở."
    assert shown[0].reply_buttons()[0]["text"] == "🆘 Báo khẩn"


async def test_an_album_is_acknowledged_once_after_its_last_photo(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await to_place_step(harness)
    await lan.send("❔ Không rõ địa điểm")
    await lan.send("Cháy kho")
    await lan.tap("Bỏ qua")
    for n in range(4):
        assert await lan.send_photo(f"album-{n}", album="A1") == []
    jobs = harness.application.job_queue.get_jobs_by_name("photos:501")  # type: ignore[union-attr]
    assert len(jobs) == 1  # each photo replaced the previous photo's pending answer
    seen = len(lan.calls())
    await jobs[0].run(harness.application)
    told = lan.calls()[seen:]
    assert [c.text for c in told] == ["Đã nhận 4/10 ảnh. Gửi thêm, hoặc bấm Xong."]
    assert told[0].inline_buttons()[0][0] == "✅ Xong (4 ảnh)"


async def test_fifty_photos_in_albums_get_one_answer(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await to_place_step(harness)
    await lan.send("❔ Không rõ địa điểm")
    await lan.send("Cháy kho")
    await lan.tap("Bỏ qua")
    seen = len(lan.calls())
    for album in range(5):
        for n in range(10):
            await lan.send_photo(f"a{album}-{n}", album=f"A{album}")
    assert len(lan.calls()) == seen  # nothing yet: the photos are still coming
    jobs = harness.application.job_queue.get_jobs_by_name("photos:501")  # type: ignore[union-attr]
    await jobs[0].run(harness.application)
    told = lan.calls()[seen:]
    assert [c.text for c in told] == [
        "Đã nhận 10/10 ảnh. Gửi thêm, hoặc bấm Xong.\n"
        "Không nhận thêm 40 ảnh: mỗi báo cáo giữ tối đa 10 ảnh."
    ]


async def test_a_submitted_report_has_its_status_and_its_first_event(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await walk_incident(lan)
    await lan.tap("Gửi báo cáo")
    report = await get_report(harness.db, 1)
    assert report is not None and report.status is ReportStatus.SUBMITTED
    assert report.alert_state is None  # not urgent
    events = await report_events(harness.db, 1)
    member = await member_by_telegram_id(harness.db, 501)
    assert member is not None
    assert [(e.event, e.actor_id, e.at) for e in events] == [("submitted", member.id, harness.now)]
