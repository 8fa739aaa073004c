"""Drive the real Application with updates as Telegram would send them."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Update

from bot.app import build_application
from domain.invites import hash_invite_code, new_invite_code
from domain.models import Role, Unit
from domain.settings import DEFAULT_API_BASE_URL, DEFAULT_FILE_BASE_URL, Settings
from handlers.context import BotApplication, services_of
from storage.db import Database
from storage.members import create_invite
from storage.units import upsert_units
from tests.fake_telegram import Call, FakeTelegram

TOKEN = "123456789:TEST-token-for-the-fake-telegram-api"
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
    """The bot's one clock, read from the harness: tests move time by setting harness.now."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness

    def now(self) -> datetime:
        return self.harness.now


class Harness:
    """One bot on one SQLite file, with Telegram faked and time under the test's control."""

    def __init__(self, db_path: Path, *, rate_limit: bool = False) -> None:
        self.db_path = db_path
        self.telegram = FakeTelegram()
        self.now = START
        self.rate_limit = rate_limit
        self._update_ids: Iterator[int] = itertools.count(1)
        self.app: BotApplication | None = None

    @property
    def application(self) -> BotApplication:
        assert self.app is not None
        return self.app

    @property
    def db(self) -> Database:
        return services_of(self.application).db

    async def start(self) -> None:
        self.app = build_application(
            make_settings(self.db_path),
            request=self.telegram,
            clock=HarnessClock(self),
            rate_limit=self.rate_limit,
        )
        await self.app.initialize()
        assert self.app.post_init is not None
        await self.app.post_init(self.app)
        await self.app.start()

    async def stop(self) -> None:
        if self.app is None:
            return
        await self.app.stop()
        assert self.app.post_shutdown is not None
        await self.app.post_shutdown(self.app)
        await self.app.shutdown()
        self.app = None

    async def restart(self) -> None:
        """A new process on the same database file, as after a crash."""
        await self.stop()
        await self.start()

    async def load_demo_units(self) -> None:
        await upsert_units(self.db, DEMO_UNITS)

    async def invite(self, unit: str, role: Role = Role.MEMBER, hours: int = 24) -> str:
        from datetime import timedelta

        code = new_invite_code()
        await create_invite(
            self.db, hash_invite_code(code), unit, role, self.now + timedelta(hours=hours)
        )
        return code

    async def deliver(self, payload: dict[str, Any], update_id: int | None = None) -> list[Call]:
        """Process one update; returns the Bot API calls it caused."""
        update_id = next(self._update_ids) if update_id is None else update_id
        before = len(self.telegram.calls)
        update = Update.de_json({"update_id": update_id, **payload}, self.application.bot)
        await self.application.process_update(update)
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

    def _user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        return user

    def _message(self, **content: Any) -> dict[str, Any]:
        return {
            "message_id": 1,
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

    def calls(self) -> list[Call]:
        return self.harness.telegram.sent_to(self.user_id)

    def last_buttons_call(self) -> Call:
        """The latest message to this user that carries inline buttons."""
        for call in reversed(self.calls()):
            if call.method in ("sendMessage", "editMessageText") and call.inline_buttons():
                return call
        raise AssertionError("no message with buttons was sent to this user")

    def last_text(self) -> str:
        texts = [c.text for c in self.calls() if c.method in ("sendMessage", "editMessageText")]
        assert texts, "nothing was sent to this user"
        return texts[-1]

    async def tap_data(
        self, data: str, message_text: str = "", update_id: int | None = None
    ) -> list[Call]:
        query = {
            "id": f"q{self.user_id}-{len(self.harness.telegram.calls)}",
            "from": self._user(),
            "chat_instance": "ci",
            "data": data,
            "message": {
                "message_id": 99,
                "date": int(self.harness.now.timestamp()),
                "chat": {"id": self.user_id, "type": "private"},
                "from": {"id": 1, "is_bot": True, "first_name": "Bot"},
                "text": message_text or "?",
            },
        }
        return await self.harness.deliver({"callback_query": query}, update_id)

    def find_button(self, label: str) -> tuple[Call, str]:
        """The newest button whose label contains the text, and its callback data."""
        for call in reversed(self.calls()):
            if call.method not in ("sendMessage", "editMessageText"):
                continue
            for text, data in call.inline_buttons():
                if label in text:
                    return call, data
        raise AssertionError(f"no button labelled {label!r}")

    async def tap(self, label: str, update_id: int | None = None) -> list[Call]:
        """Tap the newest inline button whose label contains the text."""
        call, data = self.find_button(label)
        return await self.tap_data(data, call.text, update_id)

    def popups(self, calls: list[Call]) -> list[str]:
        return [str(c.params.get("text", "")) for c in calls if c.method == "answerCallbackQuery"]
