"""Soak: members file reports while the bot is killed with SIGKILL again and again.

Counts the updates Telegram was told the bot had (confirmed by a later getUpdates) that the
bot never handled: that number must be 0. The bot runs as ``python bot.py`` against the
loopback fake Bot API server (botapi_sim), on a database in a temporary folder made with
the real CLI (units import, one invite per member). Members act at once, each from the
screen the bot last showed them; the process is killed at random moments (seeded) and
started again, then left to settle and stopped with SIGTERM. The figures come from the
server's own record of calls and from the database.

    make soak     # or: .venv/bin/python -m bench.kill_soak [--members 40] [--kills 8] [--seed N]

Exits 1 if an update was lost (or the run could not settle to show that none was).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from botapi_sim import BOT_USERNAME, Call, FakeBotApiServer, Message
from botapi_sim.process import bot_environment, run_cli, start_bot
from presentation.i18n import Translator

TOKEN = "987654321:AAHfake-token-for-the-kill-soak"  # noqa: S105 - the fake server's
LANGUAGE = "vi"
T = Translator.load(LANGUAGE)
UNITS_CSV = "code,name,parent_code\n40,Tỉnh Nghệ An,\n16702-K01,Khối 1,40\n"
UNIT = "16702-K01"
FIRST_USER_ID = 7001
DESCRIPTION = "Hai thanh niên lấy trộm xe máy trước nhà số 12, chạy về hướng chợ Vinh."
PLACE_QUESTION = T.plain(LANGUAGE, "incident.ask.place")
DESCRIPTION_QUESTION = T.plain(LANGUAGE, "incident.ask.description")
UNKNOWN_PLACE = T.plain(LANGUAGE, "place.unknown")  # "❔ Không rõ địa điểm"
RESUME = T.plain(LANGUAGE, "draft.resume")
SUBMITTED = re.compile(r"Đã gửi báo cáo số (\d+)")
ALREADY_SUBMITTED = re.compile(r"\(số (\d+)\)")
DUPLICATE_ASKED = "🔎"
# What a member taps on a question with buttons; any other question: its first button.
CHOICES = {"when": "now", "people": "_skip", "photos": "_skip", "urgent": "no"}
SCREEN_METHODS = ("sendMessage", "editMessageText")  # what shows a member the next step
REPLY_METHODS = (*SCREEN_METHODS, "editMessageReplyMarkup")

# Every wait is bounded (seconds).
REPLY_WAIT = 15.0  # a member waits this long for a reply before acting on the screen again
UNCLEAR_WAIT = 4.0  # ...and this long on a screen with no next step before sending /incident
THINK = (0.02, 0.3)  # a member's pause before each action
KILL_AFTER = (0.5, 4.0)  # a run's uptime when it is killed
RESTART_PAUSE = (0.1, 0.6)
FILE_AFTER_LAST_RESTART = 4.0
SETTLE_WAIT = 40.0
STOP_WAIT = 20.0


# --- the bot as a process (as tests/test_process_kill.py runs it) ---------------------


def make_invites(env: dict[str, str], work_dir: Path, count: int) -> list[str]:
    """Import the units and make one invite per member with the real CLI; the codes."""
    units_file = work_dir / "units.csv"
    units_file.write_text(UNITS_CSV, encoding="utf-8")
    run_cli(env, "units", "import", str(units_file))
    prefix = f"https://t.me/{BOT_USERNAME}?start="

    def invite(_: int) -> str:
        link = run_cli(env, "invite", "--unit", UNIT, "--role", "member").strip().splitlines()[-1]
        if not link.startswith(prefix):
            raise RuntimeError(f"not an invite link: {link!r}")
        return link.removeprefix(prefix)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(invite, range(count)))


@dataclass
class BotRun:
    """One run of ``python bot.py``: its output in a log file, the calls it saw."""

    number: int
    popen: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]
    started: float
    first_call: int  # index in the server's record of calls when it was started
    ended: str = "running"

    def close(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(timeout=10)
        if not self.log.closed:
            self.log.close()


@dataclass
class BotRunner:
    server: FakeBotApiServer
    env: dict[str, str]
    log_dir: Path
    runs: list[BotRun] = field(default_factory=list)

    def start(self) -> BotRun:
        number = len(self.runs) + 1
        log_path = self.log_dir / f"bot-run-{number}.log"
        popen, log = start_bot(self.env, log_path)
        run = BotRun(number, popen, log_path, log, time.monotonic(), self.server.call_count())
        self.runs.append(run)
        return run

    def kill(self, run: BotRun) -> None:
        """kill -9: no clean-up runs. A run that already ended is noted, not killed."""
        uptime = time.monotonic() - run.started
        if run.popen.poll() is not None:
            run.ended = f"exited by itself with {run.popen.returncode}"
        else:
            os.kill(run.popen.pid, signal.SIGKILL)
            run.ended = f"SIGKILL after {uptime:.2f} s"
        run.close()

    def stop(self, run: BotRun) -> bool:
        """SIGTERM, as a service manager stops it; True if it exited cleanly in time."""
        if run.popen.poll() is not None:
            run.ended = f"exited by itself with {run.popen.returncode}"
            run.close()
            return False
        run.popen.send_signal(signal.SIGTERM)
        try:
            code = run.popen.wait(timeout=STOP_WAIT)
        except subprocess.TimeoutExpired:
            run.ended = f"did not stop within {STOP_WAIT:.0f} s of SIGTERM; killed"
            run.close()
            return False
        run.ended = f"SIGTERM, exit status {code}"
        run.close()
        return code == 0

    def run_of(self, call_index: int) -> int:
        """The run that was current when the server recorded this call."""
        return max((r.number for r in self.runs if r.first_call <= call_index), default=0)

    def close_all(self) -> None:
        for run in self.runs:
            run.close()


# --- the members ------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """An update a member queued at the server."""

    update_id: int
    user_id: int
    what: str  # the text, or "tap <callback data>"
    query_id: str | None = None

    @property
    def submit_draft(self) -> int | None:
        """The draft a tap on "Gửi báo cáo" submits (callback data rs:<draft>), or on an
        answer to "the same incident?" (du:<draft>:<report>), which submits it too."""
        if self.query_id is None or not self.what.startswith(("tap rs:", "tap du:")):
            return None
        return int(self.what.removeprefix("tap ")[3:].split(":")[0])

    @property
    def may_ask_first(self) -> bool:
        """A Submit tap that may be answered by "the same incident?" instead of a number."""
        return self.what.startswith("tap rs:")


@dataclass(frozen=True)
class Action:
    text: str | None = None
    tap: tuple[Message, str] | None = None  # the message as the member sees it, the data


def asks(text: str, wanted: str) -> bool:
    """Whether a message asks this question: on its own, or after what went before."""
    return text == wanted or text.endswith("\n\n" + wanted)


def choose(buttons: list[tuple[str, str]]) -> str:
    """The button a member filing an ordinary report taps on this question."""
    datas = [data for _, data in buttons]
    for data in datas:
        if data.startswith("du:") and data.endswith(":0"):
            return data  # "a different incident, submit"
    for data in datas:
        if data.startswith("rs:"):
            return data  # the summary: "✅ Gửi báo cáo"
    parts = datas[0].split(":")
    if parts[0] == "ra" and len(parts) >= 4 and parts[2] in CHOICES:
        suffix = f":{parts[2]}:{CHOICES[parts[2]]}"
        for data in datas:
            if data.endswith(suffix):
                return data
    return datas[0]  # the first category, the first action, "continue the draft"


def next_step(screen: Message | None) -> Action | None:
    """What a member does, looking at the bot's latest message; None: wait for more."""
    if screen is None:
        return Action(text="/incident")
    buttons = screen.inline_buttons()
    if buttons:
        return Action(tap=(screen, choose(buttons)))
    text = screen.text
    if asks(text, PLACE_QUESTION):
        return Action(text=UNKNOWN_PLACE)
    if asks(text, DESCRIPTION_QUESTION):
        return Action(text=DESCRIPTION)
    if text == RESUME or "\n→ " in text.split("\n\n")[-1]:
        return None  # a question just closed, or "where you were": the next message is coming
    return Action(text="/incident")  # the welcome, a report number, anything else


