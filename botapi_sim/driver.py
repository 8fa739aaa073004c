"""Drive the real Application with updates as Telegram would send them.

A ``Harness`` is one bot on one SQLite file with Telegram simulated in-process and time under
the caller's control; a ``Person`` is a Telegram user in a private chat with it, who sees the
chat as it now stands (edits applied) and taps the buttons that are there.
Tests and the benchmark both drive the bot through it.
"""

from __future__ import annotations

import atexit
import itertools
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Update

from bot.app import build_application
from botapi_sim.core import BOT_USER, BotApi, Call, Message
from botapi_sim.inprocess import FakeTelegram
from domain.clock import Clock, SystemClock
from domain.invites import hash_invite_code, new_invite_code
from domain.models import Role, Unit
from domain.settings import DEFAULT_API_BASE_URL, DEFAULT_FILE_BASE_URL, Settings
from handlers.context import BotApplication, services_of
from storage.db import Database
from storage.members import create_invite
from storage.units import upsert_units

TOKEN = "123456789:TEST-token-for-the-fake-telegram-api"  # noqa: S105 - the simulator's, not a secret
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
# 10:00 in Vietnam on the session's date: every test runs at the same moment.
START = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)

DEMO_UNITS = [
    Unit("40", "Tỉnh Nghệ An", None),
    Unit("16702", "Phường Vinh Phú", "40"),
    Unit("16702-K01", "Khối 1", "16702"),
    Unit("16702-K02", "Khối 2", "16702"),
    Unit("17464", "Xã Diễn Châu", "40"),
    Unit("17464-X01", "Xóm 1", "17464"),
]


_DIGEST_POOL: list[Executor] = []


def shared_digest_executor() -> Executor:
    """One digest worker process for every harness of a test run: the same code path as
    the bot's own, without starting a process per test."""
    if not _DIGEST_POOL:
        pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        atexit.register(pool.shutdown, wait=False, cancel_futures=True)
        _DIGEST_POOL.append(pool)
    return _DIGEST_POOL[0]


def make_settings(db_path: Path, language: str = "vi") -> Settings:
    return Settings(
        token=TOKEN,
        api_base_url=DEFAULT_API_BASE_URL,
        file_base_url=DEFAULT_FILE_BASE_URL,
        db_path=db_path,
        timezone=ZONE,
        language=language,
    )


class HarnessClock:
    """The bot's one clock, read from the harness.

    Setting ``harness.now`` sets the wall clock (forward, or back as a jump);
    ``harness.elapse(delta)`` is time passing, which moves the monotonic clock too.
    """

    def __init__(self, harness: Harness) -> None:
        self.harness = harness

    def now(self) -> datetime:
        return self.harness.now

    def monotonic(self) -> float:
        return self.harness.elapsed


