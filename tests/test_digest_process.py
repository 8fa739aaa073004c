"""End to end: the scheduled digest's catch-up, delivered by the real process, killed midway.

Requirement: a digest missed while the bot was down is made once, when it starts again, and
delivered once: a supervisor never gets the same part twice, however the process stops. A
process killed with SIGKILL (kill -9) while the outbox hands the digest to Telegram may
lose at most the few messages that were in flight at that moment; those are given up as
"interrupted" at the next start-up rather than sent again, as they may have arrived.

The bot runs as ``python bot.py`` against the fake Bot API server on loopback, as in
test_process_kill. The database is made with the real CLI (units import); supervisors and
the daily digest's baseline, one day old, are written straight into it, so that the bot
catches up one daily digest as soon as it starts: a text, a chart and a spreadsheet for
each supervisor. The weekly and monthly digests are turned off.

The kill comes from inside the fake server, the moment it takes a chart or spreadsheet and
before it answers: every run hits the window where a message has arrived and the process
never learns it, in which a resend would be a duplicate.
"""

from __future__ import annotations

import signal
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from botapi_sim import Call, FakeBotApiServer
from botapi_sim.process import BotProcess, BotRunner, bot_environment, run_cli
from domain.deadlines import Period, last_due
from domain.digest import DigestSchedule, parse_schedule
from domain.settings import DIGEST_DEFAULTS

TOKEN = "987654321:AAHfake-token-for-digest-process-test"
LANGUAGE = "vi"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
WAIT = 60.0  # seconds a digest may take to be made and delivered, start-up included
# The digest job first runs this long after start-up (bot/app.py); a run kept up longer has
# had its chance to make a second digest.
TICK_PASSED = 6.0
PARTS = {"text": "sendMessage", "chart": "sendPhoto", "sheet": "sendDocument"}
UNITS_CSV = (
    "code,name,parent_code\n"
    "40,Tỉnh Nghệ An,\n"
    "412,Thành phố Vinh,40\n"
    "16702,Phường Hưng Dũng,412\n"
    "16702-K01,Khối 1,16702\n"
    "16702-K02,Khối 2,16702\n"
    "16705,Phường Bến Thủy,412\n"
    "16705-K01,Khối 1,16705\n"
)
UNIT_CODES = ("40", "412", "16702", "16702-K01", "16702-K02", "16705", "16705-K01")
FIRST_USER_ID = 880_001
# Supervisors of each test: three messages each, paced at one a second per chat.
KILLED_SUPERVISORS = 25
RESTARTED_SUPERVISORS = 5


def daily_schedule() -> DigestSchedule:
    """The daily digest's schedule as the bot reads it by default (BOT_DIGEST_DAILY unset)."""
    schedule = parse_schedule(Period.DAILY, DIGEST_DEFAULTS[Period.DAILY])
    assert schedule is not None
    return schedule


@dataclass
class KillWhenTaken:
    """Kills a bot run with kill -9 from inside the fake Telegram, the moment Telegram has
    taken a chosen digest part and before its answer leaves: the message has arrived, and
    the process never learns it did. That is the window a real kill can fall into.

    ``chosen(parts, part)``: whether to kill at this part, given the count of every part
    taken so far, this one included.
    """

    run: BotProcess
    chosen: Callable[[Counter[str], str], bool]
    parts: Counter[str] = field(default_factory=Counter)
    fired: Call | None = None

    def __call__(self, call: Call) -> None:
        part = digest_part(call)
        if self.fired is not None or part is None:
            return
        self.parts[part] += 1
        if self.chosen(self.parts, part):
            self.fired = call
            self.run.popen.send_signal(signal.SIGKILL)  # a no-op once the run is reaped


@contextmanager
def killing(server: FakeBotApiServer, switch: KillWhenTaken) -> Iterator[KillWhenTaken]:
    """Have the fake Telegram call a kill switch on every call it takes, while in effect."""
    recorded = server.api.on_record

    def on_record(call: Call) -> None:
        switch(call)
        if recorded is not None:
            recorded(call)

    server.api.on_record = on_record
    try:
        yield switch
    finally:
        server.api.on_record = recorded