class Member(threading.Thread):
    """A Telegram user in a private chat with the bot, filing incident reports until stopped."""

    def __init__(self, soak: Soak, index: int, invite: str) -> None:
        super().__init__(name=f"member-{index}", daemon=True)
        self.soak = soak
        self.user_id = FIRST_USER_ID + index
        self.first_name = f"Tổ viên {index + 1}"
        self.invite = invite
        self.rng = random.Random(soak.seed * 1000 + index)  # noqa: S311 - not for secrets
        self.queries = 0

    @property
    def server(self) -> FakeBotApiServer:
        return self.soak.server

    def _user(self) -> dict[str, Any]:
        return {"id": self.user_id, "is_bot": False, "first_name": self.first_name,
                "language_code": LANGUAGE}  # fmt: skip

    def run(self) -> None:
        try:
            self.act(Action(text=f"/start {self.invite}"))
            while not self.soak.stop.is_set():
                mark = self.server.call_count()
                action = next_step(self.screen())
                if action is None and self.wait_for_reply(mark, None, UNCLEAR_WAIT) is None:
                    action = Action(text="/incident")  # stuck: ask where the report stands
                if action is not None and not self.soak.stop.is_set():
                    time.sleep(self.rng.uniform(*THINK))
                    reply = self.act(action)
                    if reply is not None and reply.method == "answerCallbackQuery":
                        # Only a pop-up ("already answered"): the buttons on screen lead
                        # nowhere. Ask where the report stands instead of tapping again.
                        time.sleep(self.rng.uniform(*THINK))
                        self.act(Action(text="/incident"))
        except Exception:
            self.soak.errors.append(f"{self.name}:\n{traceback.format_exc()}")

    def screen(self) -> Message | None:
        """The message the bot last sent or edited in this chat, as it now stands.

        Not always the newest: an answer edits the question it answers, and after a restart
        that may be an older copy of it than the one the member tapped.
        """
        for call in reversed(self.server.api.sent_to(self.user_id)):
            if call.ok and call.method in SCREEN_METHODS and isinstance(call.result, dict):
                return self.server.api.message(self.user_id, int(call.result["message_id"]))
        return None

    def act(self, action: Action) -> Call | None:
        """Send a message or tap a button; the bot's answer, waited for (bounded)."""
        mark = self.server.call_count()
        chat = {"id": self.user_id, "type": "private", "first_name": self.first_name}
        query_id: str | None = None
        if action.tap is not None:
            message, data = action.tap
            self.queries += 1
            query_id = f"{self.user_id}-{self.queries}"
            payload: dict[str, Any] = {"callback_query": {
                "id": query_id, "from": self._user(), "chat_instance": f"chat-{self.user_id}",
                "data": data, "message": message.json,
            }}  # fmt: skip
            what = f"tap {data}"
        else:
            text = action.text or ""
            content: dict[str, Any] = {"text": text}
            if text.startswith("/"):
                length = len(text.split()[0])
                content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
            payload = {"message": {
                "message_id": self.server.api.next_message_id(self.user_id),
                "date": int(time.time()), "chat": chat, "from": self._user(), **content,
            }}  # fmt: skip
            what = text
        update_id = self.server.queue_update(payload)
        self.soak.record(Sent(update_id, self.user_id, what, query_id))
        return self.wait_for_reply(mark, query_id, REPLY_WAIT)

    def wait_for_reply(self, after: int, query_id: str | None, timeout: float) -> Call | None:
        """The bot's first message to this chat (or pop-up for this tap) after call ``after``."""

        def reply(call: Call) -> bool:
            if call.method == "answerCallbackQuery":
                # A pop-up is the whole answer; a silent one comes before the edit that is.
                return (
                    query_id is not None
                    and call.params.get("callback_query_id") == query_id
                    and bool(call.params.get("text"))
                )
            return call.chat_id == self.user_id and call.method in REPLY_METHODS

        deadline = time.monotonic() + timeout
        while not self.soak.stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            seen = self.server.call_count()
            try:
                return self.server.wait_for_call(reply, after=after, timeout=min(remaining, 0.25))
            except TimeoutError:
                after = seen  # those were looked at: look only at newer calls next time
        return None


