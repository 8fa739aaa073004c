"""Scheduled digests end to end: the real jobs, the real outbox, Telegram faked at its API.

Time is the harness's clock; the jobs are the ones the application registered, found by
their names and run as the scheduler would run them.
"""

from __future__ import annotations

import io
import re
import sqlite3
import zipfile
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import time_machine

from botapi_sim.core import Upload
from botapi_sim.driver import ZONE, Harness, Person
from domain.deadlines import Period, ReportKind, Rule
from domain.models import Role
from storage.deadlines import add_rule
from tests.flows import submit_urgent, walk_incident

FORMULA = '=HYPERLINK("http://evil.example","bấm") <b>đậm</b>'
PNG = b"\x89PNG\r\n\x1a\n"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE).astimezone(UTC)


async def digest_turn(harness: Harness) -> None:
    """One turn of the digest job, then of the outbox drain."""
    await harness.run_job("digests:tick")
    await harness.run_job("outbox:drain")


def digest_texts(person: Person) -> list[str]:
    """The digests Telegram took for this person (a refused call showed them nothing)."""
    return [c.text for c in person.calls() if c.ok and c.method == "sendMessage" and "📊" in c.text]


def uploads(harness: Harness, person: Person) -> list[Upload]:
    return harness.telegram.api.uploads(person.user_id)


def sheet_xml(upload: Upload) -> str:
    with zipfile.ZipFile(io.BytesIO(upload.content)) as book:
        return "\n".join(
            book.read(name).decode("utf-8")
            for name in book.namelist()
            if name.startswith("xl/worksheets/") or name == "xl/sharedStrings.xml"
        )


async def commune(harness: Harness) -> tuple[Person, Person, Person, Person, Person]:
    """A ward supervisor, a provincial admin, and three members in two blocks."""
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    admin = await harness.join(901, "40", Role.ADMIN, "Minh")
    lan = await harness.join(501, "16702-K01", first_name="Lan")
    binh = await harness.join(502, "16702-K01", first_name="Bình")
    chi = await harness.join(503, "16702-K02", first_name="Chi")
    return supervisor, admin, lan, binh, chi


async def test_the_first_start_counts_from_now_and_sends_nothing(harness: Harness) -> None:
    supervisor, *_ = await commune(harness)
    await digest_turn(harness)
    await digest_turn(harness)
    assert digest_texts(supervisor) == []
    with sqlite3.connect(harness.db_path) as connection:
        rows = connection.execute(
            "SELECT schedule, period_end, state FROM digest_runs ORDER BY schedule"
        ).fetchall()
    assert rows == [
        ("daily", at("2026-11-26T07:00").isoformat(), "baseline"),
        ("monthly", at("2026-11-01T08:00").isoformat(), "baseline"),
        ("weekly", at("2026-11-23T07:30").isoformat(), "baseline"),
    ]