@pytest.fixture
def api_server() -> Iterator[FakeBotApiServer]:
    with FakeBotApiServer(TOKEN) as server:
        yield server


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.sqlite3"


@pytest.fixture
def runner(api_server: FakeBotApiServer, db_path: Path, tmp_path: Path) -> Iterator[BotRunner]:
    env = bot_environment(api_server, db_path, TOKEN, LANGUAGE)
    # Empty turns a digest off; BOT_DIGEST_DAILY is left to its default (07:00).
    env.update(BOT_DIGEST_WEEKLY="", BOT_DIGEST_MONTHLY="")
    bots = BotRunner(env, tmp_path)
    try:
        yield bots
    finally:
        bots.reap_all()


@dataclass(frozen=True)
class Supervisor:
    member_id: int
    chat_id: int


def keep_clear_of_the_schedule(within: timedelta) -> None:
    """If a daily digest moment falls in the next ``within``, wait until it has passed.

    A moment passing mid-test would rightly make a second digest.
    """
    now = datetime.now(UTC)
    upcoming = last_due(daily_schedule(), now + within, ZONE)
    if upcoming > now:
        time.sleep((upcoming - now).total_seconds() + 1.0)


def seed(runner: BotRunner, tmp_path: Path, db_path: Path, supervisors: int) -> datetime:
    """Units through the real CLI; supervisors and a one-day-old daily baseline written
    directly. Returns the moment the catch-up must cover up to: the latest daily one."""
    keep_clear_of_the_schedule(timedelta(seconds=90))
    units_file = tmp_path / "units.csv"
    units_file.write_text(UNITS_CSV, encoding="utf-8")
    run_cli(runner.env, "units", "import", str(units_file))

    now = datetime.now(UTC)
    due = last_due(daily_schedule(), now, ZONE)
    baseline = due - timedelta(days=1)
    joined = (now - timedelta(days=30)).isoformat()
    with closing(sqlite3.connect(db_path)) as db, db:
        db.executemany(
            "INSERT INTO members (telegram_user_id, chat_id, full_name, username, unit_code,"
            " role, language, active, joined_at) VALUES (?, ?, ?, ?, ?, 'supervisor', 'vi', 1, ?)",
            [
                (
                    FIRST_USER_ID + number,
                    FIRST_USER_ID + number,
                    f"Giám sát {number + 1:02d}",
                    f"giamsat{number + 1:02d}",
                    UNIT_CODES[number % len(UNIT_CODES)],
                    joined,
                )
                for number in range(supervisors)
            ],
        )
        db.execute(
            "INSERT INTO digest_runs (schedule, period_start, period_end, state, created_at)"
            " VALUES ('daily', ?, ?, 'baseline', ?)",
            (baseline.isoformat(), baseline.isoformat(), baseline.isoformat()),
        )
    return due


def read_db(db_path: Path, sql: str) -> list[sqlite3.Row]:
    """Rows of a query, read-only: the bot may be writing meanwhile."""
    with closing(sqlite3.connect(db_path.as_uri() + "?mode=ro", uri=True, timeout=10)) as db:
        db.row_factory = sqlite3.Row
        return db.execute(sql).fetchall()


def supervisors_in(db_path: Path) -> list[Supervisor]:
    rows = read_db(db_path, "SELECT id, chat_id FROM members WHERE role = 'supervisor'")
    return [Supervisor(row["id"], row["chat_id"]) for row in rows]


def outbox_settled(db_path: Path, expected: int) -> bool:
    """Whether the digest is queued and the outbox has nothing left to send."""
    [row] = read_db(
        db_path,
        "SELECT count(*) AS rows, count(*) FILTER (WHERE status = 'pending') AS pending"
        " FROM outbox",
    )
    return bool(row["rows"] >= expected and row["pending"] == 0)


