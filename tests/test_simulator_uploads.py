"""Files the bot makes and uploads reach the simulator byte for byte, over both transports.

A real python-telegram-bot ``Bot`` sends each request, once through the in-process transport
and once over loopback HTTP to the server, each over a fresh simulator; the test then reads
back what Telegram received with ``BotApi.uploads()`` and checks Telegram's refusals: a caption
too long once parsed, a file too large.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from telegram import Bot, InputFile, InputMediaDocument, InputMediaPhoto
from telegram.error import BadRequest, NetworkError

from botapi_sim import BotApi, FakeBotApiServer, FakeTelegram
from botapi_sim.core import FILE_UPLOAD_LIMIT, PHOTO_UPLOAD_LIMIT, Upload

TOKEN = "111222333:simulator-uploads-token"
NOW = 1_796_000_000
CHAT = 4242
EMOJI = "😀"  # outside the BMP: one code point, two UTF-16 units
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def made_file(header: bytes, size: int = 4096) -> bytes:
    """Bytes as a made file has them, with what a careless parser would mangle in them."""
    return header + b"\r\n--\r\n\n\r\x00\xff" + os.urandom(size) + b"\r\n"


PNG = made_file(b"\x89PNG\r\n\x1a\n")
XLSX = made_file(b"PK\x03\x04")


@dataclass
class Sim:
    """A real Bot talking to one simulator through one transport."""

    bot: Bot
    api: BotApi
    transport: str


@pytest.fixture(params=["in-process", "http"])
async def sim(request: pytest.FixtureRequest) -> AsyncIterator[Sim]:
    api = BotApi(now=lambda: NOW)
    if request.param == "in-process":
        telegram = FakeTelegram(api)
        async with Bot(TOKEN, request=telegram, get_updates_request=telegram) as bot:
            yield Sim(bot, api, request.param)
        return
    with FakeBotApiServer(TOKEN, api=api) as server:
        async with Bot(TOKEN, base_url=server.base_url) as bot:
            yield Sim(bot, api, request.param)


async def test_a_photo_and_a_document_are_kept_byte_for_byte(sim: Sim) -> None:
    photo = await sim.bot.send_photo(
        CHAT, InputFile(PNG, filename="chart.png"), caption="<b>Biểu đồ</b> tuần", parse_mode="HTML"
    )
    document = await sim.bot.send_document(
        CHAT, InputFile(XLSX, filename="báo-cáo.xlsx"), caption="Báo cáo tuần"
    )

    uploads = sim.api.uploads(CHAT)
    assert uploads == [
        Upload(photo.photo[-1].file_id, "chart.png", PNG, "sendPhoto"),
        Upload(document.document.file_id if document.document else "", "báo-cáo.xlsx", XLSX,
               "sendDocument"),
    ]  # fmt: skip
    assert [sim.api.upload(u.file_id) for u in uploads] == uploads
    assert sim.api.uploads(CHAT + 1) == []
    assert sim.api.upload("no-such-file") is None

    # What the bot gets back is what Telegram answers: the file's size, a document's name.
    assert photo.caption == "Biểu đồ tuần" and photo.caption_entities[0].type == "bold"
    assert photo.photo[-1].file_size == len(PNG)
    assert document.document is not None
    assert document.document.file_name == "báo-cáo.xlsx"
    assert document.document.file_size == len(XLSX)
    assert document.document.mime_type == XLSX_MIME
    assert document.caption == "Báo cáo tuần"
    # The chat keeps the messages so, and the record of calls names the files without bytes.
    stored = [m.json for m in sim.api.messages(CHAT)]
    assert stored[1]["document"]["file_name"] == "báo-cáo.xlsx"
    calls = sim.api.sent_to(CHAT)
    assert [c.params.get("photo") or c.params.get("document") for c in calls] == [
        {"filename": "chart.png", "size": len(PNG)},
        {"filename": "báo-cáo.xlsx", "size": len(XLSX)},
    ]
    assert sim.api.problems == []


async def test_a_file_sent_by_its_id_is_not_uploaded_again(sim: Sim) -> None:
    first = await sim.bot.send_document(CHAT, InputFile(XLSX, filename="tuần.xlsx"))
    photo = await sim.bot.send_photo(CHAT, InputFile(PNG, filename="chart.png"))
    assert first.document is not None
    uploads = sim.api.uploads(CHAT)

    again = await sim.bot.send_document(CHAT, first.document.file_id, caption="Lần nữa")
    photo_again = await sim.bot.send_photo(CHAT, photo.photo[-1].file_id)
    stranger = await sim.bot.send_document(CHAT, "BQACAgIAAxkBAAIB")

    assert sim.api.uploads(CHAT) == uploads and len(uploads) == 2
    # Telegram knows the file by its id: the same name and size as when it was uploaded.
    assert again.document is not None
    assert again.document.file_id == first.document.file_id
    assert again.document.file_name == "tuần.xlsx" and again.document.file_size == len(XLSX)
    assert photo_again.photo[-1].file_id == photo.photo[-1].file_id
    assert photo_again.photo[-1].file_size == len(PNG)
    assert stranger.document is not None and stranger.document.file_id == "BQACAgIAAxkBAAIB"
    assert sim.api.problems == []


@pytest.mark.parametrize(
    ("caption", "parse_mode", "accepted"),
    [
        ("c" * 1024, None, True),
        ("c" * 1025, None, False),
        (EMOJI * 512, None, True),  # 1024 UTF-16 units
        (EMOJI * 513, None, False),  # 513 code points, but 1026 UTF-16 units
        ("<b>" + "c" * 1024 + "</b>", "HTML", True),  # tags are not shown, so not counted
        ("<b>" + "c" * 1025 + "</b>", "HTML", False),
    ],
)
async def test_a_caption_is_measured_once_parsed(
    sim: Sim, caption: str, parse_mode: str | None, accepted: bool
) -> None:
    for send in (sim.bot.send_photo, sim.bot.send_document):
        upload = InputFile(PNG, filename="chart.png")
        if accepted:
            message = await send(CHAT, upload, caption=caption, parse_mode=parse_mode)
            assert message.caption is not None
        else:
            with pytest.raises(BadRequest, match=r"^Message caption is too long$"):
                await send(CHAT, upload, caption=caption, parse_mode=parse_mode)
    # A refused request leaves no file behind.
    assert len(sim.api.uploads(CHAT)) == (2 if accepted else 0)


async def test_a_photo_over_10_mb_is_too_large(sim: Sim) -> None:
    exactly = os.urandom(PHOTO_UPLOAD_LIMIT)
    await sim.bot.send_photo(CHAT, InputFile(exactly, filename="big.png"))
    with pytest.raises(NetworkError, match="Request Entity Too Large"):
        await sim.bot.send_photo(CHAT, InputFile(exactly + b"!", filename="bigger.png"))

    assert [u.filename for u in sim.api.uploads(CHAT)] == ["big.png"]
    assert sim.api.uploads(CHAT)[0].content == exactly
    refused = sim.api.sent_to(CHAT)[-1]
    assert (refused.status, refused.description) == (413, "Request Entity Too Large")


async def test_a_document_over_50_mb_is_too_large() -> None:
    # In process only: the check is the simulator's, whichever transport brought the file.
    api = BotApi(now=lambda: NOW)
    telegram = FakeTelegram(api)
    exactly = bytes(FILE_UPLOAD_LIMIT)
    async with Bot(TOKEN, request=telegram, get_updates_request=telegram) as bot:
        message = await bot.send_document(CHAT, InputFile(exactly, filename="all.xlsx"))
        with pytest.raises(NetworkError, match="Request Entity Too Large"):
            await bot.send_document(CHAT, InputFile(exactly + b"!", filename="more.xlsx"))
    assert message.document is not None and message.document.file_size == FILE_UPLOAD_LIMIT
    assert [u.filename for u in api.uploads(CHAT)] == ["all.xlsx"]


async def test_an_album_of_uploads_is_kept_in_order(sim: Sim) -> None:
    # python-telegram-bot attaches each file of an album by "attach://<part>".
    photos = await sim.bot.send_media_group(
        CHAT,
        [
            InputMediaPhoto(PNG, caption="Một", filename="a.png"),
            InputMediaPhoto(PNG[::-1], filename="b.png"),
        ],
    )
    documents = await sim.bot.send_media_group(
        CHAT,
        [
            InputMediaDocument(XLSX, filename="a.xlsx"),
            InputMediaDocument(XLSX[::-1], filename="b.xlsx"),
        ],
    )

    uploads = sim.api.uploads(CHAT)
    assert [(u.filename, u.content, u.method) for u in uploads] == [
        ("a.png", PNG, "sendMediaGroup"),
        ("b.png", PNG[::-1], "sendMediaGroup"),
        ("a.xlsx", XLSX, "sendMediaGroup"),
        ("b.xlsx", XLSX[::-1], "sendMediaGroup"),
    ]
    assert [m.photo[-1].file_id for m in photos] == [u.file_id for u in uploads[:2]]
    assert [m.document.file_name if m.document else None for m in documents] == [
        "a.xlsx",
        "b.xlsx",
    ]
    assert photos[0].caption == "Một"
    assert sim.api.problems == []


async def test_an_album_file_not_attached_by_name_is_not_found(sim: Sim) -> None:
    # An InputFile made without attach=True is sent as a part named "media", which Telegram
    # does not look at for an album's item.
    with pytest.raises(BadRequest, match=r"^Can't parse inputmedia: media not found$"):
        await sim.bot.send_media_group(
            CHAT, [InputMediaPhoto(InputFile(PNG, filename="a.png")), InputMediaPhoto("p")]
        )
    assert sim.api.uploads(CHAT) == []


def post_multipart(
    server: FakeBotApiServer, method: str, data: dict[str, Any], files: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """A multipart request as any HTTP client would send it, not only python-telegram-bot."""
    response = httpx.post(
        f"{server.base_url}{TOKEN}/{method}", data=data, files=files, timeout=10, trust_env=False
    )
    return response.status_code, json.loads(response.content)


async def test_the_server_reads_a_file_attached_by_name() -> None:
    api = BotApi(now=lambda: NOW)
    with FakeBotApiServer(TOKEN, api=api) as server:
        status, body = await asyncio.to_thread(
            post_multipart,
            server,
            "sendPhoto",
            {"chat_id": str(CHAT), "photo": "attach://chart", "caption": "Biểu đồ"},
            {"chart": ("chart.png", PNG, "image/png")},
        )
        assert status == 200, body
        status, body = await asyncio.to_thread(
            post_multipart,
            server,
            "sendDocument",
            {"chat_id": str(CHAT), "document": "attach://report"},
            {"report": ("report.xlsx", XLSX, XLSX_MIME)},
        )
        assert status == 200, body
        assert body["result"]["document"]["file_name"] == "report.xlsx"
        # attach:// names a part that is not there: no file in the request.
        missing = await asyncio.to_thread(
            post_multipart,
            server,
            "sendPhoto",
            {"chat_id": str(CHAT), "photo": "attach://gone"},
            {"chart": ("chart.png", PNG, "image/png")},
        )

    assert [(u.filename, u.content, u.method) for u in api.uploads(CHAT)] == [
        ("chart.png", PNG, "sendPhoto"),
        ("report.xlsx", XLSX, "sendDocument"),
    ]
    assert missing == (
        400,
        {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: there is no photo in the request",
        },
    )
    assert len(api.uploads(CHAT)) == 2