async def test_a_daily_digest_with_its_chart_and_spreadsheet(harness: Harness) -> None:
    supervisor, admin, lan, binh, chi = await commune(harness)
    await add_rule(harness.db, Rule(0, "16702", ReportKind.ANY, Period.DAILY, time(20, 0)))
    await digest_turn(harness)  # counts from 07:00 today
    await walk_incident(lan, FORMULA)
    await lan.tap("Gửi báo cáo")
    await submit_urgent(chi)
    harness.now = at("2026-11-26T21:00")
    await binh.send("/nothing")  # after the 20:00 deadline: late for today
    harness.now = at("2026-11-27T07:00:20")
    await digest_turn(harness)
    await digest_turn(harness)  # and again: nothing twice

    [text] = digest_texts(supervisor)
    assert text.startswith(
        "📊 Tổng hợp ngày 26/11/2026\nPhường Vinh Phú\nTừ 07:00 26/11 đến 07:00 27/11\n"
        "Tổng cộng 3 báo cáo: 2 vụ việc, 0 hoạt động, 1 lần báo không có gì mới."
    )
    assert "• Khối 1: 1 vụ việc, 0 hoạt động, 1 không có gì mới · ⚠️ trễ hạn 1/2" in text
    assert "• Khối 2: 1 vụ việc, 0 hoạt động, 0 không có gì mới" in text
    assert re.search(r"🆘 Vụ việc khẩn\n• #\d+ Cháy, nổ, Khối 2, \d\d:\d\d 26/11: ", text)
    assert "✅ Báo cáo đúng hạn: kỳ này 67% (2/3)" in text
    # The files follow the message: a chart, then the spreadsheet.
    chart, sheet = uploads(harness, supervisor)
    assert chart.method == "sendPhoto" and chart.content.startswith(PNG)
    assert sheet.method == "sendDocument" and sheet.filename == "tong-hop-2026-11-27.xlsx"
    xml = sheet_xml(sheet)
    assert "Người báo" in xml and "Lan Nguyễn" in xml
    # What the member typed is a string cell, escaped as XML, never a formula.
    assert '<t>=HYPERLINK("http://evil.example","bấm") &lt;b&gt;đậm&lt;/b&gt;</t>' in xml
    assert "<f>" not in xml
    # The admin's digest covers the province; members get none.
    [province] = digest_texts(admin)
    assert "Tỉnh Nghệ An" in province and "• Phường Vinh Phú: 2 vụ việc" in province
    assert digest_texts(lan) == [] and uploads(harness, lan) == []


async def test_formula_and_html_in_a_description_reach_the_message_as_text(
    harness: Harness,
) -> None:
    supervisor, _, lan, _, _ = await commune(harness)
    with sqlite3.connect(harness.db_path) as connection:
        connection.execute(
            "UPDATE catalogue_items SET name_vi = 'Cháy, nổ <b>=1+1</b> $x$'"
            " WHERE code = 'FIRE_EXPLOSION'"
        )
    await harness.restart()  # the catalogue is read at start-up
    await digest_turn(harness)
    await submit_urgent(lan, "=cmd|' /C calc'!A0 <script>")
    harness.now = at("2026-11-27T07:01")
    await digest_turn(harness)
    # The category name is shown as typed, not as HTML (Telegram would refuse bad HTML).
    call = next(c for c in supervisor.calls() if c.method == "sendMessage" and "📊" in c.text)
    assert "Cháy, nổ &lt;b&gt;=1+1&lt;/b&gt; $x$" in call.params["text"]
    assert "• Cháy, nổ <b>=1+1</b> $x$: 1" in call.text
    chart, sheet = uploads(harness, supervisor)
    assert chart.content.startswith(PNG)
    xml = sheet_xml(sheet)
    assert "=cmd|' /C calc'!A0 &lt;script&gt;" in xml and "<f>" not in xml


async def test_downtime_across_digest_times_catches_up_exactly_once(harness: Harness) -> None:
    supervisor, _, lan, _, _ = await commune(harness)
    await digest_turn(harness)
    await lan.send("/nothing")
    await harness.stop()
    harness.now = at("2026-11-29T09:00")  # down through three 07:00 digests
    await harness.start()
    await digest_turn(harness)
    await harness.restart()
    await digest_turn(harness)
    await digest_turn(harness)
    [text] = digest_texts(supervisor)
    # One digest, from the last one to the latest missed time: nothing falls between.
    assert text.startswith("📊 Tổng hợp 26/11 – 29/11/2026\n")
    assert "Từ 07:00 26/11 đến 07:00 29/11" in text
    assert "Tổng cộng 1 báo cáo" in text
    # The next one starts where it ended.
    harness.now = at("2026-11-30T07:00:05")
    await digest_turn(harness)
    later = digest_texts(supervisor)
    assert len(later) == 2 and "Từ 07:00 29/11 đến 07:00 30/11" in later[1]


