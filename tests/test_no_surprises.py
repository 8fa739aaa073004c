"""No surprises while a report is open (issue 9), through the fake Bot API.

- A menu button that would start another report, or record "nothing new", over an open
  report asks first, in one message: go on with it, or discard it and do the new thing.
- The summary's "🗑 Hủy" asks before throwing the report away.
- A typed wrong answer is one message: the reason, then the question with its buttons.
"""

from __future__ import annotations

import sqlite3

from botapi_sim.core import Call
from botapi_sim.driver import Harness, Person
from domain.forms import FORMS
from presentation.i18n import Translator
from tests.flows import draft_row, to_place_step, walk_incident

T = Translator.load("vi")


def label(key: str, **values: object) -> str:
    return T.plain("vi", key, **values)


def prompt(kind: str, key: str) -> str:
    """A form's question as the member reads it."""
    spec = FORMS[kind].field(key)
    assert spec is not None
    return label(spec.prompt)


def rows(harness: Harness, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(harness.db_path) as connection:
        return connection.execute(sql).fetchall()


def nothing_reports(harness: Harness) -> list[tuple[object, ...]]:
    return rows(harness, "SELECT id FROM reports WHERE kind = 'nothing'")


def drafts(harness: Harness) -> list[tuple[object, ...]]:
    """Every draft: (kind, step, report_id)."""
    return rows(harness, "SELECT kind, step, report_id FROM drafts ORDER BY id")


def sent(calls: list[Call]) -> list[str]:
    """The texts of the messages a handful of calls sent."""
    return [c.text for c in calls if c.method == "sendMessage"]


async def open_incident(harness: Harness) -> Person:
    """Member 501 with an incident open at its second question (the category chosen)."""
    lan = await harness.join(501, "16702-K01")
    await lan.send("/incident")
    await lan.tap("Trộm cắp tài sản")
    assert drafts(harness) == [("incident", "when", None)]
    return lan


# --- a menu button over an open report ------------------------------------------------


async def test_nothing_new_over_an_open_incident_asks_and_records_only_when_told(
    harness: Harness,
) -> None:
    lan = await open_incident(harness)

    for tapped in (label("menu.nothing"), "/nothing"):
        calls = await lan.send(tapped)
        [asked] = [c for c in calls if c.method == "sendMessage"]
        assert asked.text == (
            "Đồng chí đang báo dở một vụ việc (Trộm cắp tài sản). Tiếp tục báo cáo đó,"
            " hay bỏ đi để báo hôm nay không có gì mới?"
        )
        assert [text for text, _ in asked.inline_buttons()] == [
            label("draft.continue"),
            label("draft.discard_for.nothing"),
        ]
        # Asking changed nothing: the day is not "nothing new", the incident is where it was.
        assert nothing_reports(harness) == []
        assert drafts(harness) == [("incident", "when", None)]

    # Continue: the open question again, once however often the button is tapped.
    message, go_on = lan.find_button(label("draft.continue"))
    calls = await lan.tap_data(go_on, message)
    assert sent(calls) == [prompt("incident", "when")]
    again = await lan.tap_data(go_on, message)
    assert [c.method for c in again if c.ok] == ["answerCallbackQuery"]
    assert nothing_reports(harness) == []
    assert drafts(harness) == [("incident", "when", None)]

    # Discard: the incident goes, and only then is the day recorded as nothing new.
    await lan.send(label("menu.nothing"))
    message, discard = lan.find_button(label("draft.discard_for.nothing"))
    calls = await lan.tap_data(discard, message)
    texts = sent(calls)
    assert len(texts) == 2
    assert texts[0] == label("draft.discarded")
    assert drafts(harness) == []
    assert len(nothing_reports(harness)) == 1
    # The same button tapped again (before its buttons went) records nothing more.
    calls = await lan.tap_data(discard, message)
    assert sent(calls) == []
    assert lan.popups(calls) == [label("error.stale_button")]
    assert len(nothing_reports(harness)) == 1


async def test_incident_over_an_open_activity_asks_then_continues_or_replaces(
    harness: Harness,
) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/activity")
    _, first_type = lan.last_buttons_call().inline_buttons()[0]
    await lan.tap_data(first_type)
    [(kind, step, _)] = drafts(harness)
    assert (kind, step) == ("activity", "day")

    calls = await lan.send(label("menu.incident"))
    [asked] = sent(calls)
    assert asked.startswith("Đồng chí đang báo dở một hoạt động (")
    assert asked.endswith("Tiếp tục báo cáo đó, hay bỏ đi để báo vụ việc mới?")
    assert drafts(harness) == [("activity", "day", None)]

    calls = await lan.tap(label("draft.continue"))
    assert drafts(harness) == [("activity", "day", None)]
    assert sent(calls) == [prompt("activity", "day")]

    await lan.send(label("menu.incident"))
    message, replace = lan.find_button(label("draft.discard_for.incident"))
    calls = await lan.tap_data(replace, message)
    assert sent(calls)[0] == label("draft.discarded")
    assert prompt("incident", "cat") in sent(calls)[-1]
    assert drafts(harness) == [("incident", "cat", None)]
    # A second tap finds the activity gone: the new incident is left alone.
    calls = await lan.tap_data(replace, message)
    assert sent(calls) == []
    assert drafts(harness) == [("incident", "cat", None)]


async def test_activity_over_an_open_incident_asks_then_continues_or_replaces(
    harness: Harness,
) -> None:
    lan = await open_incident(harness)

    calls = await lan.send(label("menu.activity"))
    assert sent(calls) == [
        "Đồng chí đang báo dở một vụ việc (Trộm cắp tài sản). Tiếp tục báo cáo đó,"
        " hay bỏ đi để báo hoạt động mới?"
    ]
    calls = await lan.tap(label("draft.continue"))
    assert sent(calls) == [prompt("incident", "when")]
    assert drafts(harness) == [("incident", "when", None)]

    await lan.send("/activity")
    calls = await lan.tap(label("draft.discard_for.activity"))
    assert sent(calls)[0] == label("draft.discarded")
    assert prompt("activity", "type") in sent(calls)[-1]
    assert drafts(harness) == [("activity", "type", None)]


async def test_a_reopened_sent_report_counts_as_open_and_discarding_drops_only_changes(
    harness: Harness,
) -> None:
    lan = await harness.join(501, "16702-K01")
    await walk_incident(lan)
    await lan.tap("Gửi báo cáo")
    await lan.send("/my")
    await lan.tap("Sửa số 1")
    assert drafts(harness) == [("incident", "@summary", 1)]

    # Even the same kind asks: the member is editing report 1, not starting a new one.
    calls = await lan.send("/incident")
    assert sent(calls) == [
        "Đồng chí đang sửa dở báo cáo số 1. Tiếp tục sửa, hay bỏ các thay đổi và báo vụ"
        " việc mới? Báo cáo đã gửi vẫn giữ nguyên."
    ]
    calls = await lan.send("/nothing")
    assert "đang sửa dở báo cáo số 1" in sent(calls)[0]
    assert nothing_reports(harness) == []
    calls = await lan.tap(label("draft.discard_for.nothing"))
    assert sent(calls)[0] == label("own.edit_discarded", number=1)
    assert drafts(harness) == []
    assert nothing_reports(harness) == [(2,)]
    assert rows(harness, "SELECT status FROM reports WHERE id = 1") == [("submitted",)]


async def test_read_only_commands_leave_the_open_report_alone(harness: Harness) -> None:
    lan = await open_incident(harness)
    for command in ("/my", "/help", "/language", label("menu.my")):
        calls = await lan.send(command)
        assert calls, command
        assert not any("báo dở" in text for text in sent(calls)), command
    assert drafts(harness) == [("incident", "when", None)]
    # The report goes on from where it was.
    await lan.tap("Vừa xảy ra")
    assert drafts(harness) == [("incident", "place", None)]


# --- the summary's discard asks first -------------------------------------------------


async def test_discard_on_the_summary_asks_and_can_go_back(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await walk_incident(lan)
    summary, discard = lan.find_button("🗑 Hủy")

    calls = await lan.tap_data(discard, summary)
    [edit] = [c for c in calls if c.method == "editMessageText"]
    assert edit.text == "Bỏ báo cáo này? Những gì đã nhập sẽ mất."
    assert [text for text, _ in edit.inline_buttons()] == ["🗑 Bỏ báo cáo", "↩️ Quay lại"]
    assert sent(calls) == []
    assert draft_row(harness) is not None
    # "🗑 Hủy" tapped twice on the summary as it was: the question is already there.
    calls = await lan.tap_data(discard, summary)
    assert [c.method for c in calls if c.ok] == ["answerCallbackQuery"]

    question, back = lan.find_button("↩️ Quay lại")
    calls = await lan.tap_data(back, question)
    [edit] = [c for c in calls if c.method == "editMessageText"]
    assert "Mất xe máy trước nhà số 5" in edit.text  # the summary, with its buttons
    assert [t for t, _ in edit.inline_buttons()][-2:] == [label("button.submit"), "🗑 Hủy"]
    # "Quay lại" tapped twice: the summary is not sent a second time.
    calls = await lan.tap_data(back, question)
    assert [c.method for c in calls if c.ok] == ["answerCallbackQuery"]
    assert draft_row(harness) is not None

    # And the report is still there to send.
    await lan.tap("Gửi báo cáo")
    assert rows(harness, "SELECT id, kind FROM reports") == [(1, "incident")]


async def test_discard_confirmed_throws_the_report_away_once(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await walk_incident(lan)
    await lan.tap("🗑 Hủy")
    question, confirm = lan.find_button("🗑 Bỏ báo cáo")

    calls = await lan.tap_data(confirm, question)
    assert sent(calls) == [label("cancel.done")]
    assert draft_row(harness) is None
    # Tapped twice: nothing more is discarded or said, bar the old button's pop-up.
    calls = await lan.tap_data(confirm, question)
    assert sent(calls) == []
    assert lan.popups(calls) == [label("error.stale_button")]
    assert rows(harness, "SELECT count(*) FROM reports") == [(0,)]


async def test_cancel_typed_discards_at_once(harness: Harness) -> None:
    """/cancel is an explicit command: it stays immediate."""
    lan = await open_incident(harness)
    calls = await lan.send("/cancel")
    assert sent(calls) == [label("cancel.done")]
    assert drafts(harness) == []


# --- one message per wrong answer ------------------------------------------------------


async def test_a_wrong_answer_at_a_text_step_is_one_message(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await to_place_step(harness)
    await lan.send("❔ Không rõ địa điểm")
    assert draft_row(harness)[0] == "desc"  # type: ignore[index]

    calls = await lan.send("x" * 1001)
    [message] = calls
    assert message.method == "sendMessage"
    assert message.text == (
        label("error.too_long", length=1001, limit=1000) + "\n\n" + prompt("incident", "desc")
    )
    assert draft_row(harness)[0] == "desc"  # type: ignore[index]


async def test_a_wrong_answer_at_a_when_step_is_one_message_with_its_buttons(
    harness: Harness,
) -> None:
    await open_incident(harness)
    lan = harness.user(501)
    calls = await lan.send("không nhớ rõ lắm")
    [message] = calls
    assert message.method == "sendMessage"
    reason, _, question = message.text.partition("\n\n")
    assert reason and prompt("incident", "when") not in reason
    assert question == prompt("incident", "when")
    assert "Vừa xảy ra" in [text for text, _ in message.inline_buttons()]
    assert drafts(harness) == [("incident", "when", None)]
    # The buttons work: the second chance is the same question.
    await lan.tap("Vừa xảy ra")
    assert drafts(harness) == [("incident", "place", None)]


async def test_a_wrong_answer_at_the_place_step_is_one_message_with_its_keyboard(
    harness: Harness,
) -> None:
    lan = await harness.join(501, "16702-K01")
    await to_place_step(harness)
    calls = await lan.send("Ngõ " + "5" * 400)
    [message] = calls
    assert message.method == "sendMessage"
    assert message.text == (
        label("error.too_long", length=404, limit=300) + "\n\n" + prompt("incident", "place")
    )
    assert message.reply_buttons()[0].get("request_location") is True
    assert draft_row(harness)[0] == "place"  # type: ignore[index]


async def test_text_typed_at_the_summary_is_one_message_with_the_summary(
    harness: Harness,
) -> None:
    lan = await harness.join(501, "16702-K01")
    await walk_incident(lan)
    calls = await lan.send("gửi đi")
    (shown,) = sent(calls)
    assert shown.startswith(label("summary.use_buttons"))
    assert "Kiểm tra báo cáo" in shown
    assert any("Gửi báo cáo" in text for text, _ in calls[-1].inline_buttons())
    assert rows(harness, "SELECT count(*) FROM reports") == [(0,)]


async def test_urgent_over_an_open_report_asks_first(harness: Harness) -> None:
    lan = await open_incident(harness)
    calls = await lan.send("🆘 Báo khẩn")
    assert "đang báo dở" in sent(calls)[0]
    assert drafts(harness) == [("incident", "when", None)]  # untouched until told
    await lan.tap("Bỏ, báo khẩn ngay")
    assert "Câu 1/3" in lan.last_text()
    assert drafts(harness) == [("incident", "cat", None)]


async def test_a_replacement_that_cannot_be_saved_keeps_the_open_report(
    harness: Harness,
) -> None:
    """Discarding the open report and starting the new one is one write: when it fails,
    the member still has the report they had, and the same button works once it can."""
    lan = await open_incident(harness)
    await lan.send("/activity")
    with sqlite3.connect(harness.db_path) as connection:
        connection.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON drafts"
            " BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
        )
    message, data = lan.find_button("Bỏ, báo hoạt động mới")
    await lan.tap_data(data, message)
    assert drafts(harness) == [("incident", "when", None)]  # kept whole
    with sqlite3.connect(harness.db_path) as connection:
        connection.execute("DROP TRIGGER refuse")
    await lan.tap_data(data, message)
    assert drafts(harness) == [("activity", "type", None)]
