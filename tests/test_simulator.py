"""The Bot API simulator answers as Telegram does, and both transports answer alike.

Each case is a short exchange: the same requests go through the in-process transport (what
the harness uses) and the loopback HTTP server (what the process test runs the real bot
against), each over a fresh simulator, and both must give byte-for-byte the same answers.
The last answer is also checked against what Telegram itself answers, so the two can
neither drift apart nor drift together away from Telegram.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from telegram.request import RequestData

# How python-telegram-bot builds RequestData; its own tests import it from here too.
from telegram.request._requestparameter import RequestParameter

from botapi_sim import BotApi, FakeBotApiServer, FakeTelegram
from botapi_sim.core import MESSAGE_NOT_MODIFIED, MESSAGE_TO_EDIT_NOT_FOUND, QUERY_TOO_OLD
from botapi_sim.driver import Harness

TOKEN = "111222333:simulator-parity-token"
NOW = 1_796_000_000
CHAT = 4242
EMOJI = "😀"  # outside the BMP: one code point, two UTF-16 units
Answer = tuple[int, dict[str, Any]]


def keyboard(*data: str) -> dict[str, Any]:
    return {
        "inline_keyboard": [[{"text": f"nút {n}", "callback_data": d} for n, d in enumerate(data)]]
    }


def photos(count: int) -> list[dict[str, Any]]:
    return [{"type": "photo", "media": f"photo-{n}"} for n in range(count)]


@dataclass(frozen=True)
class Case:
    """Requests sent in order (after arranging failures), and how Telegram answers the last."""

    name: str
    requests: list[tuple[str, dict[str, Any]]]
    status: int
    description: str | None = None  # for a refusal: Telegram's exact words
    check: Callable[[Any], bool] = field(default=lambda result: True)  # for a success
    arrange: Callable[[BotApi], None] = field(default=lambda api: None)


def send(text: str, **extra: Any) -> tuple[str, dict[str, Any]]:
    return "sendMessage", {"chat_id": CHAT, "text": text, "parse_mode": "HTML", **extra}


def edit(message_id: int, text: str, **extra: Any) -> tuple[str, dict[str, Any]]:
    params = {"chat_id": CHAT, "message_id": message_id, "text": text, "parse_mode": "HTML"}
    return "editMessageText", {**params, **extra}


def popup(text: str, query: str = "q1") -> tuple[str, dict[str, Any]]:
    return "answerCallbackQuery", {"callback_query_id": query, "text": text}


def bad(description: str) -> str:
    return f"Bad Request: {description}"


def many_429s(api: BotApi) -> None:
    api.fail_next(
        "sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3, chat_id=CHAT
    )


CASES = [
    Case(
        "good HTML is shown as text with entities",
        [send("<b>Chào</b> Lan &amp; <i>Minh</i> &lt;3")],
        200,
        check=lambda r: (
            r["text"] == "Chào Lan & Minh <3"
            and r["entities"]
            == [
                {"offset": 0, "length": 4, "type": "bold"},
                {"offset": 11, "length": 4, "type": "italic"},
            ]
            and r["message_id"] == 1
            and r["date"] == NOW
        ),
    ),
    Case(
        "an unsupported tag",
        [send("Cháy <script>alert(1)</script>")],
        400,
        bad('can\'t parse entities: Unsupported start tag "script" at byte offset 6'),
    ),
    Case(
        "a tag closed out of order",
        [send("<b>x</i>")],
        400,
        bad(
            "can't parse entities: Unmatched end tag at byte offset 4,"
            ' expected "</b>", found "</i>"'
        ),
    ),
    Case(
        "a tag never closed",
        [send("<b>Lan")],
        400,
        bad("can't parse entities: Can't find end tag corresponding to start tag \"b\""),
    ),
    Case(
        "a bare <",
        [send("1 < 2")],
        400,
        bad('can\'t parse entities: Unsupported start tag "" at byte offset 2'),
    ),
    Case("empty text", [send("")], 400, bad("message text is empty")),
    Case("text of white space only", [send(" <b>\n</b> ")], 400, bad("message must be non-empty")),
    Case("4096 characters", [send("a" * 4096)], 200, check=lambda r: len(r["text"]) == 4096),
    Case("4097 characters", [send("a" * 4097)], 400, bad("message is too long")),
    Case("2048 emoji are 4096 UTF-16 units", [send(EMOJI * 2048)], 200),
    Case("2049 emoji are 4098 UTF-16 units", [send(EMOJI * 2049)], 400, bad("message is too long")),
    Case(
        "tags do not count towards the limit",
        [send("<b>" + "a" * 4096 + "</b>")],
        200,
    ),
    Case(
        "a caption of 1024",
        [("sendPhoto", {"chat_id": CHAT, "photo": "p", "caption": "c" * 1024})],
        200,
        check=lambda r: r["photo"][0]["file_id"] == "p" and len(r["caption"]) == 1024,
    ),
    Case(
        "a caption of 1025",
        [("sendPhoto", {"chat_id": CHAT, "photo": "p", "caption": "c" * 1025})],
        400,
        bad("message caption is too long"),
    ),
    Case(
        "callback data of 64 bytes",
        [send("Chọn", reply_markup=keyboard("đ" * 32))],
        200,
        check=lambda r: r["reply_markup"] == keyboard("đ" * 32),
    ),
    Case(
        "callback data of 66 bytes (33 characters)",
        [send("Chọn", reply_markup=keyboard("ok", "đ" * 33))],
        400,
        bad("BUTTON_DATA_INVALID"),
    ),
    Case(
        "a button without an action",
        [send("Chọn", reply_markup={"inline_keyboard": [[{"text": "x"}]]})],
        400,
        bad(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        ),
    ),
    Case("a pop-up of 200 characters", [popup("a" * 200)], 200, check=lambda r: r is True),
    Case("a pop-up of 100 emoji: 200 UTF-16 units", [popup(EMOJI * 100)], 200),
    Case(
        "a pop-up of 101 emoji: 101 code points but 202 UTF-16 units",
        [popup(EMOJI * 101)],
        400,
        bad("MESSAGE_TOO_LONG"),
    ),
    Case(
        "a callback query answered twice",
        [popup("", "q7"), popup("", "q7")],
        400,
        QUERY_TOO_OLD,
    ),
    Case(
        "an album of 1 is sent as one photo, outside any album",
        [("sendMediaGroup", {"chat_id": CHAT, "media": photos(1)})],
        200,
        check=lambda r: len(r) == 1 and "media_group_id" not in r[0],
    ),
    Case(
        "an album of 10",
        [("sendMediaGroup", {"chat_id": CHAT, "media": photos(10)})],
        200,
        check=lambda r: len(r) == 10 and len({m["media_group_id"] for m in r}) == 1,
    ),
    Case(
        "an album of 11",
        [("sendMediaGroup", {"chat_id": CHAT, "media": photos(11)})],
        400,
        bad("too many messages to send as an album"),
    ),
    Case(
        "an empty album",
        [("sendMediaGroup", {"chat_id": CHAT, "media": []})],
        400,
        bad("there are no messages to send"),
    ),
    Case(
        "an unknown method", [("sendPigeon", {"chat_id": CHAT})], 404, "Not Found: method not found"
    ),
    Case(
        "method names in any case",
        [("SENDMESSAGE", {"chat_id": CHAT, "text": "hi"})],
        200,
        check=lambda r: r["text"] == "hi",
    ),
    Case(
        "editing a message that does not exist", [edit(77, "mới")], 400, MESSAGE_TO_EDIT_NOT_FOUND
    ),
    Case(
        "editing with the same text and buttons",
        [
            send("<b>Câu hỏi</b>", reply_markup=keyboard("a")),
            edit(1, "<b>Câu hỏi</b>", reply_markup=keyboard("a")),
        ],
        400,
        MESSAGE_NOT_MODIFIED,
    ),
    Case(
        "the same text in other formatting is a change",
        [send("<b>Câu hỏi</b>"), edit(1, "<i>Câu hỏi</i>")],
        200,
        check=lambda r: r["entities"][0]["type"] == "italic" and r["edit_date"] == NOW,
    ),
    Case(
        "editing the text without reply_markup takes the buttons away",
        [send("Câu hỏi", reply_markup=keyboard("a")), edit(1, "Câu hỏi")],
        200,
        check=lambda r: "reply_markup" not in r and r["message_id"] == 1,
    ),
    Case(
        "removing buttons that are already gone",
        [
            send("Câu hỏi", reply_markup=keyboard("a")),
            ("editMessageReplyMarkup", {"chat_id": CHAT, "message_id": 1}),
            ("editMessageReplyMarkup", {"chat_id": CHAT, "message_id": 1}),
        ],
        400,
        MESSAGE_NOT_MODIFIED,
    ),
    Case(
        "a 429 arranged with retry_after",
        [send("khẩn")],
        429,
        "Too Many Requests: retry after 3",
        arrange=many_429s,
    ),
    Case(
        "an arranged failure is used up, and touches only its chat",
        [send("a"), send("b", chat_id=CHAT + 1), send("c")],
        200,
        check=lambda r: r["text"] == "c" and r["message_id"] == 1,
        arrange=many_429s,
    ),
]


def request_data(params: dict[str, Any]) -> RequestData:
    """The parameters as python-telegram-bot packs them for either transport."""
    return RequestData([RequestParameter.from_input(key, value) for key, value in params.items()])


async def in_process(api: BotApi, method: str, params: dict[str, Any]) -> Answer:
    url = f"https://api.telegram.org/bot{TOKEN}/{method}"
    status, body = await FakeTelegram(api).do_request(url, "POST", request_data(params))
    return status, json.loads(body)


def over_http(base_url: str, method: str, params: dict[str, Any]) -> Answer:
    """POST a form, as python-telegram-bot's HTTPXRequest does without files."""
    body = urllib.parse.urlencode(request_data(params).json_parameters).encode()
    request = urllib.request.Request(  # noqa: S310 - our own loopback server
        f"{base_url}{TOKEN}/{method}",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
async def test_both_transports_answer_as_telegram_does(case: Case) -> None:
    local, remote = BotApi(now=lambda: NOW), BotApi(now=lambda: NOW)
    case.arrange(local)
    case.arrange(remote)

    local_answers = [await in_process(local, method, params) for method, params in case.requests]
    with FakeBotApiServer(TOKEN, api=remote) as server:
        remote_answers = [
            await asyncio.to_thread(over_http, server.base_url, method, params)
            for method, params in case.requests
        ]

    assert local_answers == remote_answers
    status, body = local_answers[-1]
    assert status == case.status, body
    if case.description is None:
        assert body["ok"] is True and case.check(body["result"]), body
    else:
        assert body == {
            "ok": False,
            "error_code": case.status,
            "description": case.description,
            **({"parameters": {"retry_after": 3}} if case.status == 429 else {}),
        }
    # Both keep the same record: what was asked, and how it was answered.
    assert [(c.method, c.status, c.description) for c in local.calls] == [
        (c.method, c.status, c.description) for c in remote.calls
    ]


async def test_a_tap_carries_the_message_as_it_now_stands(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/incident")
    question, _ = lan.find_button("Trộm cắp tài sản")
    calls = await lan.tap("Trộm cắp tài sản")

    # The bot edited the very message that was tapped: it exists, so the edit succeeded.
    edits = [c for c in calls if c.method == "editMessageText"]
    assert [(int(c.params["message_id"]), c.ok) for c in edits] == [(question.message_id, True)]
    now = harness.telegram.api.message(501, question.message_id)
    assert now is not None and now.edited and now.text != question.text
    # The old buttons left the screen with the edit; what the person sees is the message now.
    with pytest.raises(AssertionError, match="no button labelled"):
        lan.find_button("Trộm cắp tài sản")
    shown, _ = lan.find_button("Vừa xảy ra")
    assert shown == now == lan.last_buttons_call()
    assert lan.last_text() == now.text

    # A tap sends the message as it stands: the bot's next edit finds it and changes it.
    calls = await lan.tap("Vừa xảy ra")
    edits = [c for c in calls if c.method in ("editMessageText", "editMessageReplyMarkup")]
    assert edits and all(c.ok for c in edits)
    assert {int(c.params["message_id"]) for c in edits} == {now.message_id}
    assert harness.telegram.problems == []


async def test_user_and_bot_messages_share_the_chats_ids(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    other = await harness.join(502, "16702-K01", first_name="Minh")
    ids = [m.message_id for m in lan.messages()]
    # /start took id 1 in Lan's chat; the bot's welcome came after it, in that chat only.
    assert ids == [2]
    assert [m.message_id for m in other.messages()] == [2]
    assert [c.chat_id for c in lan.calls()] == [501] * len(lan.calls())
