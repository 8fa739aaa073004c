"""End to end: the bot as a real process, killed with SIGKILL mid-report and started again.

Requirement: killing the process (kill -9) at any step and starting it again loses nothing;
the member's next message continues at the step after the last one acknowledged.

The bot runs as ``python bot.py`` against a fake Bot API server on loopback, reached through
the self-hosted server setting TELEGRAM_API_BASE_URL; the admin CLI (units import, invite)
runs the same way. A member files one incident report while the process is killed after
the category, the place, the description and the action are answered, at the summary, and
once more after submitting. Three of those kills fall in the window where Telegram still
holds the answered update unconfirmed, so the next process gets it again and must not apply
it twice; in one of them the reply itself dies with the process, and the redelivered update
must show the member where they now are.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from botapi_sim import BOT_USERNAME, FakeBotApiServer, RecordedCall
from botapi_sim.process import BotRunner, bot_environment, run_cli
from presentation.i18n import Translator

TOKEN = "987654321:AAHfake-token-for-process-kill-test"
LANGUAGE = "vi"
T = Translator.load(LANGUAGE)
WAIT = 20.0  # seconds any one reply may take, start-up of a fresh process included
USER_ID = 4242
FIRST_NAME = "Lan"
LATITUDE, LONGITUDE = 18.679585, 105.681335
DESCRIPTION = "Hai thanh niên lấy trộm xe máy trước nhà số 12, chạy về hướng chợ Vinh."
UNITS_CSV = "code,name,parent_code\n40,Tỉnh Nghệ An,\n16702-K01,Khối 1,40\n"


def prompt_text(key: str) -> str:
    """What the member sees of a message (the place is the pin this test sends)."""
    if key == "place.saved":
        return T.plain(LANGUAGE, key, place=T.plain(LANGUAGE, "value.location"))
    return T.plain(LANGUAGE, key)


@dataclass
class Member:
    """A Telegram user in a private chat with the bot, speaking through the fake server."""

    server: FakeBotApiServer
    runner: BotRunner
    user_id: int = USER_ID
    first_name: str = FIRST_NAME
    _message_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _query_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def _user(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "is_bot": False,
            "first_name": self.first_name,
            "last_name": "Nguyễn",
            "language_code": "vi",
        }

    def _message(self, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": self.user_id, "type": "private", "first_name": self.first_name},
            "from": self._user(),
            **content,
        }

    def command(self, text: str, *, hold: bool = False) -> int:
        entity = {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
        message = self._message(text=text, entities=[entity])
        return self.server.queue_update({"message": message}, hold_confirmation=hold)

    def say(self, text: str, *, hold: bool = False) -> int:
        message = self._message(text=text)
        return self.server.queue_update({"message": message}, hold_confirmation=hold)

    def send_location(self, latitude: float, longitude: float, *, hold: bool = False) -> int:
        location = {"latitude": latitude, "longitude": longitude}
        message = self._message(location=location)
        return self.server.queue_update({"message": message}, hold_confirmation=hold)

    def tap(self, prompt: RecordedCall, data_suffix: str, *, hold: bool = False) -> int:
        """Tap the button of a message the bot sent whose callback data ends (or starts) so."""
        matches = [
            data
            for _, data in prompt.inline_buttons()
            if data.endswith(data_suffix) or data.startswith(data_suffix)
        ]
        assert len(matches) == 1, f"{data_suffix!r} among {prompt.inline_buttons()}"
        query = {
            "id": f"{self.user_id}-{next(self._query_ids)}",
            "from": self._user(),
            "chat_instance": f"chat-{self.user_id}",
            "data": matches[0],
            "message": prompt.result,
        }
        return self.server.queue_update({"callback_query": query}, hold_confirmation=hold)

    def expect(self, accepts: Callable[[str], bool], after: int, describe: str) -> RecordedCall:
        """The bot's next message to this member that matches, within WAIT seconds."""

        def matches(call: RecordedCall) -> bool:
            # A tapped question is edited into the next one, so an edit asks too.
            return (
                call.method in ("sendMessage", "editMessageText")
                and call.chat_id == self.user_id
                and accepts(call.text)
            )

        try:
            return self.server.wait_for_call(matches, after=after, timeout=WAIT, describe=describe)
        except TimeoutError as error:
            raise AssertionError(
                f"{error}\nConversation:\n{self.transcript()}\n{self.runner.logs()}"
            ) from error

    def expect_prompt(self, key: str, after: int) -> RecordedCall:
        wanted = prompt_text(key)
        return self.expect(lambda text: asks(text, wanted), after, f"message {key!r}")

    def transcript(self) -> str:
        """The conversation as the fake server saw it, for failure messages."""
        lines = []
        for call in self.server.calls():
            if call.method == "getUpdates":
                if call.result:
                    ids = [update["update_id"] for update in call.result]
                    lines.append(f"getUpdates offset={call.params.get('offset')} -> {ids}")
            elif call.method in ("sendMessage", "editMessageText", "answerCallbackQuery"):
                lines.append(f"{call.method}: {call.text[:70]!r}")
            else:
                lines.append(call.method)
        return "\n".join(lines)

    def received(self, text: str) -> int:
        """How many messages with exactly this text the bot sent to this member."""
        return sum(
            1
            for call in self.server.calls("sendMessage")
            if call.chat_id == self.user_id and call.text == text
        )