async def test_a_weekly_and_a_monthly_digest(harness: Harness) -> None:
    supervisor, *_ = await commune(harness)
    await digest_turn(harness)
    harness.now = at("2026-11-30T07:31")  # Monday
    await digest_turn(harness)
    titles = [text.splitlines()[0] for text in digest_texts(supervisor)]
    assert titles == ["📊 Tổng hợp 26/11 – 30/11/2026", "📊 Tổng hợp tuần 23/11 – 30/11/2026"]
    harness.now = at("2026-12-01T08:01")
    await digest_turn(harness)
    titles = [text.splitlines()[0] for text in digest_texts(supervisor)]
    assert titles[2:] == ["📊 Tổng hợp ngày 30/11/2026", "📊 Tổng hợp tháng 01/11 – 01/12/2026"]


async def test_an_empty_setting_turns_a_digest_off(harness: Harness) -> None:
    supervisor, *_ = await commune(harness)
    await harness.stop()
    harness.settings_changes = {"digests": ()}
    await harness.start()
    await digest_turn(harness)
    harness.now = at("2026-12-01T09:00")
    await digest_turn(harness)
    assert digest_texts(supervisor) == []


async def test_a_429_delays_only_that_chat_and_a_403_is_marked(tmp_path: Path) -> None:
    harness = Harness(tmp_path / "bot.sqlite3", rate_limit=True)  # as in production
    await harness.start()
    try:
        await harness.load_demo_units()
        await flood_and_block(harness)
    finally:
        await harness.stop()


async def flood_and_block(harness: Harness) -> None:
    supervisor, admin, *_ = await commune(harness)
    await digest_turn(harness)
    api = harness.telegram.api
    api.fail_next("sendMessage", 429, "Too Many Requests: retry after 30", retry_after=30,
                  chat_id=supervisor.user_id)  # fmt: skip
    api.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user",
                  chat_id=admin.user_id)  # fmt: skip
    harness.now = at("2026-11-27T07:00:10")
    await digest_turn(harness)
    # The supervisor's chat waits out Telegram's retry_after, files included.
    assert digest_texts(supervisor) == [] and uploads(harness, supervisor) == []
    # The admin blocked the bot: marked, and the files for them are not tried.
    assert uploads(harness, admin) == []
    with sqlite3.connect(harness.db_path) as connection:
        [(blocked,)] = connection.execute(
            "SELECT blocked_at IS NOT NULL FROM members WHERE telegram_user_id = 901"
        ).fetchall()
    assert blocked == 1
    harness.elapse(timedelta(seconds=29))
    await harness.run_job("outbox:drain")
    assert digest_texts(supervisor) == [] and uploads(harness, supervisor) == []  # not early
    harness.elapse(timedelta(seconds=2))
    await harness.run_job("outbox:drain")
    assert len(digest_texts(supervisor)) == 1 and len(uploads(harness, supervisor)) == 2
    tried = [
        c for c in admin.calls() if "📊" in c.text or c.method in ("sendPhoto", "sendDocument")
    ]
    assert len(tried) == 1  # one try, no retries
    # Writing to the bot again unblocks them for the next digest.
    await admin.send("/help")
    await harness.db.flush_deferred()
    harness.now = at("2026-11-28T07:00:10")
    harness.elapse(timedelta(seconds=5))
    await digest_turn(harness)
    assert len(digest_texts(admin)) == 1


async def test_five_restarts_make_no_duplicate_job_or_digest(harness: Harness) -> None:
    supervisor, *_ = await commune(harness)
    await digest_turn(harness)
    harness.now = at("2026-11-27T07:00:30")
    for _ in range(5):
        await harness.restart()
        queue = harness.application.job_queue
        assert queue is not None
        names = [str(job.name) for job in queue.jobs()]
        assert sorted(names) == sorted(set(names))
        assert "digests:tick" in names
        await digest_turn(harness)
    assert len(digest_texts(supervisor)) == 1
    assert len(uploads(harness, supervisor)) == 2