class Harness:
    """One bot on one SQLite file, with Telegram simulated and time under the test's control."""

    def __init__(
        self,
        db_path: Path,
        *,
        rate_limit: bool = False,
        settings: dict[str, Any] | None = None,
        system_clock: bool = False,
    ) -> None:
        self.db_path = db_path
        # Settings that differ from make_settings' (digest schedules, thresholds).
        self.settings_changes = settings or {}
        self._now = START
        self.elapsed = 0.0  # seconds on the bot's monotonic clock
        # With ``system_clock`` the bot reads the real clock, as in production, and the
        # test moves time with a time-travel library instead of ``now``.
        self.clock: Clock = SystemClock() if system_clock else HarnessClock(self)
        # Messages the bot sends are dated by the same clock as everything else.
        self.telegram = FakeTelegram(now=lambda: int(self.now.timestamp()))
        self.rate_limit = rate_limit
        self._update_ids: Iterator[int] = itertools.count(1)
        self.app: BotApplication | None = None

    @property
    def now(self) -> datetime:
        return self.clock.now() if isinstance(self.clock, SystemClock) else self._now

    @now.setter
    def now(self, moment: datetime) -> None:
        self._now = moment

    @property
    def application(self) -> BotApplication:
        assert self.app is not None
        return self.app

    @property
    def db(self) -> Database:
        return services_of(self.application).db

    async def start(self) -> None:
        self.app = build_application(
            replace(make_settings(self.db_path), **self.settings_changes),
            request=self.telegram,
            clock=self.clock,
            rate_limit=self.rate_limit,
            digest_executor=shared_digest_executor(),
        )
        await self.app.initialize()
        assert self.app.post_init is not None
        await self.app.post_init(self.app)
        await self.app.start()

    def elapse(self, delta: timedelta) -> None:
        """Let time pass: the wall clock and the monotonic clock move together."""
        self.now += delta
        self.elapsed += delta.total_seconds()

    async def stop(self) -> None:
        if self.app is None:
            return
        # In run_polling's order: stop, post_stop, shutdown, post_shutdown.
        await self.app.stop()
        assert self.app.post_stop is not None and self.app.post_shutdown is not None
        await self.app.post_stop(self.app)
        await self.app.shutdown()
        await self.app.post_shutdown(self.app)
        self.app = None

    async def restart(self) -> None:
        """A new process on the same database file, as after a crash."""
        await self.stop()
        await self.start()

    async def run_job(self, name: str) -> None:
        """Run the job of this name once, as the scheduler would (names are unique)."""
        queue = self.application.job_queue
        assert queue is not None
        [job] = queue.get_jobs_by_name(name)
        await job.run(self.application)

    async def load_demo_units(self) -> None:
        await upsert_units(self.db, DEMO_UNITS)

    async def invite(self, unit: str, role: Role = Role.MEMBER, hours: int = 24) -> str:
        code = new_invite_code()
        await create_invite(
            self.db, hash_invite_code(code), unit, role, self.now + timedelta(hours=hours)
        )
        return code

    async def deliver(self, payload: dict[str, Any], update_id: int | None = None) -> list[Call]:
        """Process one update; returns the Bot API calls it caused."""
        update_id = next(self._update_ids) if update_id is None else update_id
        before = len(self.telegram.calls)
        # As in production: written to the inbox, then handled by the update processor
        # (in order within the chat), and recorded as handled once it is.
        services = services_of(self.application)
        [handed] = await services.receiver.take([{"update_id": update_id, **payload}])
        update = Update.de_json(handed, self.application.bot)
        await services.processor.submit(update, self.application.process_update(update))
        return self.telegram.calls[before:]

    def user(
        self, user_id: int, first_name: str = "Lan", last_name: str | None = "Nguyễn"
    ) -> Person:
        return Person(self, user_id, first_name, last_name)

    async def join(
        self, user_id: int, unit: str, role: Role = Role.MEMBER, first_name: str = "Lan"
    ) -> Person:
        person = self.user(user_id, first_name)
        await person.send(f"/start {await self.invite(unit, role)}")
        return person