@pytest.fixture
def api_server() -> Iterator[FakeBotApiServer]:
    with FakeBotApiServer(TOKEN) as server:
        yield server


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.sqlite3"


@pytest.fixture
def runner(api_server: FakeBotApiServer, db_path: Path, tmp_path: Path) -> Iterator[BotRunner]:
    bots = BotRunner(bot_environment(api_server, db_path, TOKEN, LANGUAGE), tmp_path)
    try:
        yield bots
    finally:
        bots.reap_all()


def seed(runner: BotRunner, api_server: FakeBotApiServer, tmp_path: Path) -> str:
    """Import the units and make an invite with the real CLI; returns the invite code."""
    units_file = tmp_path / "units.csv"
    units_file.write_text(UNITS_CSV, encoding="utf-8")
    run_cli(runner.env, "units", "import", str(units_file))

    before = api_server.call_count()
    output = run_cli(runner.env, "invite", "--unit", "16702-K01", "--role", "member")
    # The CLI asked the fake server, through the configured base URL, who the bot is.
    assert [call.method for call in api_server.calls()[before:]] == ["getMe"]
    link = output.strip().splitlines()[-1]
    prefix = f"https://t.me/{BOT_USERNAME}?start="
    assert link.startswith(prefix), output
    return link.removeprefix(prefix)


# The questions of the incident form in order, and what the member sees between them.
QUESTIONS = (
    "incident.ask.category",
    "incident.ask.when",
    "incident.ask.place",
    "place.saved",
    "incident.ask.description",
    "incident.ask.people",
    "report.ask.photos",
    "incident.ask.action",
    "incident.ask.urgent",
    "summary",
    "report.submitted",
)


def asks(text: str, wanted: str) -> bool:
    """Whether a message says this: on its own, or with the messages next to it.

    A tapped question is edited into the next one, and a question without buttons comes
    in one message with what went before it (the place just saved).
    """
    return text == wanted or text.endswith("\n\n" + wanted) or text.startswith(wanted + "\n\n")


def label_of(text: str, summary_text: str, submitted_text: str) -> str | None:
    """Which of the form's messages a text is; None for a question closed with its answer.

    Anything else is a test failure.
    """
    if asks(summary_text, text) or text == summary_text:
        return "summary"  # shown anew after a restart, or edited in after the last answer
    if text == submitted_text:
        return "report.submitted"
    for key in (*QUESTIONS[:-2], "draft.resume"):
        if asks(text, prompt_text(key)):
            return key
    if "\n→ " in text and "\n\n" not in text:
        return None  # the question before the place step, closed: its next one comes anew
    raise AssertionError(f"unexpected message to the member: {text!r}")


def check_conversation(labels: list[str]) -> int:
    """The member was walked through the form in order, never sent back nor skipped ahead.

    A replay of an update handled before the kill may show the member where they are,
    announced by "draft.resume": the question they were last asked, or, if the reply to
    their answer died with the process, the next one. Returns how often that happened.
    """
    asked = -1  # index in QUESTIONS of the last message the member got
    resumes = 0
    position = 0
    while position < len(labels):
        label = labels[position]
        if label == "draft.resume":
            resumes += 1
            position += 1
            label = labels[position] if position < len(labels) else "(nothing)"
            current = asked - 1 if QUESTIONS[asked] == "place.saved" else asked
            if label == QUESTIONS[current]:
                position += 1
                continue
        following = asked + 1
        if QUESTIONS[following] == "place.saved" and label != "place.saved":
            following += 1  # a resumed place answer goes straight to the next question
        assert label == QUESTIONS[following], f"message {position} is {label!r}: {labels}"
        asked = following
        position += 1
    assert asked == len(QUESTIONS) - 1, labels
    return resumes


