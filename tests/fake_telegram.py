"""A fake of Telegram's Bot API at the HTTP boundary: answers in-process, records calls.

It checks what the real server checks and our code could get wrong: HTML that does not
parse, text over 4096 characters, captions over 1024, callback data over 64 bytes.
"""

from __future__ import annotations

import html
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT_ID = 7000000001
BOT_USERNAME = "field_report_test_bot"
ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
    "span", "tg-spoiler", "blockquote", "tg-emoji",
}  # fmt: skip


class BadHtml(Exception):
    pass


class _TelegramHtml(HTMLParser):
    """Parse HTML the way Telegram's parse_mode=HTML does, into plain text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            raise BadHtml(f'Unsupported start tag "{tag}"')
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise BadHtml(f'Unmatched end tag "{tag}"')
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def telegram_plain_text(text: str) -> str:
    """What the user sees of an HTML message; raises BadHtml where Telegram answers 400."""
    if re.search(r"<(?!/?[a-zA-Z])", text):
        raise BadHtml("Unexpected <")
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    if parser.open:
        raise BadHtml(f'Unclosed tag "{parser.open[-1]}"')
    return "".join(parser.text)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Call:
    method: str
    params: dict[str, Any]

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        """The text the user sees (tags stripped), or the pop-up text of a callback answer."""
        raw = self.params.get("text") or self.params.get("caption") or ""
        return (
            telegram_plain_text(str(raw)) if self.params.get("parse_mode") == "HTML" else str(raw)
        )

    def inline_buttons(self) -> list[tuple[str, str]]:
        markup = self.params.get("reply_markup") or {}
        if isinstance(markup, str):
            markup = json.loads(markup)
        return [
            (button["text"], button.get("callback_data", ""))
            for row in markup.get("inline_keyboard", [])
            for button in row
        ]

    def reply_buttons(self) -> list[dict[str, Any]]:
        markup = self.params.get("reply_markup") or {}
        if isinstance(markup, str):
            markup = json.loads(markup)
        return [button for row in markup.get("keyboard", []) for button in row]


@dataclass
class Failure:
    method: str
    status: int
    description: str
    retry_after: int | None = None
    chat_id: int | None = None
    times: int = 1


@dataclass
class FakeTelegram(BaseRequest):
    """In-process Bot API. Every request is recorded in ``calls``."""

    calls: list[Call] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    _message_ids: Iterator[int] = field(default_factory=lambda: itertools.count(100))
    date: int = 1_795_000_000

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def fail_next(
        self, method: str, status: int = 500, description: str = "Internal Server Error",
        *, retry_after: int | None = None, chat_id: int | None = None, times: int = 1,
    ) -> None:  # fmt: skip
        """Make the next calls of a method (to one chat, if given) fail as Telegram would."""
        self.failures.append(Failure(method, status, description, retry_after, chat_id, times))

    def sent_to(self, chat_id: int, method: str | None = None) -> list[Call]:
        return [
            c for c in self.calls
            if c.chat_id == chat_id and (method is None or c.method == method)
        ]  # fmt: skip

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        assert url.startswith(("http://", "https://")), url
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        self.calls.append(Call(api_method, params))
        for failure in self.failures:
            if failure.method == api_method and failure.chat_id in (None, Call("", params).chat_id):
                failure.times -= 1
                if failure.times == 0:
                    self.failures.remove(failure)
                body: dict[str, Any] = {
                    "ok": False, "error_code": failure.status, "description": failure.description,
                }  # fmt: skip
                if failure.retry_after is not None:
                    body["parameters"] = {"retry_after": failure.retry_after}
                return failure.status, json.dumps(body).encode()
        try:
            result = self._answer(api_method, params)
        except BadHtml as error:
            return self._bad_request(f"Bad Request: can't parse entities: {error}")
        except ValueError as error:
            return self._bad_request(f"Bad Request: {error}")
        return 200, json.dumps({"ok": True, "result": result}).encode()

    @staticmethod
    def _bad_request(description: str) -> tuple[int, bytes]:
        body = {"ok": False, "error_code": 400, "description": description}
        return 400, json.dumps(body).encode()

    def _message(self, chat_id: Any, **extra: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": self.date,
            "chat": {"id": int(chat_id), "type": "private"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Bot", "username": BOT_USERNAME},
            **extra,
        }

    def _check_markup(self, params: dict[str, Any]) -> None:
        call = Call("", params)
        for _, data in call.inline_buttons():
            if len(data.encode("utf-8")) > 64:
                raise ValueError("BUTTON_DATA_INVALID")
        for text, _ in call.inline_buttons():
            if not text:
                raise ValueError("text buttons are unallowed in the inline keyboard")

    def _shown_text(self, params: dict[str, Any], key: str, limit: int) -> str:
        raw = str(params.get(key, ""))
        text = telegram_plain_text(raw) if params.get("parse_mode") == "HTML" else raw
        if key == "text" and not text.strip():
            raise ValueError("message text is empty")
        if utf16_length(text) > limit:
            raise ValueError(
                "message is too long" if key == "text" else "message caption is too long"
            )
        return text

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        match method:
            case "getMe":
                return {
                    "id": BOT_ID, "is_bot": True, "first_name": "Field Report",
                    "username": BOT_USERNAME, "can_join_groups": False,
                    "can_read_all_group_messages": False, "supports_inline_queries": False,
                }  # fmt: skip
            case "sendMessage":
                self._check_markup(params)
                return self._message(params["chat_id"], text=self._shown_text(params, "text", 4096))
            case "editMessageText":
                self._check_markup(params)
                return self._message(params["chat_id"], text=self._shown_text(params, "text", 4096))
            case "editMessageReplyMarkup":
                return self._message(params["chat_id"], text="")
            case "sendPhoto":
                caption = self._shown_text(params, "caption", 1024) if "caption" in params else None
                photo = [
                    {
                        "file_id": str(params["photo"]),
                        "file_unique_id": "u",
                        "width": 1,
                        "height": 1,
                    }
                ]
                return self._message(params["chat_id"], photo=photo, caption=caption)
            case "sendDocument":
                document = {"file_id": str(params["document"]), "file_unique_id": "d"}
                return self._message(params["chat_id"], document=document)
            case "sendMediaGroup":
                return [
                    self._message(
                        params["chat_id"],
                        photo=[{"file_id": "x", "file_unique_id": "u", "width": 1, "height": 1}],
                    )
                    for _ in params["media"]
                ]
            case "sendLocation":
                location = {"latitude": params["latitude"], "longitude": params["longitude"]}
                return self._message(params["chat_id"], location=location)
            case "answerCallbackQuery":
                if len(str(params.get("text", ""))) > 200:
                    raise ValueError("MESSAGE_TOO_LONG")
                return True
            case "setMyCommands" | "deleteWebhook" | "close" | "logOut":
                return True
            case "getUpdates":
                return []
        raise ValueError(f"method {method} is not faked")


def escape(text: str) -> str:
    return html.escape(text, quote=False)