async def test_digest_on_demand_for_supervisors_only(harness: Harness) -> None:
    supervisor, _, lan, _, chi = await commune(harness)
    await submit_urgent(chi)
    await supervisor.send("/digest")
    assert supervisor.last_text() == "Đồng chí muốn xem tổng hợp khoảng thời gian nào?"
    menu, data = supervisor.find_button("Tuần này")
    await supervisor.tap_data(data, menu)
    text = supervisor.last_text()
    assert text.startswith("📊 Tổng hợp tuần 23/11 – 26/11/2026\nPhường Vinh Phú\n")
    assert "Tổng cộng 1 báo cáo: 1 vụ việc" in text
    chart, sheet = uploads(harness, supervisor)
    assert chart.content.startswith(PNG) and sheet.filename.endswith(".xlsx")
    # A double tap on the same menu makes nothing more.
    calls = await supervisor.tap_data(data, menu)
    assert supervisor.popups(calls) == ["Bản tổng hợp này đã được lập rồi."]
    assert len(uploads(harness, supervisor)) == 2
    # A member may not ask for one.
    await lan.send("/digest")
    assert lan.last_text() != "Đồng chí muốn xem tổng hợp khoảng thời gian nào?"
    assert uploads(harness, lan) == []


async def test_a_message_cut_off_mid_send_is_not_sent_twice(harness: Harness) -> None:
    """A process killed while Telegram had the message may or may not have delivered it:
    a digest is then given up rather than risk a duplicate; the rest still goes."""
    supervisor, *_ = await commune(harness)
    await digest_turn(harness)
    harness.now = at("2026-11-27T07:00:30")
    await harness.run_job("digests:tick")  # queued, not yet sent
    with sqlite3.connect(harness.db_path) as connection:
        connection.execute(
            "UPDATE outbox SET attempting_at = '2026-11-27T00:00:31+00:00'"
            " WHERE key LIKE 'digest:daily:%:text'"
        )
    await harness.restart()
    await harness.run_job("outbox:drain")
    assert digest_texts(supervisor) == []
    assert len(uploads(harness, supervisor)) == 2
    with sqlite3.connect(harness.db_path) as connection:
        states = dict(
            connection.execute(
                "SELECT substr(key, -5), status FROM outbox WHERE purpose = 'digest'"
                " AND chat_id = 900"
            ).fetchall()
        )
    assert states == {":text": "failed", "chart": "sent", "sheet": "sent"}


async def test_an_on_demand_digest_that_fails_can_be_asked_again(harness: Harness) -> None:
    supervisor, *_ = await commune(harness)
    await supervisor.send("/digest")
    harness.telegram.api.fail_next("sendPhoto", 500, "Internal Server Error")
    await supervisor.tap("Hôm nay")
    assert supervisor.last_text() == "Chưa lập được bản tổng hợp. Đồng chí thử lại sau ít phút."
    await supervisor.tap("Hôm nay")  # the same menu, again
    assert supervisor.last_text().startswith("📊 Tổng hợp ngày 26/11/2026\n")
    assert [u.method for u in uploads(harness, supervisor)] == ["sendPhoto", "sendDocument"]


async def test_the_production_clock_under_time_travel(tmp_path: Path) -> None:
    """The bot on its real clock (SystemClock), time moved by time-machine: a day's digest,
    then downtime across two digest times makes one catch-up, once."""
    with time_machine.travel(at("2026-11-26T10:00"), tick=False) as traveller:
        harness = Harness(tmp_path / "bot.sqlite3", system_clock=True)
        await harness.start()
        try:
            await harness.load_demo_units()
            supervisor, _, lan, _, _ = await commune(harness)
            await digest_turn(harness)  # counts from 07:00 today
            await lan.send("/nothing")
            traveller.move_to(at("2026-11-27T07:00:30"))
            await digest_turn(harness)
            [first] = digest_texts(supervisor)
            assert "Từ 07:00 26/11 đến 07:00 27/11" in first and "Tổng cộng 1 báo cáo" in first
            await harness.stop()
            traveller.move_to(at("2026-11-29T12:00"))  # down through two 07:00s
            await harness.start()
            await digest_turn(harness)
            await harness.restart()
            await digest_turn(harness)
            assert len(digest_texts(supervisor)) == 2
            assert "Từ 07:00 27/11 đến 07:00 29/11" in digest_texts(supervisor)[1]
        finally:
            await harness.stop()