# --- the soak ---------------------------------------------------------------------------


@dataclass
class Soak:
    server: FakeBotApiServer
    seed: int
    stop: threading.Event = field(default_factory=threading.Event)
    sent: dict[int, Sent] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, sent: Sent) -> None:
        with self._lock:
            self.sent[sent.update_id] = sent


@dataclass
class SoakResult:
    members: int
    kills: int
    seed: int
    queued: int = 0
    confirmed: int = 0
    unconfirmed: list[int] = field(default_factory=list)
    redelivered: int = 0
    done: int = 0
    set_aside: int = 0
    lost: list[int] = field(default_factory=list)
    lost_no_row: int = 0
    lost_still_new: int = 0
    unanswered: list[int] = field(default_factory=list)
    submit_taps: int = 0
    submits_without_number: list[int] = field(default_factory=list)
    reports: int = 0
    numbers_announced: int = 0
    duplicates: int = 0
    settled: bool = False
    clean_stop: bool = False
    kill_moments: list[str] = field(default_factory=list)
    problems: int = 0
    tracebacks: int = 0
    notes: list[str] = field(default_factory=list)  # what the problems and errors were
    member_errors: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    log_paths: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        """An update lost, or the run never settled to show that none was."""
        return bool(self.lost or self.unconfirmed) or not self.settled

    def lines(self) -> list[str]:
        def ids(values: list[int]) -> str:
            return f"  {values[:20]}{' …' if len(values) > 20 else ''}" if values else ""

        return [
            f"kill soak: {self.members} members, {self.kills} kills (seed {self.seed})",
            f"  runs ended: {'; '.join(self.kill_moments)}",
            f"updates queued:                             {self.queued}",
            f"  confirmed by getUpdates:                  {self.confirmed}",
            f"  never confirmed:                          {len(self.unconfirmed)}"
            + ids(self.unconfirmed),
            f"  handed out more than once:                {self.redelivered}",
            f"  handled (inbox done / set aside):         {self.done} / {self.set_aside}",
            f"  LOST (confirmed, never handled):          {len(self.lost)}"
            f"  (no inbox row {self.lost_no_row}, still new {self.lost_still_new})"
            + ids(self.lost),
            f"member updates with no reply after them:    {len(self.unanswered)}"
            + ids(self.unanswered),
            f"Submit taps confirmed:                      {self.submit_taps}",
            f"  without a report number:                  {len(self.submits_without_number)}"
            + ids(self.submits_without_number),
            f"reports filed:                              {self.reports}",
            f"  distinct numbers told to Submit taps:     {self.numbers_announced}",
            f"  duplicates (reports - distinct numbers):  {self.duplicates}",
            f"settled: {'yes' if self.settled else 'NO'}; stopped cleanly: "
            f"{'yes' if self.clean_stop else 'NO'}; server problems: {self.problems}; "
            f"tracebacks in logs: {self.tracebacks}; member errors: {len(self.member_errors)}",
            *self.notes,
            *self.details,
            *self.member_errors,
            f"logs: {', '.join(str(p) for p in self.log_paths[:2])}"
            + (f" … ({len(self.log_paths)} runs)" if len(self.log_paths) > 2 else ""),
            f"took {self.seconds:.1f} s",
        ]