def test_kill_9_at_any_step_loses_nothing(
    api_server: FakeBotApiServer, runner: BotRunner, db_path: Path, tmp_path: Path
) -> None:
    started = datetime.now(UTC)
    code = seed(runner, api_server, tmp_path)
    lan = Member(api_server, runner)

    # Run 1: join, start an incident, answer the category; killed once that is acknowledged.
    bot = runner.start()
    mark = api_server.call_count()
    lan.command(f"/start {code}")
    welcome = lan.expect(lambda text: "Khối 1" in text, mark, "the welcome")
    mark = api_server.call_count()
    lan.command("/incident")
    ask_category = lan.expect_prompt("incident.ask.category", mark)
    mark = api_server.call_count()
    lan.tap(ask_category, ":cat:THEFT")
    ask_when = lan.expect_prompt("incident.ask.when", mark)
    bot.kill()

    # Run 2: the old message's button still answers "when"; the location is acknowledged,
    # and the process dies before its next getUpdates tells Telegram it has the update.
    bot = runner.start()
    mark = api_server.call_count()
    lan.tap(ask_when, ":when:now")
    lan.expect_prompt("incident.ask.place", mark)
    mark = api_server.call_count()
    location_update = lan.send_location(LATITUDE, LONGITUDE, hold=True)
    lan.expect_prompt("place.saved", mark)
    lan.expect_prompt("incident.ask.description", mark)
    assert location_update in api_server.pending_update_ids()
    bot.kill()
    api_server.release_confirmations()

    # Run 3 gets the location again and must not take it as the description; the text is
    # the description. Killed again before Telegram hears the text was received.
    bot = runner.start()
    mark = api_server.call_count()
    description_update = lan.say(DESCRIPTION, hold=True)
    ask_people = lan.expect_prompt("incident.ask.people", mark)
    assert api_server.deliveries(location_update) >= 2
    assert description_update in api_server.pending_update_ids()
    bot.kill()
    api_server.release_confirmations()

    # Run 4 gets the description again and must not take it as the "people" answer. The
    # action answer is committed, but the process dies before any reply reaches Telegram.
    bot = runner.start()
    mark = api_server.call_count()
    lan.tap(ask_people, ":people:_skip")
    ask_photos = lan.expect_prompt("report.ask.photos", mark)
    assert api_server.deliveries(description_update) >= 2
    mark = api_server.call_count()
    lan.tap(ask_photos, ":photos:_skip")
    ask_action = lan.expect_prompt("incident.ask.action", mark)
    api_server.park_replies()
    action_update = lan.tap(ask_action, ":action:police", hold=True)
    api_server.wait_for_parked(lambda call: call.method != "getUpdates", timeout=WAIT)
    bot.kill()
    api_server.release_replies()
    api_server.release_confirmations()

    # Run 5: the member, who saw no reply, is shown where they are (the urgency question)
    # as soon as it starts, and the redelivered action tap changes nothing. They answer,
    # then see the summary. Killed there.
    bot = runner.start()
    mark = api_server.call_count()
    lan.expect_prompt("draft.resume", mark)
    ask_urgent = lan.expect_prompt("incident.ask.urgent", mark)
    assert api_server.wait_for_deliveries(action_update, 2, timeout=WAIT) >= 2
    mark = api_server.call_count()
    lan.tap(ask_urgent, ":urgent:no")
    summary = lan.expect(lambda text: DESCRIPTION in text, mark, "the summary")
    bot.kill()

    # Run 6: the summary shown before the kill submits the report.
    bot = runner.start()
    mark = api_server.call_count()
    lan.tap(summary, "rs:")
    submitted = lan.expect(lambda text: "Đã gửi báo cáo" in text, mark, "the report number")
    bot.kill()
    finished = datetime.now(UTC)

    # The member went through the form in order: a redelivered update never moved them on,
    # and a repeated question only ever came announced, after a reply was lost.
    texts = [
        call.text
        for call in api_server.calls()
        if call.method in ("sendMessage", "editMessageText")
        and call.chat_id == USER_ID
        and call.text != welcome.text
    ]
    labels = [
        label
        for text in texts
        for label in (
            # The place saved and the next question, in one message.
            ["place.saved", "incident.ask.description"]
            if text == prompt_text("place.saved") + "\n\n" + prompt_text("incident.ask.description")
            else [label_of(text, summary.text, submitted.text)]
        )
        if label is not None
    ]
    assert check_conversation(labels) >= 1, lan.transcript()
    assert lan.received(welcome.text) == 1
    # No pop-up said "already answered", "stale button" or "error": every tap was taken.
    popups = [c.params for c in api_server.calls("answerCallbackQuery") if c.params.get("text")]
    assert popups == [], lan.transcript()
    assert api_server.problems == []
    for run in runner.runs:
        assert "Traceback" not in run.output(), run.output()
        # The real process logs at INFO through httpx; the token is in every request URL.
        assert TOKEN.split(":")[1] not in run.output()

    # The database holds exactly the report the member gave, and no draft.
    with closing(sqlite3.connect(db_path)) as db:
        db.row_factory = sqlite3.Row
        reports = db.execute("SELECT * FROM reports").fetchall()
        drafts = db.execute("SELECT count(*) FROM drafts").fetchone()[0]
        members = db.execute("SELECT id, telegram_user_id, unit_code FROM members").fetchall()
        photos = db.execute("SELECT count(*) FROM report_photos").fetchone()[0]
        alerts = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        invite_used = db.execute("SELECT used_by FROM invites").fetchone()[0]
    assert drafts == 0
    assert [(m["telegram_user_id"], m["unit_code"]) for m in members] == [(USER_ID, "16702-K01")]
    assert invite_used == members[0]["id"]
    assert len(reports) == 1
    report = reports[0]
    assert f"số {report['id']}" in submitted.text
    assert report["kind"] == "incident"
    assert report["member_id"] == members[0]["id"]
    assert report["unit_code"] == "16702-K01"
    assert report["category_code"] == "THEFT"
    assert report["latitude"] == pytest.approx(LATITUDE)
    assert report["longitude"] == pytest.approx(LONGITUDE)
    assert report["address"] is None
    assert report["description"] == DESCRIPTION
    assert report["people"] is None
    assert report["action_taken"] == "police"
    assert report["urgent"] == 0
    assert report["status"] == "submitted"
    occurred = datetime.fromisoformat(report["occurred_at"])
    assert started - timedelta(seconds=1) <= occurred <= finished
    assert (photos, alerts) == (0, 0)
    data = json.loads(report["data"])
    assert data["cat"] == "THEFT"
    assert data["place"] == {"lat": LATITUDE, "lon": LONGITUDE, "title": None}
    assert data["photos"] is None
    assert data["urgent"] is False


