"""The Bot API's semantics, once: the methods the bot uses, Telegram's checks, its chats.

Both transports (in-process and loopback HTTP) hand every request to one ``BotApi``, so
they cannot answer differently. It keeps what Telegram keeps: each chat's messages as they
now stand after edits, with real message ids, and a record of every call, indexed by chat
and by method so that looking something up never scans every call ever made.

Checks and their descriptions follow Telegram's own server (tdlib/telegram-bot-api's
Client.cpp and TDLib): a refused request is answered as Telegram would answer it.
"""

from __future__ import annotations

import itertools
import json
import mimetypes
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from botapi_sim.formatting import (
    EmptyText,
    EntityParseError,
    FormattedText,
    clean,
    parse_html,
    plain_text,
    utf16_length,
)

BOT_ID = 7000000001
BOT_USERNAME = "field_report_test_bot"
BOT_USER: dict[str, Any] = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Field Report",
    "username": BOT_USERNAME,
}
# 2026-11-18 20:26:40 UTC: the date of every message unless a clock is given.
FIXED_DATE = 1_795_000_000

TEXT_LIMIT = 4096  # UTF-16 code units of a message's text, once parsed
CAPTION_LIMIT = 1024  # the same for a caption
CALLBACK_DATA_LIMIT = 64  # bytes of a button's callback_data
POPUP_LIMIT = 200  # UTF-16 code units of an answerCallbackQuery text
ALBUM_LIMIT = 10
PHOTO_UPLOAD_LIMIT = 10 << 20  # bytes of an uploaded photo
FILE_UPLOAD_LIMIT = 50 << 20  # bytes of any other uploaded file

METHOD_NOT_FOUND = "Not Found: method not found"
MESSAGE_TO_EDIT_NOT_FOUND = "Bad Request: message to edit not found"
MESSAGE_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup"
    " are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
ENTITY_TOO_LARGE = "Request Entity Too Large"
ATTACH = "attach://"

# Parameters Telegram reads as JSON; over HTTP they arrive as strings.
_JSON_PARAMETERS = {
    "reply_markup": "reply keyboard markup",
    "media": "media",
    "commands": "commands",
    "entities": "entities",
    "caption_entities": "caption entities",
    "link_preview_options": "link preview options",
    "reply_parameters": "reply parameters",
    "allowed_updates": "allowed updates",
    "scope": "bot command scope",
}
_BUTTON_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip


class ApiError(Exception):
    """A request Telegram refuses: answered with ok=false, this status and description."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False, "error_code": self.status, "description": self.description,
        }  # fmt: skip
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _buttons(markup: Any) -> list[tuple[str, str]]:
    if not isinstance(markup, Mapping):
        return []
    return [
        (str(button.get("text", "")), str(button.get("callback_data", "")))
        for row in markup.get("inline_keyboard") or []
        for button in row
        if isinstance(button, Mapping)
    ]


@dataclass
class Call:
    """One Bot API request as the bot made it, and how it was answered."""

    method: str
    params: dict[str, Any]
    result: Any = None
    status: int = 200
    description: str | None = None  # Telegram's words, when refused
    injected: bool = False  # refused by fail_next() rather than by Telegram's rules

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def chat_id(self) -> int | None:
        return _as_int(self.params.get("chat_id")) if "chat_id" in self.params else None

    @property
    def text(self) -> str:
        """The text the user sees (tags stripped), or the pop-up text of a callback answer."""
        raw = self.params.get("text") or self.params.get("caption") or ""
        return plain_text(str(raw), self.params.get("parse_mode"))

    def inline_buttons(self) -> list[tuple[str, str]]:
        """(label, callback data) of each inline button the request carried."""
        return _buttons(self.params.get("reply_markup"))

    def reply_buttons(self) -> list[dict[str, Any]]:
        markup = self.params.get("reply_markup") or {}
        if not isinstance(markup, Mapping):
            return []
        return [
            button if isinstance(button, dict) else {"text": str(button)}
            for row in markup.get("keyboard") or []
            for button in row
        ]


# The HTTP server used to call it that; one record serves both transports now.
RecordedCall = Call


@dataclass(frozen=True)
class Upload:
    """A file the bot uploaded (not sent by file_id), byte for byte as Telegram got it."""

    file_id: str  # the id Telegram gave it, in the message that carried it
    filename: str
    content: bytes
    method: str  # "sendPhoto", "sendDocument", "sendMediaGroup"

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class _Part:
    """An uploaded multipart part, as either transport hands it over."""

    filename: str
    content: bytes


@dataclass(frozen=True)
class Message:
    """A message in a chat as it stands at one moment: what a user sees and can tap."""

    json: dict[str, Any]

    @property
    def message_id(self) -> int:
        return int(self.json["message_id"])

    @property
    def chat_id(self) -> int:
        return int(self.json["chat"]["id"])

    @property
    def text(self) -> str:
        """The text the user sees, or the caption of a photo; "" if neither."""
        return str(self.json.get("text") or self.json.get("caption") or "")

    @property
    def edited(self) -> bool:
        return "edit_date" in self.json

    def inline_buttons(self) -> list[tuple[str, str]]:
        return _buttons(self.json.get("reply_markup"))

    @property
    def reply_to(self) -> int | None:
        """The id of the message this one answers, if it is a reply."""
        replied = self.json.get("reply_to_message")
        return int(replied["message_id"]) if replied else None


@dataclass
class _Stored:
    """A message Telegram keeps; edits replace its content and markup."""

    message_id: int
    chat: dict[str, Any]
    date: int
    content: dict[str, Any]
    markup: dict[str, Any] | None = None
    edit_date: int | None = None

    def to_json(self) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "from": dict(BOT_USER),
            "chat": dict(self.chat),
            "date": self.date,
        }
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        message.update(json.loads(json.dumps(self.content)))
        if self.markup is not None:
            message["reply_markup"] = json.loads(json.dumps(self.markup))
        return message


@dataclass
class _Chat:
    """One chat: its calls, its messages by id, and which of them carry inline buttons."""

    calls: list[Call] = field(default_factory=list)
    messages: dict[int, _Stored] = field(default_factory=dict)
    with_buttons: set[int] = field(default_factory=set)
    last_message_id: int = 0
    uploads: list[Upload] = field(default_factory=list)


@dataclass
class Failure:
    """A failure fail_next() arranged: the next `times` calls of a method (to a chat) get it."""

    method: str
    status: int
    description: str
    retry_after: int | None = None
    chat_id: int | None = None
    times: int = 1


class BotApi:
    """The Bot API as Telegram runs it, for one bot; thread-safe behind ``lock``."""

    def __init__(self, *, now: Callable[[], int] | None = None) -> None:
        self.lock = threading.RLock()
        self.now: Callable[[], int] = now or (lambda: FIXED_DATE)
        self.calls: list[Call] = []
        self.failures: list[Failure] = []
        self.problems: list[str] = []
        # Called under the lock after each call is recorded (the HTTP server wakes waiters).
        self.on_record: Callable[[Call], None] | None = None
        self._chats: dict[int, _Chat] = {}
        self._by_method: dict[str, list[Call]] = {}
        self._answered_queries: set[str] = set()
        self._album_ids: Iterator[int] = itertools.count(1)
        self._file_ids: Iterator[int] = itertools.count(1)
        self._uploads: dict[str, Upload] = {}
        # Files uploaded by the request being answered: kept only if it succeeds.
        self._staged: list[Upload] = []
        self._methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getMe": self._get_me,
            "getUpdates": lambda params: [],
            "deleteWebhook": self._true,
            "setWebhook": self._true,
            "close": self._true,
            "logOut": self._true,
            "setMyCommands": self._true,
            "deleteMyCommands": self._true,
            "sendChatAction": self._true,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendMediaGroup": self._send_media_group,
            "sendLocation": self._send_location,
            "answerCallbackQuery": self._answer_callback_query,
        }
        # Telegram reads method names in any case.
        self._names = {name.lower(): name for name in self._methods}

    # --- what a test arranges ---------------------------------------------------------

    def fail_next(
        self, method: str, status: int = 500, description: str = "Internal Server Error",
        *, retry_after: int | None = None, chat_id: int | None = None, times: int = 1,
    ) -> None:  # fmt: skip
        """Make the next calls of a method (to one chat, if given) fail as Telegram would."""
        with self.lock:
            self.failures.append(Failure(method, status, description, retry_after, chat_id, times))

    def next_message_id(self, chat_id: int) -> int:
        """A message id for a message the user sends: one sequence per chat, as in Telegram."""
        with self.lock:
            chat = self._chat(chat_id)
            chat.last_message_id += 1
            return chat.last_message_id

    # --- what a test reads ------------------------------------------------------------

    def sent_to(self, chat_id: int, method: str | None = None) -> list[Call]:
        """The calls addressed to one chat, oldest first."""
        with self.lock:
            calls = self._chats[chat_id].calls if chat_id in self._chats else []
            return [c for c in calls if method is None or c.method == method]

    def of(self, method: str) -> list[Call]:
        with self.lock:
            return list(self._by_method.get(method, []))

    def upload(self, file_id: str) -> Upload | None:
        """The file uploaded under this file_id, or None (unknown, or sent by id)."""
        with self.lock:
            return self._uploads.get(file_id)

    def uploads(self, chat_id: int) -> list[Upload]:
        """The files the bot uploaded to one chat in requests Telegram accepted, in order."""
        with self.lock:
            chat = self._chats.get(chat_id)
            return list(chat.uploads) if chat else []

    def messages(self, chat_id: int) -> list[Message]:
        """The chat's messages from the bot as they now stand, oldest first."""
        with self.lock:
            chat = self._chats.get(chat_id)
            return [Message(m.to_json()) for m in chat.messages.values()] if chat else []

    def message(self, chat_id: int, message_id: int) -> Message | None:
        with self.lock:
            chat = self._chats.get(chat_id)
            stored = chat.messages.get(message_id) if chat else None
            return Message(stored.to_json()) if stored else None

    def last_message(self, chat_id: int, *, text_only: bool = False) -> Message | None:
        """The chat's newest message from the bot (with text, if asked), as it now stands."""
        with self.lock:
            chat = self._chats.get(chat_id)
            for stored in reversed(chat.messages.values()) if chat else ():
                if not text_only or "text" in stored.content:
                    return Message(stored.to_json())
            return None

    def last_message_with_buttons(self, chat_id: int) -> Message | None:
        """The chat's newest message that carries inline buttons now."""
        with self.lock:
            chat = self._chats.get(chat_id)
            if not chat or not chat.with_buttons:
                return None
            return Message(chat.messages[max(chat.with_buttons)].to_json())

    def find_button(self, chat_id: int, label: str) -> tuple[Message, str] | None:
        """The newest message with a button whose label contains `label`, and its data."""
        return self._find(chat_id, lambda text, data: label in text)

    def message_with_data(self, chat_id: int, data: str) -> Message | None:
        """The newest message with a button that sends exactly this callback data."""
        found = self._find(chat_id, lambda text, button_data: button_data == data)
        return found[0] if found else None

    def _find(
        self, chat_id: int, matches: Callable[[str, str], bool]
    ) -> tuple[Message, str] | None:
        with self.lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                return None
            # Only messages that carry buttons now: few, since the bot closes them.
            for message_id in sorted(chat.with_buttons, reverse=True):
                stored = chat.messages[message_id]
                for text, data in _buttons(stored.markup):
                    if matches(text, data):
                        return Message(stored.to_json()), data
            return None

    # --- a request --------------------------------------------------------------------

    def request(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        serve: Callable[[dict[str, Any]], Any] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Answer one request: (HTTP status, JSON body), and record it.

        `serve` answers the method instead of the simulator (the HTTP server's getUpdates);
        failures arranged with fail_next() apply to it all the same.
        """
        with self.lock:
            name = self._names.get(method.lower(), method)
            try:
                decoded = _decode(params)
            except ApiError as error:
                return self._refused(Call(name, _without_content(params)), error)
            # The record keeps an uploaded file's name and size; its bytes are in uploads().
            call = Call(name, _without_content(decoded))
            failure = self._take_failure(name, call.chat_id)
            if failure is not None:
                call.injected = True
                arranged = ApiError(
                    failure.status, failure.description, retry_after=failure.retry_after
                )
                return self._refused(call, arranged)
            handler = serve or self._methods.get(name)
            self._staged = []
            try:
                if handler is None:
                    raise ApiError(404, METHOD_NOT_FOUND)
                call.result = handler(decoded)
            except ApiError as error:
                self._staged = []
                return self._refused(call, error)
            self._keep_uploads(call)
            self._record(call)
            return 200, {"ok": True, "result": call.result}

    def _keep_uploads(self, call: Call) -> None:
        staged, self._staged = self._staged, []
        for upload in staged:
            self._uploads[upload.file_id] = upload
        if staged and call.chat_id is not None:
            self._chat(call.chat_id).uploads.extend(staged)

    def _take_failure(self, method: str, chat_id: int | None) -> Failure | None:
        for failure in self.failures:
            if failure.method == method and failure.chat_id in (None, chat_id):
                failure.times -= 1
                if failure.times <= 0:
                    self.failures.remove(failure)
                return failure
        return None

    def _refused(self, call: Call, error: ApiError) -> tuple[int, dict[str, Any]]:
        call.status, call.description = error.status, error.description
        if not call.injected:
            self.problems.append(f"{call.method}: {error.description}")
        self._record(call)
        return error.status, error.body()

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._by_method.setdefault(call.method, []).append(call)
        chat_id = call.chat_id
        if chat_id is not None:
            self._chat(chat_id).calls.append(call)
        if self.on_record is not None:
            self.on_record(call)

    # --- chats and messages -----------------------------------------------------------

    def _chat(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Chat()
        return chat

    @staticmethod
    def _chat_id(params: dict[str, Any]) -> int:
        chat_id = _as_int(params.get("chat_id"))
        if chat_id is None or chat_id == 0:
            # A @channelusername or garbage: this bot talks to no such chat.
            raise _bad_request("chat not found")
        return chat_id

    def _store(
        self, chat_id: int, content: dict[str, Any], markup: dict[str, Any] | None
    ) -> _Stored:
        chat = self._chat(chat_id)
        chat.last_message_id += 1
        if chat_id > 0:
            about: dict[str, Any] = {"id": chat_id, "type": "private"}
        else:
            kind = "supergroup" if chat_id < -1_000_000_000_000 else "group"
            about = {"id": chat_id, "type": kind, "title": ""}
        stored = _Stored(chat.last_message_id, about, self.now(), content)
        chat.messages[stored.message_id] = stored
        self._set_markup(chat, stored, markup)
        return stored

    @staticmethod
    def _set_markup(chat: _Chat, stored: _Stored, markup: dict[str, Any] | None) -> None:
        stored.markup = markup
        if _buttons(markup):
            chat.with_buttons.add(stored.message_id)
        else:
            chat.with_buttons.discard(stored.message_id)

    def _target(self, params: dict[str, Any]) -> tuple[_Chat, _Stored]:
        """The message an edit is about, or Telegram's refusal."""
        if "chat_id" not in params and "message_id" not in params:
            raise _bad_request("message identifier is not specified")
        chat_id = self._chat_id(params)
        message_id = _as_int(params.get("message_id"))
        chat = self._chats.get(chat_id)
        stored = chat.messages.get(message_id or 0) if chat else None
        if chat is None or stored is None:
            raise ApiError(400, MESSAGE_TO_EDIT_NOT_FOUND)
        return chat, stored

    # --- checks Telegram makes --------------------------------------------------------

    @staticmethod
    def _parsed(params: dict[str, Any], key: str, entities_key: str) -> FormattedText:
        """Text or caption parsed as its parse_mode says; refuses what Telegram refuses."""
        raw = params.get(key)
        raw = "" if raw is None else str(raw)
        if key == "text" and not raw:
            raise _bad_request("message text is empty")
        mode = str(params.get("parse_mode") or "").lower()
        if raw and mode == "html":
            try:
                return parse_html(raw)
            except EntityParseError as error:
                raise _bad_request(f"can't parse entities: {error}") from error
        if raw and mode not in ("", "none"):
            # Markdown and MarkdownV2 are Telegram's too, but nothing here sends them.
            raise _bad_request(f"the simulator does not parse parse_mode {mode!r}")
        given = params.get(entities_key)
        entities = tuple(dict(e) for e in given) if isinstance(given, list) else ()
        return FormattedText(raw, entities)

    @staticmethod
    def _shown(formatted: FormattedText, *, caption: bool) -> dict[str, Any]:
        """The content Telegram stores for a text or caption, once cleaned and measured."""
        try:
            cleaned = clean(formatted, allow_empty=caption)
        except EmptyText as error:
            raise _bad_request("message must be non-empty") from error
        if utf16_length(cleaned.text) > (CAPTION_LIMIT if caption else TEXT_LIMIT):
            raise _bad_request("message caption is too long" if caption else "message is too long")
        key = "caption" if caption else "text"
        content: dict[str, Any] = {key: cleaned.text} if cleaned.text or not caption else {}
        if cleaned.entities:
            content[f"{key}_entities" if caption else "entities"] = cleaned.json_entities()
        return content

    @staticmethod
    def _markup(params: dict[str, Any]) -> dict[str, Any] | None:
        """The inline keyboard a message will carry (None for none or a reply keyboard)."""
        markup = params.get("reply_markup")
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise _bad_request("object expected as reply markup")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return None  # a reply keyboard, or its removal: not part of the message
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        for button in (button for row in rows for button in row):
            if not isinstance(button, dict):
                raise _bad_request(
                    "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
                )
            if not isinstance(button.get("text"), str):
                raise _bad_request(
                    'can\'t parse inline keyboard button: Field "text" must be of type String'
                )
            if not any(button.get(action) for action in _BUTTON_ACTIONS):
                raise _bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
        return markup

    @staticmethod
    def _check_button_data(markup: dict[str, Any] | None) -> None:
        # Telegram's servers, not the Bot API server, refuse this: after every other check.
        for _, data in _buttons(markup):
            if len(data.encode("utf-8")) > CALLBACK_DATA_LIMIT:
                raise _bad_request("BUTTON_DATA_INVALID")

    # --- the methods ------------------------------------------------------------------

    @staticmethod
    def _true(params: dict[str, Any]) -> bool:
        return True

    @staticmethod
    def _get_me(params: dict[str, Any]) -> dict[str, Any]:
        return {
            **BOT_USER,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        parsed = self._parsed(params, "text", "entities")
        markup = self._markup(params)
        content = self._shown(parsed, caption=False)
        self._check_button_data(markup)
        replied = self._replied(chat_id, params.get("reply_parameters"))
        if replied is not None:
            content["reply_to_message"] = replied
        return self._store(chat_id, content, markup).to_json()

    def _replied(self, chat_id: int, parameters: Any) -> dict[str, Any] | None:
        """The message a reply answers, as Telegram nests it; refused if it is gone,
        unless the bot said to send without it."""
        if not parameters:
            return None
        if not isinstance(parameters, dict) or not isinstance(parameters.get("message_id"), int):
            raise _bad_request("can't parse reply parameters JSON object")
        stored = self._chat(chat_id).messages.get(parameters["message_id"])
        if stored is None:
            if parameters.get("allow_sending_without_reply"):
                return None
            raise _bad_request("message to be replied not found")
        replied = stored.to_json()
        replied.pop("reply_to_message", None)  # Telegram nests one level only
        return replied

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        parsed = self._parsed(params, "text", "entities")
        markup = self._markup(params)
        content = self._shown(parsed, caption=False)
        chat, stored = self._target(params)
        if "text" not in stored.content:
            raise _bad_request("there is no text in the message to edit")
        self._check_button_data(markup)
        # Without reply_markup, an edit takes the message's inline keyboard away.
        if content == stored.content and markup == stored.markup:
            raise ApiError(400, MESSAGE_NOT_MODIFIED)
        stored.content = content
        self._set_markup(chat, stored, markup)
        stored.edit_date = self.now()
        return stored.to_json()

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        markup = self._markup(params)
        chat, stored = self._target(params)
        self._check_button_data(markup)
        if markup == stored.markup:
            raise ApiError(400, MESSAGE_NOT_MODIFIED)
        self._set_markup(chat, stored, markup)
        stored.edit_date = self.now()
        return stored.to_json()

    def _delete_message(self, params: dict[str, Any]) -> bool:
        chat_id = self._chat_id(params)
        chat = self._chats.get(chat_id)
        message_id = _as_int(params.get("message_id")) or 0
        if chat is None or message_id not in chat.messages:
            raise _bad_request("message to delete not found")
        del chat.messages[message_id]
        chat.with_buttons.discard(message_id)
        return True

    @staticmethod
    def _input_file(params: Mapping[str, Any], value: Any, name: str) -> str | _Part | None:
        """The file a parameter names, found as Telegram's server finds it.

        A file id is kept as it is; "attach://<part>" names an uploaded multipart part; a
        parameter that is no file id is looked up as a part of its own name (``name``; "" for
        an InputMedia, which only names parts by attach://). Both transports give a part as
        {"filename": ..., "content": bytes}. None if the request has no such file.
        """
        if isinstance(value, str) and value:
            if not value.startswith(ATTACH):
                return value
            name = value[len(ATTACH) :]
        part = params.get(name) if name else None
        if not isinstance(part, Mapping) or not isinstance(part.get("content"), bytes):
            return None
        return _Part(str(part.get("filename") or ""), part["content"])

    def _file(self, source: str | _Part, kind: str, method: str) -> dict[str, Any]:
        """The file's fields in the message: its ids, and its name and size if uploaded."""
        if isinstance(source, str):
            fields: dict[str, Any] = {"file_id": source, "file_unique_id": f"{source}-unique"}
            known = self._uploads.get(source)  # sent again by the id it was given
            return {**fields, **_described(known.filename, known.size, kind)} if known else fields
        size = len(source.content)
        if size > (PHOTO_UPLOAD_LIMIT if kind == "photo" else FILE_UPLOAD_LIMIT):
            raise ApiError(413, ENTITY_TOO_LARGE)
        file_id = f"{kind}-upload-{next(self._file_ids)}"
        upload = Upload(file_id, source.filename, source.content, method)
        self._staged.append(upload)  # kept once the request succeeds
        fields = {"file_id": file_id, "file_unique_id": f"{file_id}-unique"}
        return {**fields, **_described(source.filename, size, kind)}

    def _photo_sizes(self, source: str | _Part, method: str) -> list[dict[str, Any]]:
        return [{**self._file(source, "photo", method), "width": 1280, "height": 960}]

    def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        photo = self._input_file(params, params.get("photo"), "photo")
        if photo is None:
            raise _bad_request("there is no photo in the request")
        content = {"photo": self._photo_sizes(photo, "sendPhoto")}
        parsed = self._parsed(params, "caption", "caption_entities")
        markup = self._markup(params)
        content.update(self._shown(parsed, caption=True))
        self._check_button_data(markup)
        return self._store(chat_id, content, markup).to_json()

    def _send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        document = self._input_file(params, params.get("document"), "document")
        if document is None:
            raise _bad_request("there is no document in the request")
        content: dict[str, Any] = {"document": self._file(document, "document", "sendDocument")}
        parsed = self._parsed(params, "caption", "caption_entities")
        markup = self._markup(params)
        content.update(self._shown(parsed, caption=True))
        self._check_button_data(markup)
        return self._store(chat_id, content, markup).to_json()

    def _send_media_group(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat_id = self._chat_id(params)
        if "media" not in params:
            raise _bad_request('parameter "media" is required')
        media = params["media"]
        if not isinstance(media, list):
            raise _bad_request("expected an Array of InputMedia")
        if not media:
            raise _bad_request("there are no messages to send")
        if len(media) > ALBUM_LIMIT:
            raise _bad_request("too many messages to send as an album")
        kinds = [str(item.get("type")) if isinstance(item, dict) else "" for item in media]
        for kind in kinds:
            if kind not in ("photo", "video", "document", "audio"):
                raise _bad_request(f'can\'t parse InputMedia: type "{kind}" is unsupported')
        for kind in ("document", "audio"):
            if kind in kinds and any(other != kind for other in kinds):
                raise _bad_request(f"{kind} can't be mixed with other media types")
        contents = []
        for item in media:
            source = self._input_file(params, item.get("media"), "")
            if source is None:
                raise _bad_request("can't parse InputMedia: media not found")
            if item["type"] == "photo":
                content: dict[str, Any] = {"photo": self._photo_sizes(source, "sendMediaGroup")}
            else:
                content = {item["type"]: self._file(source, item["type"], "sendMediaGroup")}
            parsed = self._parsed(item, "caption", "caption_entities")
            content.update(self._shown(parsed, caption=True))
            contents.append(content)
        # One item is sent as an ordinary message, outside any album, as TDLib does.
        album = {"media_group_id": str(next(self._album_ids))} if len(contents) > 1 else {}
        return [self._store(chat_id, {**content, **album}, None).to_json() for content in contents]

    def _send_location(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        try:
            latitude, longitude = float(params["latitude"]), float(params["longitude"])
        except (KeyError, TypeError, ValueError) as error:
            raise _bad_request("wrong latitude or longitude specified") from error
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise _bad_request("wrong latitude or longitude specified")
        markup = self._markup(params)
        self._check_button_data(markup)
        location = {"latitude": latitude, "longitude": longitude}
        return self._store(chat_id, {"location": location}, markup).to_json()

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if not query_id:
            raise _bad_request('parameter "callback_query_id" is required')
        if utf16_length(str(params.get("text") or "")) > POPUP_LIMIT:
            raise _bad_request("MESSAGE_TOO_LONG")
        if query_id in self._answered_queries:
            raise ApiError(400, QUERY_TOO_OLD)  # a query is answered once
        self._answered_queries.add(query_id)
        return True


def _described(filename: str, size: int, kind: str) -> dict[str, Any]:
    """What Telegram tells of an uploaded file besides its ids: a document's name, its size."""
    if kind == "photo":
        return {"file_size": size}
    fields: dict[str, Any] = {}
    if filename:
        mime_type = mimetypes.guess_type(filename, strict=False)[0]
        fields = {"file_name": filename, "mime_type": mime_type or "application/octet-stream"}
    return {**fields, "file_size": size}


def _without_content(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters with each uploaded part as its name and size, not its bytes."""
    return {
        name: {"filename": value.get("filename"), "size": len(value["content"])}
        if isinstance(value, Mapping) and isinstance(value.get("content"), bytes)
        else value
        for name, value in params.items()
    }


def _decode(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as Telegram reads them: JSON ones decoded when they came as strings."""
    decoded = dict(params)
    for name, what in _JSON_PARAMETERS.items():
        value = decoded.get(name)
        if isinstance(value, str) and value:
            try:
                decoded[name] = json.loads(value)
            except json.JSONDecodeError as error:
                raise _bad_request(f"can't parse {what} JSON object") from error
    return decoded