def run_soak(members: int, kills: int, seed: int, work_dir: Path) -> SoakResult:
    """Run the soak in ``work_dir`` (database, logs); returns the figures."""
    began = time.monotonic()
    rng = random.Random(seed)  # noqa: S311 - the kill moments, not a secret
    result = SoakResult(members, kills, seed)
    db_path = work_dir / "data" / "bot.sqlite3"
    log_dir = work_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    with FakeBotApiServer(TOKEN) as server:
        runner = BotRunner(server, bot_environment(server, db_path, TOKEN, LANGUAGE), log_dir)
        soak = Soak(server, seed)
        crowd: list[Member] = []
        try:
            invites = make_invites(runner.env, work_dir, members)
            run = runner.start()
            crowd = [Member(soak, index, code) for index, code in enumerate(invites)]
            for member in crowd:
                member.start()
            for _ in range(kills):
                time.sleep(max(0.0, run.started + rng.uniform(*KILL_AFTER) - time.monotonic()))
                runner.kill(run)
                time.sleep(rng.uniform(*RESTART_PAUSE))
                run = runner.start()
            time.sleep(FILE_AFTER_LAST_RESTART)
            soak.stop.set()
            for member in crowd:
                member.join(timeout=REPLY_WAIT)
            result.settled = settle(server, db_path, run)
            result.clean_stop = runner.stop(run)
        finally:
            soak.stop.set()
            runner.close_all()
        measure(result, soak, runner, db_path)
    result.member_errors = list(soak.errors)
    result.seconds = time.monotonic() - began
    return result


def settle(server: FakeBotApiServer, db_path: Path, run: BotRun) -> bool:
    """Wait (bounded) until Telegram holds nothing unconfirmed and the inbox nothing new."""
    deadline = time.monotonic() + SETTLE_WAIT
    while time.monotonic() < deadline and run.popen.poll() is None:
        with closing(sqlite3.connect(db_path, timeout=5)) as db:
            (new,) = db.execute("SELECT count(*) FROM inbox WHERE state = 'new'").fetchone()
        if new == 0 and not server.pending_update_ids():
            return True
        time.sleep(0.1)
    return False