@dataclass
class Person:
    """A Telegram user chatting with the bot in a private chat."""

    harness: Harness
    user_id: int
    first_name: str
    last_name: str | None

    @property
    def _api(self) -> BotApi:
        return self.harness.telegram.api

    def _user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        return user

    def _message(self, **content: Any) -> dict[str, Any]:
        return {
            # The user's messages and the bot's share the chat's one sequence of ids.
            "message_id": self._api.next_message_id(self.user_id),
            "date": int(self.harness.now.timestamp()),
            "chat": {"id": self.user_id, "type": "private", "first_name": self.first_name},
            "from": self._user(),
            **content,
        }

    async def send(self, text: str, update_id: int | None = None) -> list[Call]:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return await self.harness.deliver({"message": self._message(**content)}, update_id)

    async def send_location(self, latitude: float, longitude: float) -> list[Call]:
        location = {"latitude": latitude, "longitude": longitude}
        return await self.harness.deliver({"message": self._message(location=location)})

    async def send_photo(
        self, file_id: str, unique_id: str | None = None, album: str | None = None
    ) -> list[Call]:
        sizes = [
            {
                "file_id": f"{file_id}-small",
                "file_unique_id": f"{unique_id or file_id}-s",
                "width": 90,
                "height": 90,
            },
            {
                "file_id": file_id,
                "file_unique_id": unique_id or file_id,
                "width": 1280,
                "height": 960,
            },
        ]
        extra = {"media_group_id": album} if album else {}
        return await self.harness.deliver({"message": self._message(photo=sizes, **extra)})

    async def send_image_file(self, file_id: str, mime_type: str = "image/jpeg") -> list[Call]:
        """An image sent "as a file" (uncompressed), as field photos often are."""
        document = {"file_id": file_id, "file_unique_id": f"{file_id}-u", "mime_type": mime_type}
        return await self.harness.deliver({"message": self._message(document=document)})

    async def send_sticker(self) -> list[Call]:
        sticker = {
            "file_id": "sticker", "file_unique_id": "sticker", "width": 512, "height": 512,
            "is_animated": False, "is_video": False, "type": "regular",
        }  # fmt: skip
        return await self.harness.deliver({"message": self._message(sticker=sticker)})

    # --- what the person sees -------------------------------------------------------------

    def calls(self) -> list[Call]:
        """The Bot API calls addressed to this person's chat, oldest first."""
        return self.harness.telegram.sent_to(self.user_id)

    def messages(self) -> list[Message]:
        """The bot's messages in this chat as they now stand, oldest first."""
        return self._api.messages(self.user_id)

    def last_buttons_call(self) -> Message:
        """The newest message in this chat that carries inline buttons now."""
        message = self._api.last_message_with_buttons(self.user_id)
        if message is None:
            raise AssertionError("no message with buttons was sent to this user")
        return message

    def last_text(self) -> str:
        """The text of the newest text message in this chat, as it now reads."""
        message = self._api.last_message(self.user_id, text_only=True)
        assert message is not None, "nothing was sent to this user"
        return message.text

    def find_button(self, label: str) -> tuple[Message, str]:
        """The newest message with a button whose label contains the text, and its data.

        Only buttons still on screen count: an edit that took a keyboard away took its
        buttons with it. The message is a snapshot; keep it to tap that screen again later.
        """
        found = self._api.find_button(self.user_id, label)
        if found is None:
            raise AssertionError(f"no button labelled {label!r}")
        return found

    # --- what the person does ---------------------------------------------------------

    async def tap(self, label: str, update_id: int | None = None) -> list[Call]:
        """Tap the newest inline button on screen whose label contains the text."""
        message, data = self.find_button(label)
        return await self.tap_data(data, message, update_id)

    async def tap_data(
        self, data: str, message: Message | str = "", update_id: int | None = None
    ) -> list[Call]:
        """Send a callback query with this data, from a message as the person sees it.

        `message` is the message the button is on, as it stood when tapped (a snapshot from
        find_button): tapping twice before the bot's edit arrives is tapping one snapshot
        twice. Without one, the newest message carrying that data is used; for data no
        message carries (forged by a client), the chat's newest message, or a made-up one
        showing `message` as its text.
        """
        shown = message if isinstance(message, Message) else self._shown_for(data, message)
        query = {
            "id": f"q{self.user_id}-{len(self.harness.telegram.calls)}",
            "from": self._user(),
            "chat_instance": f"ci{self.user_id}",
            "data": data,
            "message": shown.json,
        }
        return await self.harness.deliver({"callback_query": query}, update_id)

    def _shown_for(self, data: str, text: str) -> Message:
        found = self._api.message_with_data(self.user_id, data) or self._api.last_message(
            self.user_id
        )
        if found is not None:
            return found
        return Message(
            {
                "message_id": self._api.next_message_id(self.user_id),
                "date": int(self.harness.now.timestamp()),
                "chat": {"id": self.user_id, "type": "private"},
                "from": dict(BOT_USER),
                "text": text or "?",
            }
        )

    def popups(self, calls: list[Call]) -> list[str]:
        return [str(c.params.get("text", "")) for c in calls if c.method == "answerCallbackQuery"]