def digest_part(call: Call) -> str | None:
    """Which part of a digest a call delivered: text, chart or sheet; None if none."""
    if not call.ok:
        return None
    if call.method == "sendMessage" and "📊" in call.text:
        return "text"
    if call.method == "sendPhoto":
        return "chart"
    if call.method == "sendDocument":
        return "sheet"
    return None


def delivered(server: FakeBotApiServer) -> list[tuple[int, str, Call]]:
    """(chat, part, call) of every digest part Telegram took, in order."""
    return [
        (call.chat_id, part, call)
        for call in server.calls()
        if (part := digest_part(call)) is not None and call.chat_id is not None
    ]


def daily_runs(db_path: Path) -> list[tuple[str, str, str]]:
    rows = read_db(
        db_path,
        "SELECT state, period_start, period_end FROM digest_runs WHERE schedule = 'daily'"
        " ORDER BY period_end",
    )
    return [(row["state"], row["period_start"], row["period_end"]) for row in rows]


def check_clean_logs(runner: BotRunner) -> None:
    for run in runner.runs:
        assert "Traceback" not in run.output(), runner.logs()
        # The real process logs at INFO through httpx; the token is in every request URL.
        assert TOKEN.split(":")[1] not in run.output()


def test_kill_9_mid_digest_delivery_sends_nothing_twice(
    api_server: FakeBotApiServer, runner: BotRunner, db_path: Path, tmp_path: Path
) -> None:
    due = seed(runner, tmp_path, db_path, KILLED_SUPERVISORS)
    supervisors = supervisors_in(db_path)
    assert len(supervisors) == KILLED_SUPERVISORS
    expected = 3 * len(supervisors)
    key = f"digest:daily:{due.isoformat()}"

    # Run 1 catches up the missed daily digest. It is killed once 15 parts have gone, the
    # moment Telegram takes the next chart or spreadsheet: that one has arrived, but the
    # process dies before it hears so.
    first = runner.start()
    with killing(
        api_server,
        KillWhenTaken(first, lambda parts, part: parts.total() > 15 and part != "text"),
    ) as switch:
        runner.wait_until(lambda: switch.fired is not None, "15 digest parts sent", WAIT)
    first.killed()
    assert switch.fired is not None and switch.fired.chat_id is not None
    in_flight = (switch.fired.chat_id, str(digest_part(switch.fired)))
    before_restart = len(delivered(api_server))
    assert before_restart < expected, f"the delivery was over before the kill\n{runner.logs()}"
    assert "queued the daily digest" in first.output(), runner.logs()

    # Run 2 settles what the kill interrupted, sends the rest, and makes no second digest.
    second = runner.start()
    started = runner.wait_started(second, WAIT)
    runner.wait_until(lambda: outbox_settled(db_path, expected), "settled outbox", WAIT)
    time.sleep(max(0.0, started + TICK_PASSED - time.monotonic()))
    assert second.stop() == 0, runner.logs()
    logs = runner.logs()

    # One digest made: the baseline, then one send from it to the latest daily moment.
    baseline = (due - timedelta(days=1)).isoformat()
    assert daily_runs(db_path) == [
        ("baseline", baseline, baseline),
        ("queued", baseline, due.isoformat()),
    ], logs

    # Nothing reached a supervisor twice.
    calls = delivered(api_server)
    chats = {supervisor.chat_id for supervisor in supervisors}
    assert {chat for chat, _, _ in calls} <= chats, logs
    per_chat = Counter((chat, part) for chat, part, _ in calls)
    twice = {pair: count for pair, count in per_chat.items() if count > 1}
    assert twice == {}, f"delivered more than once: {twice}\n{logs}"
    assert len(calls) > before_restart, f"the restart sent nothing\n{logs}"

    # Every message was sent, bar the few in flight at the kill, given up as interrupted.
    rows = read_db(
        db_path, "SELECT key, purpose, chat_id, status, message_id, last_error FROM outbox"
    )
    assert sorted(row["key"] for row in rows) == sorted(
        f"{key}:{supervisor.member_id}:{part}" for supervisor in supervisors for part in PARTS
    ), logs
    assert {row["purpose"] for row in rows} == {"digest"}
    sent = [row for row in rows if row["status"] == "sent"]
    failed = [row for row in rows if row["status"] != "sent"]
    assert all(row["status"] == "failed" for row in failed), [dict(row) for row in failed]
    assert len(failed) <= 3, f"{[dict(row) for row in failed]}\n{logs}"
    assert all(str(row["last_error"]).startswith("interrupted") for row in failed), (
        f"{[dict(row) for row in failed]}\n{logs}"
    )
    assert len(sent) + len(failed) == expected
    # The part in flight at the kill arrived; it is given up, not sent again.
    [row] = [row for row in rows if (row["chat_id"], row["key"].rsplit(":", 1)[1]) == in_flight]
    assert row["status"] == "failed", f"{dict(row)}\n{logs}"

    # A row marked sent is a message Telegram took; an interrupted one may have arrived.
    taken = {(chat, part): call for chat, part, call in calls}
    for row in sent:
        part = row["key"].rsplit(":", 1)[1]
        call = taken.get((row["chat_id"], part))
        assert call is not None, f"{row['key']} is marked sent but never arrived\n{logs}"
        assert call.method == PARTS[part]
        assert call.result["message_id"] == row["message_id"], row["key"]
    assert len(sent) <= len(calls) <= len(sent) + len(failed), logs

    # The files are the ones the digest names, by the day of its moment.
    day = f"{due.astimezone(ZONE):%Y-%m-%d}"
    for supervisor in supervisors:
        names = [upload.filename for upload in api_server.api.uploads(supervisor.chat_id)]
        assert set(names) <= {f"tong-hop-{day}.png", f"tong-hop-{day}.xlsx"}, names
        assert len(names) == len(set(names)), names

    assert api_server.problems == [], logs
    check_clean_logs(runner)