def measure(result: SoakResult, soak: Soak, runner: BotRunner, db_path: Path) -> None:
    """The figures, from the server's record of calls and the database."""
    server = soak.server
    calls = server.calls()
    first_delivery: dict[int, int] = {}
    last_reply: dict[int, int] = {}  # chat -> index of the bot's newest message to it
    chat_texts: dict[int, list[tuple[int, str]]] = defaultdict(list)
    popups: dict[str, list[str]] = defaultdict(list)
    for index, call in enumerate(calls):
        if call.method == "getUpdates" and call.ok and call.result:
            for update in call.result:
                first_delivery.setdefault(int(update["update_id"]), index)
        elif call.method == "answerCallbackQuery" and call.ok:
            popups[str(call.params.get("callback_query_id"))].append(call.text)
        elif call.method in REPLY_METHODS and call.ok and call.chat_id is not None:
            last_reply[call.chat_id] = index
            chat_texts[call.chat_id].append((index, call.text))
    with closing(sqlite3.connect(db_path, timeout=5)) as db:
        inbox = dict(db.execute("SELECT update_id, state FROM inbox").fetchall())
        by_draft = dict(db.execute("SELECT draft_id, id FROM reports").fetchall())
        (result.reports,) = db.execute("SELECT count(*) FROM reports").fetchone()

    pending = set(server.pending_update_ids())
    sent = sorted(soak.sent.values(), key=lambda s: s.update_id)
    result.queued = len(sent)
    confirmed = [s for s in sent if s.update_id not in pending and server.deliveries(s.update_id)]
    result.confirmed = len(confirmed)
    result.unconfirmed = [s.update_id for s in sent if s.update_id in pending]
    result.redelivered = sum(1 for s in sent if server.deliveries(s.update_id) > 1)
    announced: set[int] = set()
    for s in confirmed:
        state = inbox.get(s.update_id)
        result.done += state == "done"
        result.set_aside += state == "set_aside"
        if state not in ("done", "set_aside"):
            result.lost.append(s.update_id)
            result.lost_no_row += state is None
            result.lost_still_new += state == "new"
        delivered = first_delivery[s.update_id]
        answered = s.query_id is not None and bool(popups.get(s.query_id))
        if not answered and last_reply.get(s.user_id, -1) < delivered:
            result.unanswered.append(s.update_id)
        draft = s.submit_draft
        if draft is None:
            continue
        later = [text for index, text in chat_texts[s.user_id] if index > delivered]
        if s.may_ask_first and later and later[0].startswith(DUPLICATE_ASKED):
            continue  # the member is asked about duplicates; their answer submits
        result.submit_taps += 1
        number = by_draft.get(draft)
        told = {int(n) for text in popups.get(s.query_id or "", []) for n in
                ALREADY_SUBMITTED.findall(text)} | {
            int(n) for index, text in chat_texts[s.user_id] if index > delivered
            for n in SUBMITTED.findall(text)
        }  # fmt: skip
        if number is None or number not in told:
            result.submits_without_number.append(s.update_id)
        else:
            announced.add(number)
    result.numbers_announced = len(announced)
    result.duplicates = result.reports - len(announced)
    result.kill_moments = [f"run {r.number}: {r.ended}" for r in runner.runs]
    result.problems = len(server.problems)
    result.log_paths = [r.log_path for r in runner.runs]
    logs = {r.number: r.log_path.read_text("utf-8", errors="replace") for r in runner.runs}
    result.tracebacks = sum(text.count("Traceback") for text in logs.values())
    errors = Counter(
        f"run {number}: {line.split(' ', 2)[-1][:160]}"
        for number, text in logs.items()
        for line in text.splitlines()
        if " ERROR " in line or line.startswith("telegram.error.")
    )
    result.notes = [f"  server problem: {p} (x{n})" for p, n in Counter(server.problems).items()]
    result.notes += [f"  log: {line} (x{n})" if n > 1 else f"  log: {line}" for line, n in
                     errors.items()]  # fmt: skip
    for update_id in [*result.lost, *result.unconfirmed, *result.submits_without_number][:20]:
        s = soak.sent[update_id]
        delivered_at = first_delivery.get(update_id)
        run = runner.run_of(delivered_at) if delivered_at is not None else None
        result.details.append(
            f"  update {update_id}: member {s.user_id} {s.what[:60]!r}; handed out "
            f"{server.deliveries(update_id)}x, first to run {run} (call {delivered_at}); "
            f"inbox {inbox.get(update_id, 'no row')}"
        )
        for number, text in logs.items():
            for line in text.splitlines():
                if re.search(rf"\bupdates? (?:id )?{update_id}\b", line):
                    result.details.append(f"    run {number} log: {line[:200]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=40)
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument(
        "--seed", type=int, help="of the kill moments and members' pauses (default: a new one)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 1_000_000)
    work_dir = Path(tempfile.mkdtemp(prefix="kill-soak-"))
    result = run_soak(args.members, args.kills, seed, work_dir)
    for line in result.lines():
        print(line)
    if result.failed or args.keep:
        print(f"the database and logs are kept in {work_dir}")
    else:
        shutil.rmtree(work_dir, ignore_errors=True)
        print(f"removed {work_dir} (--keep keeps it)")
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
