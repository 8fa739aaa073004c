"""Deadline reminders and overdue lists, driven by the real job with time under control."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, time, timedelta

from botapi_sim.driver import ZONE, Harness, Person
from domain.deadlines import Period, ReportKind, Rule
from domain.models import Role
from storage.deadlines import add_rule

DAILY_20H = Rule(
    0, "16702", ReportKind.ANY, Period.DAILY, time(20, 0), remind=(timedelta(hours=2),)
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE).astimezone(UTC)


async def run_jobs(harness: Harness) -> None:
    """One turn of the deadline job, then of the outbox drain that sends what it queued."""
    await harness.run_job("deadlines:tick")
    await harness.run_job("outbox:drain")


def reminders(person: Person) -> list[str]:
    return [c.text for c in person.calls() if c.method == "sendMessage" and "⏰" in c.text]


def overdue_lists(person: Person) -> list[str]:
    return [c.text for c in person.calls() if c.method == "sendMessage" and "📋" in c.text]


async def team(harness: Harness) -> tuple[Person, Person, Person, Person]:
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01", first_name="Lan")
    binh = await harness.join(502, "16702-K01", first_name="Bình")
    chi = await harness.join(503, "16702-K02", first_name="Chi")
    with sqlite3.connect(harness.db_path) as connection:
        connection.execute(
            "INSERT INTO member_leave (member_id, first_day, last_day, created_at)"
            " SELECT id, '2026-11-25', '2026-11-30', '2026-11-24' FROM members"
            " WHERE telegram_user_id = 503"
        )
    await add_rule(harness.db, DAILY_20H)
    return supervisor, lan, binh, chi


async def test_a_day_of_a_daily_rule(harness: Harness) -> None:
    supervisor, lan, binh, chi = await team(harness)
    await binh.send("/nothing")  # Bình has met today's deadline

    harness.now = at("2026-11-26T17:59")
    await run_jobs(harness)
    assert reminders(lan) == []  # not yet

    harness.now = at("2026-11-26T18:01")
    await run_jobs(harness)
    await run_jobs(harness)  # and again: nothing twice
    assert reminders(lan) == [
        "⏰ Nhắc nộp báo cáo\nHạn: 20:00 26/11/2026 (báo cáo bất kỳ, kể cả “Không có gì mới”)."
        "\nKỳ này đồng chí đã có 0/1 báo cáo."
    ]
    assert reminders(binh) == [] and reminders(chi) == [] and reminders(supervisor) == []
    # Its buttons start a report or record "nothing to report" in one tap.
    labels = [label for label, _ in lan.last_buttons_call().inline_buttons()]
    assert labels == ["🚨 Báo vụ việc", "📋 Báo hoạt động", "✅ Không có gì mới"]

    harness.now = at("2026-11-26T20:01")
    await run_jobs(harness)
    await run_jobs(harness)
    assert overdue_lists(supervisor) == [
        "📋 Chưa nộp báo cáo đúng hạn 20:00 26/11/2026: 1 người\nKhối 1\n"
        "• Lan Nguyễn: lần gần nhất chưa có"
    ]
    assert overdue_lists(lan) == []


async def test_a_reminder_button_records_nothing_to_report(harness: Harness) -> None:
    _, lan, _, _ = await team(harness)
    harness.now = at("2026-11-26T18:01")
    await run_jobs(harness)
    await lan.tap("Không có gì mới")
    assert "Đã ghi nhận" in lan.last_text()
    harness.now = at("2026-11-26T20:01")
    supervisor = harness.user(900, "Hùng")
    await run_jobs(harness)
    [late] = overdue_lists(supervisor)
    assert "Bình" in late and "Lan" not in late


async def test_a_holiday_skips_the_period(harness: Harness) -> None:
    supervisor, lan, _, _ = await team(harness)
    with sqlite3.connect(harness.db_path) as connection:
        connection.execute("INSERT OR REPLACE INTO holidays VALUES ('2026-11-26', 'Thử')")
    for moment in ("2026-11-26T18:01", "2026-11-26T20:01"):
        harness.now = at(moment)
        await run_jobs(harness)
    assert reminders(lan) == [] and overdue_lists(supervisor) == []


async def test_downtime_across_a_reminder_sends_none_late(harness: Harness) -> None:
    _, lan, _, _ = await team(harness)
    harness.now = at("2026-11-26T18:30")  # the bot was down at 18:00
    await run_jobs(harness)
    assert reminders(lan) == []


async def test_downtime_across_the_due_time_sends_the_overdue_list_once(
    harness: Harness,
) -> None:
    supervisor, _, _, _ = await team(harness)
    harness.now = at("2026-11-27T09:00")  # down from before 20:00 until the next morning
    await harness.restart()
    await run_jobs(harness)
    await harness.restart()
    await run_jobs(harness)
    lists = overdue_lists(supervisor)
    assert len(lists) == 1 and "20:00 26/11/2026: 2 người" in lists[0]


async def test_overdue_on_demand_for_supervisors_only(harness: Harness) -> None:
    supervisor, lan, _, _ = await team(harness)
    other = await harness.join(950, "17464", Role.SUPERVISOR, "Khác")  # another commune
    harness.now = at("2026-11-26T20:30")
    calls = await supervisor.send("/overdue")
    assert [c.text for c in calls if c.method == "sendMessage"] == [
        "📋 Chưa nộp báo cáo đúng hạn 20:00 26/11/2026: 2 người\nKhối 1\n"
        "• Lan Nguyễn: lần gần nhất chưa có\n• Bình Nguyễn: lần gần nhất chưa có"
    ]
    calls = await other.send("/overdue")
    assert [c.text for c in calls] == ["Không ai trễ hạn nộp báo cáo trong kỳ vừa qua."]
    calls = await lan.send("/overdue")
    assert [c.text for c in calls] == ["Việc này không dành cho vai trò của đồng chí."]


async def test_my_reports_shows_the_next_deadline_and_whether_it_is_met(harness: Harness) -> None:
    _, lan, _, _ = await team(harness)
    calls = await lan.send("/my")
    assert calls[-1].text.endswith("⏰ Hạn tiếp theo: 20:00 26/11/2026. Mới có 0/1 báo cáo.")
    await lan.send("/nothing")
    calls = await lan.send("/my")
    assert calls[-1].text.endswith("⏰ Hạn tiếp theo: 20:00 26/11/2026. Đã đủ 1/1 báo cáo ✅")


async def test_a_supervisor_puts_a_member_on_leave_with_buttons(harness: Harness) -> None:
    supervisor, lan, _, _ = await team(harness)
    calls = await supervisor.send("/leave")
    labels = [label for label, _ in calls[-1].inline_buttons()]
    assert labels == ["Bình Nguyễn (Khối 1)", "Lan Nguyễn (Khối 1)", "Chi Nguyễn (Khối 2)"]
    await supervisor.tap("Lan Nguyễn (Khối 1)")
    await supervisor.tap("3 ngày")
    assert supervisor.last_text().startswith(
        "Đã ghi nghỉ phép cho Lan Nguyễn từ 26/11/2026 đến 28/11/2026"
    )
    harness.now = at("2026-11-26T18:01")
    await run_jobs(harness)
    assert reminders(lan) == []  # on leave: not reminded
    harness.now = at("2026-11-26T20:01")
    await run_jobs(harness)
    [late] = overdue_lists(supervisor)
    assert "Lan" not in late and "Bình" in late


async def test_leave_cannot_be_set_outside_ones_subtree_even_with_a_forged_button(
    harness: Harness,
) -> None:
    _, lan, _, _ = await team(harness)
    other = await harness.join(950, "17464", Role.SUPERVISOR, "Khác")  # another commune
    calls = await other.send("/leave")
    assert calls[-1].text == "Không có tổ viên nào để ghi nghỉ phép."
    with sqlite3.connect(harness.db_path) as connection:
        (lan_id,) = connection.execute(
            "SELECT id FROM members WHERE telegram_user_id = 501"
        ).fetchone()
    calls = await other.tap_data(f"ld:{lan_id}:30")
    assert other.popups(calls) == ["Đơn vị này nằm ngoài phạm vi đồng chí phụ trách."]
    calls = await lan.tap_data(f"ld:{lan_id}:30")  # nor can a member put themself on leave
    assert lan.popups(calls) == ["Việc này không dành cho vai trò của đồng chí."]
    with sqlite3.connect(harness.db_path) as connection:
        leave = connection.execute(
            "SELECT count(*) FROM member_leave WHERE member_id = ?", (lan_id,)
        ).fetchone()
    assert leave == (0,)
