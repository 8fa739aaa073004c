"""Urgent incidents reach the nearest supervisors at once, and only them, and say how many."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

from botapi_sim.driver import Harness
from domain.models import Role
from handlers.context import services_of
from tests.flows import deliveries, submit_urgent, to_place_step, walk_incident


async def test_alert_goes_to_the_nearest_supervisors_and_nobody_else(harness: Harness) -> None:
    ward_1 = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    ward_2 = await harness.join(901, "16702", Role.SUPERVISOR, "Hà")
    province = await harness.join(902, "40", Role.SUPERVISOR, "Tỉnh")
    other_commune = await harness.join(903, "17464", Role.SUPERVISOR, "Diễn")
    teammate = await harness.join(502, "16702-K01", first_name="Minh")
    lan = await harness.join(501, "16702-K01")
    before = {p.user_id: len(p.calls()) for p in (province, other_commune, teammate)}

    await submit_urgent(lan, "Cháy nhà <số 5> & kho")

    assert "Đã báo ngay cho 2 cán bộ phụ trách" in lan.last_text()
    for supervisor in (ward_1, ward_2):
        alert, location, album = supervisor.calls()[-3:]
        assert alert.text.startswith("🚨 KHẨN CẤP: Vụ việc số 1")
        assert "Cháy nhà <số 5> & kho" in alert.text
        assert "Người báo: Lan Nguyễn (Khối 1)" in alert.text
        assert "Gửi lúc: 10:00 26/11/2026" in alert.text
        assert location.method == "sendLocation" and location.params["latitude"] == 18.6796
        assert album.method == "sendMediaGroup" and len(album.params["media"]) == 2
    for person in (province, other_commune, teammate):
        assert len(person.calls()) == before[person.user_id]
    assert deliveries(harness) == [(900, "sent", 1), (901, "sent", 1)]


async def test_alert_climbs_to_the_first_unit_up_with_supervisors(harness: Harness) -> None:
    province = await harness.join(902, "40", Role.SUPERVISOR, "Tỉnh")
    lan = await harness.join(501, "16702-K01")
    await submit_urgent(lan)
    assert "KHẨN CẤP" in province.calls()[-3].text


async def test_no_supervisor_at_all_is_said_plainly(harness: Harness) -> None:
    lan = await harness.join(501, "17464-X01")
    await submit_urgent(lan)
    said = lan.last_text()
    assert "Chưa ai nhận được tin này qua bot" in said
    assert "Nếu trong 7 ngày có người tham gia, bot sẽ gửi ngay cho họ" in said
    assert "113" in said and "114" in said and "115" in said
    assert deliveries(harness) == []


async def test_not_urgent_sends_no_alert(harness: Harness) -> None:
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    seen = len(supervisor.calls())
    lan = await harness.join(501, "16702-K01")
    await walk_incident(lan)
    await lan.tap("Gửi báo cáo")
    assert len(supervisor.calls()) == seen
    assert deliveries(harness) == []


async def test_a_failed_alert_is_retried_by_the_job_and_sent_once(harness: Harness) -> None:
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01")
    # Telegram is failing for the supervisor's chat when the report goes in.
    harness.telegram.fail_next("sendMessage", 503, "Service Unavailable", chat_id=900)
    await submit_urgent(lan)
    assert "Đã gửi báo cáo số 1" in lan.last_text()
    assert deliveries(harness) == [(900, "pending", 1)]

    job = harness.application.job_queue.get_jobs_by_name("outbox:drain")[0]  # type: ignore[union-attr]
    await job.run(harness.application)
    assert deliveries(harness) == [(900, "pending", 1)]  # not due yet: retries back off
    harness.elapse(timedelta(seconds=10))
    await job.run(harness.application)
    await job.run(harness.application)
    assert deliveries(harness) == [(900, "sent", 2)]
    alerts = [c for c in supervisor.calls() if "KHẨN CẤP" in str(c.params.get("text"))]
    assert len(alerts) == 2  # one refused by Telegram, one delivered; never two delivered


async def test_a_supervisor_who_blocked_the_bot_is_not_retried_forever(harness: Harness) -> None:
    await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01")
    harness.telegram.fail_next(
        "sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=900, times=5
    )
    await submit_urgent(lan)
    assert deliveries(harness) == [(900, "failed", 1)]
    job = harness.application.job_queue.get_jobs_by_name("outbox:drain")[0]  # type: ignore[union-attr]
    await job.run(harness.application)
    assert deliveries(harness) == [(900, "failed", 1)]


async def test_flood_limit_is_waited_out_and_the_alert_still_goes(tmp_path: Path) -> None:
    """With the rate limiter on, a 429 is retried after retry_after, not dropped."""
    harness = Harness(tmp_path / "bot.sqlite3", rate_limit=True)
    await harness.start()
    try:
        await harness.load_demo_units()
        supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
        lan = await harness.join(501, "16702-K01")
        harness.telegram.fail_next(
            "sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, chat_id=900
        )
        await submit_urgent(lan)
        assert deliveries(harness) == [(900, "sent", 1)]
        alerts = [c for c in supervisor.calls() if "KHẨN CẤP" in str(c.params.get("text"))]
        assert len(alerts) == 2  # the refused attempt and the retry
    finally:
        await harness.stop()


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
    assert "Chưa báo được cho ai qua bot" in lan.last_text()


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
    harness.elapse(timedelta(seconds=10))  # past the retry's back-off
    job = harness.application.job_queue.get_jobs_by_name("outbox:drain")[0]  # type: ignore[union-attr]
    outbox = harness.application.bot_data["services"].outbox
    await asyncio.gather(
        *(job.run(harness.application) for _ in range(3)),
        outbox.send_for_report(harness.application.bot, 1, "alert"),
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


async def test_a_reporter_who_is_the_only_supervisor_alerts_the_level_above(
    harness: Harness,
) -> None:
    province = await harness.join(800, "40", Role.SUPERVISOR, "Tỉnh")
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    await submit_urgent(hung)
    assert any("KHẨN CẤP" in c.text for c in province.calls() if c.method == "sendMessage")
    assert "Đã báo ngay cho 1 cán bộ phụ trách" in hung.last_text()


async def test_when_every_supervisor_has_blocked_the_bot_the_alert_goes_up(
    harness: Harness,
) -> None:
    province = await harness.join(800, "40", Role.SUPERVISOR, "Tỉnh")
    await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    await harness.join(901, "16702", Role.SUPERVISOR, "Hà")
    lan = await harness.join(501, "16702-K01")
    for chat in (900, 901):
        harness.telegram.fail_next("sendMessage", 403, "Forbidden: bot was blocked", chat_id=chat)
    await submit_urgent(lan)
    assert any("KHẨN CẤP" in c.text for c in province.calls() if c.method == "sendMessage")
    assert "Đã báo ngay cho 1 cán bộ phụ trách" in lan.last_text()
    assert deliveries(harness) == [(900, "failed", 1), (901, "failed", 1), (800, "sent", 1)]


async def test_with_no_supervisor_anywhere_the_admins_get_the_alert(harness: Harness) -> None:
    admin = await harness.join(950, "17464", Role.ADMIN, "Quản")  # another commune's
    lan = await harness.join(501, "16702-K01")
    await submit_urgent(lan)
    assert any("KHẨN CẤP" in c.text for c in admin.calls() if c.method == "sendMessage")
    # Said as it is: an admin has it, no supervisor yet, and who gets it when one joins.
    said = lan.last_text()
    assert "tin khẩn đã gửi ngay cho quản trị viên (1 người)" in said
    assert "Nếu trong ngày có cán bộ phụ trách tham gia mà tin chưa được tiếp nhận" in said


async def test_while_telegram_fails_the_member_is_told_the_bot_keeps_trying(
    harness: Harness,
) -> None:
    await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01")
    harness.telegram.fail_next("sendMessage", 502, "Bad Gateway", chat_id=900)
    await submit_urgent(lan)
    assert "bot vẫn đang tiếp tục gửi" in lan.last_text()
    assert deliveries(harness) == [(900, "pending", 1)]


async def test_alerts_the_drain_job_took_are_counted_for_the_member(harness: Harness) -> None:
    """The drain job may take a report's alerts first; the member is told they went."""
    await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01")
    harness.telegram.fail_next("sendMessage", 502, "Bad Gateway", chat_id=900)
    await submit_urgent(lan)
    harness.elapse(timedelta(seconds=15))
    outbox = services_of(harness.application).outbox
    draining = asyncio.create_task(outbox.drain(harness.application.bot))
    for _ in range(200):
        if outbox._claimed:
            break
        await asyncio.sleep(0.005)
    assert outbox._claimed  # the drain is sending the alert right now
    assert await outbox.send_for_report(harness.application.bot, 1, "alert") == 1
    assert await draining == 1


async def test_a_supervisor_who_joins_after_an_unreached_alert_gets_it(harness: Harness) -> None:
    """Nobody could be alerted; the first supervisor to join is, at the next drain."""
    lan = await harness.join(501, "17464-X01")
    await submit_urgent(lan)
    assert "Chưa ai nhận được tin này qua bot" in lan.last_text()
    supervisor = await harness.join(900, "17464", Role.SUPERVISOR, "Hùng")
    job = harness.application.job_queue.get_jobs_by_name("outbox:drain")[0]  # type: ignore[union-attr]
    await job.run(harness.application)
    assert any("KHẨN CẤP" in c.text for c in supervisor.calls() if c.method == "sendMessage")
    await job.run(harness.application)  # and only once
    alerts = [c for c in supervisor.calls() if "KHẨN CẤP" in c.text]
    assert len(alerts) == 1
