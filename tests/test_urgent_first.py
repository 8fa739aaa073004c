"""🆘 Báo khẩn: an urgent incident reaches the supervisors after three answers, and what
the member adds afterwards reaches the same people as a reply under their alert."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

from botapi_sim.core import Call, Message
from botapi_sim.driver import Harness, Person
from domain.models import Role
from presentation.callbacks import OpenReport
from tests.flows import crash_after_commit, deliveries

URGENT = "🆘 Báo khẩn"
NUMBERS = ("113", "114", "115")


def sent(person: Person) -> list[Call]:
    """The new messages the bot sent this person (not edits, not pop-ups)."""
    return [c for c in person.calls() if c.method.startswith("send") and c.ok]


def alerts(person: Person) -> list[Message]:
    """The alerts in a chat; an escalated one opens with why it came up a level."""
    return [m for m in person.messages() if "🚨 KHẨN CẤP: " in m.text]


async def to_the_last_question(lan: Person) -> None:
    """🆘, the category and the place: one line of what is happening is all that is left."""
    await lan.send(URGENT)
    await lan.tap("Cháy, nổ")
    await lan.send_location(18.6796, 105.6813)


async def report_fire(lan: Person) -> None:
    await to_the_last_question(lan)
    await lan.send("Cháy kho củi, lửa đang lan")


async def test_the_alert_goes_after_three_answers_in_four_messages(harness: Harness) -> None:
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01")
    before = len(sent(lan))

    await lan.send(URGENT)
    intro = sent(lan)[-1]
    assert "Báo khẩn" in intro.text and all(n in intro.text for n in NUMBERS)
    assert any("Cháy, nổ" in label for label, _ in intro.inline_buttons())
    await lan.tap("Cháy, nổ")
    await lan.send_location(18.6796, 105.6813)
    assert alerts(hung) == []  # not yet: one line of what is happening is still to come
    await lan.send("Cháy kho củi, lửa đang lan")

    # The member sent four things, and the bot four messages: the category question (with
    # what follows and the emergency numbers), the place question, the one-line question,
    # and the confirmation with the first of the optional questions.
    assert len(sent(lan)) - before == 4
    confirmation = sent(lan)[-1].text
    assert "Đã báo ngay cho 1 cán bộ phụ trách" in confirmation
    assert all(n in confirmation for n in NUMBERS)
    assert "Bổ sung" in confirmation or "bổ sung" in confirmation
    (alert,) = alerts(hung)
    assert "Vụ việc số 1" in alert.text and "Cháy kho củi, lửa đang lan" in alert.text
    assert "Xử lý: (chưa rõ)" in alert.text  # not asked yet: unknown, not "none"
    # Its map link brings no preview card: the native location follows it already.
    (sent_alert,) = [c for c in hung.calls() if c.text.startswith("🚨 KHẨN CẤP")]
    preview = sent_alert.params["link_preview_options"]
    assert (json.loads(preview) if isinstance(preview, str) else preview)["is_disabled"]
    assert deliveries(harness) == [(900, "sent", 1)]
    with sqlite3.connect(harness.db_path) as db:
        urgent, action = db.execute("SELECT urgent, action_taken FROM reports").fetchone()
    assert (urgent, action) == (1, None)  # saved as urgent; what was done is asked next


async def test_what_is_added_later_is_a_reply_under_each_alert(harness: Harness) -> None:
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    ha = await harness.join(901, "16702", Role.SUPERVISOR, "Hà")
    lan = await harness.join(501, "16702-K01")
    await report_fire(lan)
    seen = {p.user_id: len(p.calls()) for p in (hung, ha)}

    await lan.send("Ông Tư, chủ kho, 0912 345 678")  # people involved
    await lan.send_photo("fire-1")
    await lan.tap("Xong")
    await lan.tap("Cần theo dõi")
    summary = lan.last_buttons_call()
    assert "Bổ sung cho vụ việc khẩn số 1" in summary.text
    labels = [label for label, _ in summary.inline_buttons()]
    assert any("Gửi bổ sung" in label for label in labels)
    assert not any("Mức độ" in label or "Khẩn cấp" in label for label in labels)
    assert len(hung.calls()) == seen[900]  # nothing reaches them before the member sends it
    await lan.tap("Gửi bổ sung")

    assert "Đã gửi phần bổ sung cho vụ việc khẩn số 1" in lan.last_text()
    for supervisor in (hung, ha):
        (alert,) = alerts(supervisor)  # no second alert
        more = [m for m in supervisor.messages() if "Bổ sung cho vụ việc khẩn số 1" in m.text]
        assert len(more) == 1
        assert more[0].reply_to == alert.message_id
        assert "Ông Tư" in more[0].text and "Cần theo dõi" in more[0].text
        assert "Cháy kho củi" not in more[0].text  # what the alert said is not said again
        photos = [c for c in supervisor.calls()[seen[supervisor.user_id] :]
                  if c.method == "sendPhoto"]  # fmt: skip
        assert [c.params["photo"] for c in photos] == ["fire-1"]
    with sqlite3.connect(harness.db_path) as db:
        row = db.execute("SELECT people, action_taken, status FROM reports").fetchone()
        events = [e for (e,) in db.execute("SELECT event FROM report_events ORDER BY id")]
    assert row == ("Ông Tư, chủ kho, 0912 345 678", "follow_up", "submitted")
    assert events == ["submitted", "followed_up"]


async def test_a_follow_up_that_adds_nothing_sends_nothing(harness: Harness) -> None:
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01")
    await report_fire(lan)
    await lan.tap("Bỏ qua")  # people
    await lan.tap("Bỏ qua")  # photos
    await lan.tap("Cần theo dõi")
    seen = len(hung.calls())
    await lan.tap("Gửi bổ sung")
    # The action is new, so it goes; nothing else does.
    new = [c for c in hung.calls()[seen:] if c.method == "sendMessage"]
    assert len(new) == 1 and "Cần theo dõi" in new[0].text
    assert "Người liên quan" not in new[0].text


async def test_the_same_answer_delivered_twice_makes_one_report_and_one_alert(
    harness: Harness,
) -> None:
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01")
    await to_the_last_question(lan)
    await lan.send("Cháy kho củi", update_id=777_001)
    await lan.send("Cháy kho củi", update_id=777_001)  # Telegram delivers it again
    assert len(alerts(hung)) == 1
    with sqlite3.connect(harness.db_path) as db:
        assert db.execute("SELECT count(*) FROM reports").fetchone() == (1,)


async def test_the_alert_survives_a_restart_right_after_the_last_answer(
    harness: Harness,
) -> None:
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01")
    await to_the_last_question(lan)
    harness.telegram.fail_next("sendMessage", 502, "Bad Gateway", chat_id=900)
    await lan.send("Cháy kho củi")
    await harness.restart()
    harness.elapse(timedelta(seconds=15))  # the retry's time
    await harness.run_job("outbox:drain")
    assert len(alerts(hung)) == 1
    # The member is on the follow-up, not back at the start.
    await lan.send("Không rõ ai")
    with sqlite3.connect(harness.db_path) as db:
        assert db.execute("SELECT step FROM drafts").fetchone() == ("photos",)


async def test_tapping_urgent_again_on_the_way_takes_up_the_same_report(
    harness: Harness,
) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send(URGENT)
    await lan.tap("Cháy, nổ")
    await lan.send(URGENT)
    assert "đang báo khẩn dở" in lan.last_text()
    with sqlite3.connect(harness.db_path) as db:
        assert db.execute("SELECT count(*), step FROM drafts").fetchone() == (1, "place")


async def test_with_no_supervisor_the_admins_get_it_then_the_first_supervisor_to_join(
    harness: Harness,
) -> None:
    admin = await harness.join(990, "40", Role.ADMIN, "Quản trị")
    lan = await harness.join(501, "17464-X01")
    await report_fire(lan)
    said = lan.last_text()
    assert "quản trị viên (1 người)" in said
    assert "Nếu trong ngày có cán bộ phụ trách tham gia mà tin chưa được tiếp nhận" in said
    assert len(alerts(admin)) == 1

    await harness.run_job("outbox:drain")  # nobody nearer yet: nothing more
    assert deliveries(harness) == [(990, "sent", 1)]
    supervisor = await harness.join(900, "17464", Role.SUPERVISOR, "Diễn")
    await harness.run_job("outbox:drain")
    assert len(alerts(supervisor)) == 1
    await harness.run_job("outbox:drain")  # once only
    assert len(alerts(supervisor)) == 1 and len(alerts(admin)) == 1
    assert deliveries(harness) == [(990, "sent", 1), (900, "sent", 1)]


async def test_an_acknowledged_alert_is_not_sent_to_a_late_joiner(harness: Harness) -> None:
    admin = await harness.join(990, "40", Role.ADMIN, "Quản trị")
    lan = await harness.join(501, "17464-X01")
    await report_fire(lan)
    await admin.tap("Tiếp nhận")
    supervisor = await harness.join(900, "17464", Role.SUPERVISOR, "Diễn")
    await harness.run_job("outbox:drain")
    assert alerts(supervisor) == []


def menu(person: Person) -> list[list[dict[str, object]]]:
    """The keyboard under the chat, as the newest message that set one left it."""
    for call in reversed(person.calls()):
        markup = call.params.get("reply_markup")
        keyboard = (json.loads(markup) if isinstance(markup, str) else markup or {}).get("keyboard")
        if keyboard:
            return list(keyboard)
    raise AssertionError("no menu")


async def test_urgent_is_on_every_reporters_menu(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    assert menu(lan)[0] == [{"text": URGENT}]  # alone, on top
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    assert any({"text": URGENT} in row for row in menu(hung))


async def test_an_alert_nobody_got_goes_to_whoever_joins_within_the_week(
    harness: Harness,
) -> None:
    lan = await harness.join(501, "17464-X01")
    await report_fire(lan)
    assert "Nếu trong 7 ngày có người tham gia, bot sẽ gửi ngay cho họ" in sent(lan)[-1].text
    harness.elapse(timedelta(days=3))
    supervisor = await harness.join(900, "17464", Role.SUPERVISOR, "Diễn")
    await harness.run_job("outbox:drain")
    assert len(alerts(supervisor)) == 1


async def test_after_the_week_a_late_joiner_is_not_sent_a_stale_alert(
    harness: Harness,
) -> None:
    lan = await harness.join(501, "17464-X01")
    await report_fire(lan)
    harness.elapse(timedelta(days=8))
    supervisor = await harness.join(900, "17464", Role.SUPERVISOR, "Diễn")
    await harness.run_job("outbox:drain")
    assert alerts(supervisor) == []


async def finish_follow_up(lan: Person) -> None:
    await lan.tap("Bỏ qua")  # people
    await lan.send_photo("fire-1")
    await lan.tap("Xong")
    await lan.tap("Cần theo dõi")
    await lan.tap("Gửi bổ sung")


async def test_a_follow_up_waits_for_an_alert_still_being_retried(harness: Harness) -> None:
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01")
    harness.telegram.fail_next("sendMessage", 502, "Bad Gateway", chat_id=900)
    await report_fire(lan)
    await finish_follow_up(lan)
    assert not any("Bổ sung cho vụ việc" in m.text for m in hung.messages())  # not before it
    await harness.run_job("outbox:drain")  # the alert's retry is not due yet: still nothing
    assert alerts(hung) == []
    harness.elapse(timedelta(seconds=15))
    await harness.run_job("outbox:drain")
    await harness.run_job("outbox:drain")
    (alert,) = alerts(hung)
    (more,) = [m for m in hung.messages() if "Bổ sung cho vụ việc khẩn số 1" in m.text]
    assert more.message_id > alert.message_id and more.reply_to == alert.message_id


async def test_a_follow_up_is_not_sent_to_someone_the_alert_never_reached(
    harness: Harness,
) -> None:
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    ha = await harness.join(901, "16702", Role.SUPERVISOR, "Hà")
    lan = await harness.join(501, "16702-K01")
    harness.telegram.fail_next("sendMessage", 502, "Bad Gateway", chat_id=901)
    await report_fire(lan)
    await finish_follow_up(lan)
    # Hà's alert is given up for good (she blocked the bot) before it could be retried.
    harness.elapse(timedelta(seconds=15))
    harness.telegram.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user",
                               chat_id=901)  # fmt: skip
    await harness.run_job("outbox:drain")
    await harness.run_job("outbox:drain")
    assert not any("Bổ sung" in c.text for c in ha.calls() if c.ok)
    assert any("Bổ sung cho vụ việc khẩn số 1" in m.text for m in hung.messages())
    with sqlite3.connect(harness.db_path) as db:
        assert db.execute(
            "SELECT status FROM outbox WHERE purpose = 'alert_more' ORDER BY recipient_id"
        ).fetchall() == [("sent",), ("failed",)]


async def test_a_returned_urgent_report_is_answered_as_any_other(harness: Harness) -> None:
    """The urgent-first mark stays on the draft: a report reopened later is an edit or an
    answer to its review, bound by the usual rules, never a follow-up."""
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01")
    await report_fire(lan)
    await finish_follow_up(lan)
    with sqlite3.connect(harness.db_path) as db:
        (data,) = db.execute("SELECT data FROM reports").fetchone()
    assert "@urgent_first" not in json.loads(data)
    await hung.tap_data(OpenReport(1).pack())
    await hung.tap("Cần bổ sung")
    await hung.send("Ghi rõ kho của ai")
    await harness.run_job("outbox:drain")
    await lan.tap("Bổ sung báo cáo số 1")
    await lan.tap("Diễn biến")
    await lan.send("Cháy kho củi nhà ông Tư")
    await lan.tap("Gửi báo cáo")
    with sqlite3.connect(harness.db_path) as db:
        assert db.execute("SELECT status FROM reports").fetchone() == ("submitted",)
        events = [e for (e,) in db.execute("SELECT event FROM report_events ORDER BY id")]
    assert events == ["submitted", "followed_up", "returned", "resubmitted"]


async def test_a_verified_report_is_still_added_to_but_keeps_its_status(
    harness: Harness,
) -> None:
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01")
    await report_fire(lan)
    await hung.tap_data(OpenReport(1).pack())
    await hung.tap("Xác minh")
    await finish_follow_up(lan)
    assert any("Đã gửi phần bổ sung cho vụ việc khẩn số 1" in c.text for c in lan.calls())
    with sqlite3.connect(harness.db_path) as db:
        assert db.execute("SELECT status FROM reports").fetchone() == ("verified",)


async def test_a_restart_that_lost_the_confirmation_says_the_alert_went(
    harness: Harness,
) -> None:
    await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01")
    await to_the_last_question(lan)
    await lan.send("Cháy kho củi", update_id=9100)
    seen = len(lan.calls())
    await crash_after_commit(harness, 9100)
    (told,) = [c.text for c in lan.calls()[seen:] if c.method == "sendMessage"]
    assert "Đã báo ngay cho 1 cán bộ phụ trách" in told
    assert all(n in told for n in NUMBERS)
    assert "Những ai liên quan" in told


async def test_cancel_on_a_follow_up_says_the_report_stands(harness: Harness) -> None:
    await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01")
    await report_fire(lan)
    await lan.send("/cancel")
    assert "Báo cáo số 1 vẫn giữ như đã gửi" in lan.last_text()


async def test_urgent_over_an_edit_asks_about_the_report_open_under_it_too(
    harness: Harness,
) -> None:
    """Discarding the changes to a sent report must not also drop a new report that was
    open under it without asking."""
    lan = await harness.join(501, "16702-K01")
    await report_fire(lan)
    await lan.send("/cancel")  # the additions: report 1 stands as sent
    await lan.send("/activity")
    await lan.tap("Tuần tra")
    await lan.send("/my")
    await lan.tap("Sửa số 1")
    await lan.send(URGENT)
    await lan.tap("Bỏ, báo khẩn ngay")
    assert "đang báo dở" in lan.last_text()  # now about the activity
    with sqlite3.connect(harness.db_path) as db:
        assert db.execute("SELECT kind, report_id FROM drafts").fetchall() == [("activity", None)]


async def test_additions_reach_the_level_an_alert_was_escalated_to_without_names(
    harness: Harness,
) -> None:
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    thanh = await harness.join(902, "40", Role.SUPERVISOR, "Thành")
    lan = await harness.join(501, "16702-K01")
    await report_fire(lan)
    harness.elapse(timedelta(minutes=16))
    await harness.run_job("alerts:escalate")
    assert len(alerts(thanh)) == 1  # escalated: the province has it
    await lan.send("Ông Tư, chủ kho, 0912 345 678")
    await lan.tap("Bỏ qua")  # photos
    await lan.tap("Cần theo dõi")
    await lan.tap("Gửi bổ sung")
    for person in (hung, thanh):
        (more,) = [m for m in person.messages() if "Bổ sung cho vụ việc khẩn số 1" in m.text]
        assert more.reply_to == alerts(person)[0].message_id
    # The province is above the privacy level: it reads what was done, not who was named.
    (more,) = [m for m in thanh.messages() if "Bổ sung cho vụ việc khẩn số 1" in m.text]
    assert "Ông Tư" not in more.text and "0912" not in more.text
    assert "Cần theo dõi" in more.text
    (more,) = [m for m in hung.messages() if "Bổ sung cho vụ việc khẩn số 1" in m.text]
    assert "Ông Tư, chủ kho, 0912 345 678" in more.text