def test_an_update_telegram_considers_delivered_survives_kill_9(
    api_server: FakeBotApiServer, runner: BotRunner, db_path: Path, tmp_path: Path
) -> None:
    """python-telegram-bot confirms a batch with its next getUpdates, before handling it.

    The member's tap waits behind their /help, whose reply hangs; meanwhile the bot polls
    again and so tells Telegram it has the tap. Killed then, the next process must still
    handle the tap: Telegram will not send it again.
    """
    code = seed(runner, api_server, tmp_path)
    lan = Member(api_server, runner)
    bot = runner.start()
    mark = api_server.call_count()
    lan.command(f"/start {code}")
    lan.expect(lambda text: "Khối 1" in text, mark, "the welcome")
    mark = api_server.call_count()
    lan.command("/incident")
    ask_category = lan.expect_prompt("incident.ask.category", mark)

    api_server.park_replies()
    lan.command("/help")
    api_server.wait_for_parked(lambda call: call.method == "sendMessage", timeout=WAIT)
    tap = lan.tap(ask_category, ":cat:THEFT")
    deadline = time.monotonic() + WAIT
    while tap in api_server.pending_update_ids() or api_server.deliveries(tap) == 0:
        assert time.monotonic() < deadline, "the tap was never confirmed to Telegram"
        time.sleep(0.05)
    bot.kill()
    api_server.release_replies()

    # Telegram has nothing more to send; only the inbox remembers the tap.
    assert tap not in api_server.pending_update_ids()
    runner.start()
    mark = api_server.call_count()
    lan.expect_prompt("incident.ask.when", mark)
    deadline = time.monotonic() + WAIT
    while True:
        with closing(sqlite3.connect(db_path)) as db:
            step = db.execute("SELECT step FROM drafts").fetchone()[0]
            unfinished = db.execute("SELECT count(*) FROM inbox WHERE state = 'new'").fetchone()
        if unfinished == (0,) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert step == "when"
    assert unfinished == (0,)
    assert api_server.deliveries(tap) == 1


