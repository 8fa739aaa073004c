"""A new process on the same database file picks up exactly where the old one stopped."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from botapi_sim.driver import Harness
from domain.models import Role
from tests.flows import crash_after_commit, deliveries, submit_urgent, walk_incident


def one_value(harness: Harness, sql: str) -> object:
    with sqlite3.connect(harness.db_path) as connection:
        return connection.execute(sql).fetchone()[0]


async def test_restart_mid_report_loses_nothing(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/incident")
    await lan.tap("Trộm cắp tài sản")
    await lan.tap("Vừa xảy ra")
    await lan.send("Chợ Vinh, cổng số 2")

    await harness.restart()

    # The next message answers the step after the last acknowledged one.
    calls = await lan.send("Mất ví trong lúc đông người")
    assert "Những ai liên quan" in calls[-1].text
    # A button sent by the old process still works in the new one.
    await lan.tap("Bỏ qua")
    await harness.restart()
    await lan.tap("Bỏ qua")
    await lan.tap("Đã xử lý tại chỗ")
    await lan.tap("Không khẩn cấp")
    await harness.restart()
    summary, submit = lan.find_button("Gửi báo cáo")
    await lan.tap_data(submit, summary)
    await harness.restart()
    await lan.tap_data(submit, summary)  # a double tap that straddles a restart

    with sqlite3.connect(harness.db_path) as connection:
        rows = connection.execute("SELECT address, description FROM reports").fetchall()
        drafts = connection.execute("SELECT count(*) FROM drafts").fetchone()
    assert rows == [("Chợ Vinh, cổng số 2", "Mất ví trong lúc đông người")]
    assert drafts == (0,)


async def test_redelivery_after_a_crash_before_the_reply_repeats_the_question(
    harness: Harness,
) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/incident")
    await lan.tap("Trộm cắp tài sản")
    await lan.tap("Vừa xảy ra")
    await lan.send("Chợ Vinh", update_id=7000)
    # The process died after committing the answer, before its reply went out.
    seen = len(lan.calls())
    await crash_after_commit(harness, 7000)

    # The new process repeats the question once, at start-up...
    assert [c.text for c in lan.calls()[seen:]] == [
        "Tiếp tục báo cáo đang làm dở:",
        "Kể ngắn gọn việc gì đã xảy ra.",
    ]
    assert one_value(harness, "SELECT step FROM drafts") == "desc"
    # ...and Telegram's redelivery of the same update changes and says nothing.
    assert await lan.send("Chợ Vinh", update_id=7000) == []


async def test_lost_submit_confirmation_is_sent_after_restart(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/nothing")
    await walk_incident(lan)
    call, data = lan.find_button("Gửi báo cáo")
    await lan.tap_data(data, call, update_id=8000)
    seen = len(lan.calls())
    await crash_after_commit(harness, 8000)
    assert [c.text for c in lan.calls()[seen:]] == ["✅ Đã gửi báo cáo số 2. Cảm ơn đồng chí!"]
    # Telegram delivers the same tap again: the summary as it was when tapped.
    assert await lan.tap_data(data, call, update_id=8000) == []
    assert one_value(harness, "SELECT count(*) FROM reports WHERE kind = 'incident'") == 1


async def test_alert_pending_at_a_crash_is_sent_once_after_restart(harness: Harness) -> None:
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01")
    harness.telegram.fail_next("sendMessage", 502, "Bad Gateway", chat_id=900)
    await submit_urgent(lan)
    assert deliveries(harness) == [(900, "pending", 1)]

    await harness.restart()
    harness.elapse(timedelta(seconds=10))  # past the retry's back-off
    job = harness.application.job_queue.get_jobs_by_name("outbox:drain")[0]  # type: ignore[union-attr]
    await job.run(harness.application)
    await job.run(harness.application)
    assert deliveries(harness) == [(900, "sent", 2)]
    delivered = [
        c for c in supervisor.calls()
        if c.method == "sendMessage" and "KHẨN CẤP" in str(c.params.get("text"))
    ]  # fmt: skip
    assert len(delivered) == 2  # the attempt Telegram refused with 502, then one delivery


async def test_a_reply_lost_in_a_crash_is_made_good_at_start_up(harness: Harness) -> None:
    """Telegram often will not redeliver: the new process speaks first."""
    lan = await harness.join(501, "16702-K01")
    await lan.send("/incident")
    await lan.tap("Trộm cắp tài sản")
    await lan.tap("Vừa xảy ra")
    await lan.send("Chợ Vinh")
    await lan.send("Mất ví", update_id=9000)
    seen = len(lan.calls())
    await crash_after_commit(harness, 9000)

    told = [c.text for c in lan.calls()[seen:]]
    assert told == [
        "Tiếp tục báo cáo đang làm dở:",
        "Những ai liên quan (tên, đặc điểm, biển số xe…)? Nếu không rõ, bấm Bỏ qua.",
    ]
    # Told once: neither a second restart nor a redelivery repeats it.
    await harness.restart()
    assert await lan.send("Mất ví", update_id=9000) == []
    assert len(lan.calls()) == seen + 2
    calls = await lan.send("Hai thanh niên")
    assert "Gửi ảnh" in calls[-1].text


async def test_an_update_cut_off_before_its_commit_is_still_handled_when_redelivered(
    harness: Harness,
) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/incident")
    await lan.tap("Trộm cắp tài sản")
    await lan.tap("Vừa xảy ra")
    # The process took update 9100 in and died before committing anything: nothing of
    # it is in the database, so its redelivery is handled as new.
    await harness.restart()
    assert "Việc xảy ra ở đâu?" in lan.last_text()
    calls = await lan.send("Chợ Vinh", update_id=9100)
    assert "Kể ngắn gọn" in calls[-1].text
    assert one_value(harness, "SELECT step FROM drafts") == "desc"


async def test_a_submit_confirmation_lost_in_a_crash_is_sent_at_start_up(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await walk_incident(lan)
    await lan.tap("Gửi báo cáo", update_id=9200)
    await crash_after_commit(harness, 9200)
    assert lan.last_text() == "✅ Đã gửi báo cáo số 1. Cảm ơn đồng chí!"


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