def test_five_restarts_make_one_digest(
    api_server: FakeBotApiServer, runner: BotRunner, db_path: Path, tmp_path: Path
) -> None:
    """Stopped gracefully five times (once mid-delivery, twice right after start-up, twice
    after the digest job's first look), the bot makes and delivers one digest."""
    due = seed(runner, tmp_path, db_path, RESTARTED_SUPERVISORS)
    supervisors = supervisors_in(db_path)
    assert len(supervisors) == RESTARTED_SUPERVISORS

    # Run 1 makes the digest and is stopped as soon as its first part has gone.
    first = runner.start()
    runner.wait_until(lambda: len(delivered(api_server)) >= 1, "a digest part sent", WAIT)
    assert first.stop() == 0, runner.logs()

    # Runs 2 to 5: stopped at once, or once the digest job has had its look.
    for number in range(2, 6):
        run = runner.start()
        started = runner.wait_started(run, WAIT)
        if number % 2 == 1:
            time.sleep(max(0.0, started + TICK_PASSED - time.monotonic()))
        assert run.stop() == 0, runner.logs()
    logs = runner.logs()

    baseline = (due - timedelta(days=1)).isoformat()
    assert daily_runs(db_path) == [
        ("baseline", baseline, baseline),
        ("queued", baseline, due.isoformat()),
    ], logs
    calls = delivered(api_server)
    for supervisor in supervisors:
        parts = Counter(part for chat, part, _ in calls if chat == supervisor.chat_id)
        assert parts == {"text": 1, "chart": 1, "sheet": 1}, f"{supervisor}: {parts}\n{logs}"
    assert len(calls) == 3 * len(supervisors), logs
    statuses = read_db(db_path, "SELECT status, count(*) AS n FROM outbox GROUP BY status")
    assert {row["status"]: row["n"] for row in statuses} == {"sent": 3 * len(supervisors)}, logs
    assert api_server.problems == [], logs
    check_clean_logs(runner)