def test_an_unreadable_update_is_set_aside_and_polling_goes_on(
    api_server: FakeBotApiServer, runner: BotRunner, db_path: Path, tmp_path: Path
) -> None:
    """A poll missing fields python-telegram-bot requires used to stop polling for good."""
    code = seed(runner, api_server, tmp_path)
    lan = Member(api_server, runner)
    bot = runner.start()
    mark = api_server.call_count()
    lan.command(f"/start {code}")
    lan.expect(lambda text: "Khối 1" in text, mark, "the welcome")
    secret = "Nội dung riêng tư của tổ viên"
    broken = api_server.queue_update(
        {"message": {**lan._message(text=secret), "poll": {"id": "p1", "question": secret}}}
    )
    mark = api_server.call_count()
    lan.command("/incident")
    lan.expect_prompt("incident.ask.category", mark)
    assert broken not in api_server.pending_update_ids()
    assert api_server.deliveries(broken) == 1  # fetched once, not again and again
    bot.kill()
    with closing(sqlite3.connect(db_path)) as db:
        state = db.execute("SELECT state FROM inbox WHERE update_id = ?", (broken,)).fetchone()
    assert state == ("set_aside",)
    output = runner.runs[-1].output()
    logged = [line for line in output.splitlines() if "set aside" in line]
    assert len(logged) == 1 and str(broken) in logged[0]
    assert secret not in output


def test_kill_9_as_the_urgent_alert_goes_loses_neither_alert_nor_confirmation(
    api_server: FakeBotApiServer, runner: BotRunner, db_path: Path, tmp_path: Path
) -> None:
    """🆘 Báo khẩn: the process dies with the third answer committed and every reply to it
    (the alert, the member's confirmation) still in flight. The next process sends the
    alert and tells the member it went, with the emergency numbers, and the redelivered
    answer makes no second report."""
    code = seed(runner, api_server, tmp_path)
    boss_code = run_cli(runner.env, "invite", "--unit", "40", "--role", "supervisor")
    boss_code = boss_code.strip().splitlines()[-1].rsplit("=", 1)[-1]
    lan = Member(api_server, runner)
    hung = Member(api_server, runner, user_id=4343, first_name="Hùng")

    bot = runner.start()
    mark = api_server.call_count()
    hung.command(f"/start {boss_code}")
    hung.expect(lambda text: "Tỉnh Nghệ An" in text, mark, "the supervisor's welcome")
    mark = api_server.call_count()
    lan.command(f"/start {code}")
    lan.expect(lambda text: "Khối 1" in text, mark, "the welcome")
    mark = api_server.call_count()
    lan.say(T.plain(LANGUAGE, "menu.urgent"))
    ask_category = lan.expect(lambda text: "Câu 1/3" in text, mark, "the first question")
    mark = api_server.call_count()
    lan.tap(ask_category, ":cat:FIRE_EXPLOSION")
    lan.expect(lambda text: "Câu 2/3" in text, mark, "the place question")
    mark = api_server.call_count()
    lan.send_location(LATITUDE, LONGITUDE)
    lan.expect(lambda text: "Câu 3/3" in text, mark, "the one-line question")
    api_server.park_replies()
    line = lan.say("Cháy kho củi, lửa đang lan", hold=True)
    api_server.wait_for_parked(lambda call: call.method == "sendMessage", timeout=WAIT)
    bot.kill()
    api_server.release_replies()
    api_server.release_confirmations()

    bot = runner.start()
    mark = api_server.call_count()
    told = lan.expect(lambda text: "Đã báo ngay cho 1 cán bộ phụ trách" in text, mark,
                      "the confirmation the kill cut off")  # fmt: skip
    assert all(number in told.text for number in ("113", "114", "115"))
    hung.expect(lambda text: text.startswith("🚨 KHẨN CẤP"), 0, "the alert")
    assert api_server.wait_for_deliveries(line, 2, timeout=WAIT) >= 2
    bot.kill()

    delivered = [
        call
        for call in api_server.calls("sendMessage")
        if call.chat_id == hung.user_id and call.text.startswith("🚨 KHẨN CẤP") and call.ok
    ]
    # A copy cut off mid-send may have arrived: an alert is sent again rather than lost.
    assert 1 <= len(delivered) <= 2
    with closing(sqlite3.connect(db_path)) as db:
        assert db.execute("SELECT count(*), sum(urgent) FROM reports").fetchone() == (1, 1)
        assert db.execute("SELECT step FROM drafts").fetchall() == [("people",)]
    for run in runner.runs:
        assert "Traceback" not in run.output(), run.output()
