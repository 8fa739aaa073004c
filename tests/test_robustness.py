"""What must not happen whatever a member sends or Telegram answers."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from botapi_sim.driver import TOKEN, Harness
from domain.catalogue import DEFAULT_FILES, default_catalogue, read_catalogue
from domain.models import Role
from tests.flows import to_place_step


async def test_a_failing_reply_is_apologised_for_and_the_answer_kept(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/incident")
    await lan.tap("Trộm cắp tài sản")
    await lan.tap("Vừa xảy ra")
    harness.telegram.fail_next("sendMessage", 400, "Bad Request: chat not found", chat_id=501)
    with caplog.at_level(logging.ERROR):
        calls = await lan.send("Ngõ 5 Lê Lợi")
    texts = [c.text for c in calls if c.method == "sendMessage"]
    assert "Xin lỗi, bot vừa gặp lỗi" in texts[-3]
    assert texts[-1] == "Kể ngắn gọn việc gì đã xảy ra."
    assert any(record.exc_info for record in caplog.records)
    # The answer was committed before the reply failed; the next message goes on from there.
    calls = await lan.send("Mất xe máy")
    assert "Những ai liên quan" in calls[-1].text
    with sqlite3.connect(harness.db_path) as connection:
        assert "Ngõ 5 Lê Lợi" in connection.execute("SELECT data FROM drafts").fetchone()[0]


async def test_an_edited_message_is_not_taken_as_an_answer(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/incident")
    await lan.tap("Trộm cắp tài sản")
    await lan.tap("Vừa xảy ra")
    await lan.send("Ngõ 5")
    edited = {
        "edited_message": {
            "message_id": 1, "date": 0, "edit_date": 1, "text": "Ngõ 7",
            "chat": {"id": 501, "type": "private"},
            "from": {"id": 501, "is_bot": False, "first_name": "Lan"},
        }
    }  # fmt: skip
    await harness.deliver(edited)
    with sqlite3.connect(harness.db_path) as connection:
        step, data = connection.execute("SELECT step, data FROM drafts").fetchone()
    assert step == "desc"
    assert "Ngõ 5" in data and "Ngõ 7" not in data


async def test_html_in_activity_text_is_shown_as_text(harness: Harness) -> None:
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    nasty = "<b>in đậm</b> & <i>nghiêng"
    await supervisor.send("/activity")
    await supervisor.tap("Tuần tra")
    await supervisor.tap("Hôm nay")
    await supervisor.tap("1 giờ")
    await supervisor.tap("3")
    await supervisor.send(nasty)  # place as a typed address
    await supervisor.send(nasty)  # summary
    calls = await supervisor.tap("Bỏ qua")
    assert calls[-1].text.count(nasty) == 2
    await supervisor.tap("Gửi báo cáo")
    assert "Đã gửi báo cáo số 1" in supervisor.last_text()


async def test_the_token_never_reaches_a_log_line(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        lan = await harness.join(501, "16702-K01")
        harness.telegram.fail_next("sendMessage", 502, "Bad Gateway", chat_id=501)
        await lan.send("/incident")
        await lan.send("/help")
    assert caplog.records
    assert all(TOKEN not in record.getMessage() for record in caplog.records)
    assert TOKEN not in caplog.text
    assert TOKEN.split(":")[1] not in repr(harness.application.bot_data["services"].settings)


def test_default_catalogue_codes_fit_in_button_data() -> None:
    for kind in DEFAULT_FILES:
        items = default_catalogue(kind)
        assert items
        longest = max(len(item.code) for item in items)
        # r:<draft id up to 10 digits>:a:<key>:<code> must stay within 64 bytes.
        assert len(f"r:{'9' * 10}:a:type:{'X' * longest}".encode()) <= 64


def test_a_catalogue_with_unusable_codes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "custom.csv"
    for rows in ("theft,Trộm,Theft", "X" * 33 + ",Dài,Long", "A,Một,One\nA,Hai,Two", "B,,Bee"):
        path.write_text(f"code,vi,en\n{rows}\n", encoding="utf-8")
        with pytest.raises(ValueError):
            read_catalogue("incident", path)
    path.write_text("code,vi,en\nLOST_DOG,Chó lạc,Lost dog\n", encoding="utf-8")
    assert read_catalogue("incident", path)[0].name("vi") == "Chó lạc"


def test_log_lines_never_show_the_token_even_in_tracebacks() -> None:
    import io

    from bot.app import RedactToken

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactToken(TOKEN))
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.error("calling https://api.telegram.org/bot%s/getMe", TOKEN)
        try:
            raise ValueError(f"The token `{TOKEN}` was rejected by the server.")
        except ValueError:
            logger.exception("start-up failed")
        logger.warning("nothing secret here")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert TOKEN not in output
    assert output.count("<TOKEN>") == 2
    assert "start-up failed" in output and "ValueError" in output
    assert "nothing secret here" in output


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
    assert "Vụ việc thuộc loại nào?" in calls[-1].text


async def test_no_button_or_command_goes_unanswered(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    calls = await lan.tap_data("poll:42")
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    calls = await lan.send("/menu")
    assert "Bot không có lệnh này" in calls[0].text


async def test_language_double_tap_does_not_break(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/language")
    picker, english = lan.find_button("English")
    await lan.tap_data(english, picker)
    # The second tap's edit finds the buttons already gone: Telegram answers "not modified".
    calls = await lan.tap_data(english, picker)
    assert calls[-1].text == "Switched to English."
