"""One simulator of Telegram's Bot API, with two transports over it.

``core.BotApi`` holds the semantics: the methods the bot uses, the checks Telegram makes
(HTML that parses, text and caption limits in UTF-16 units, 64-byte callback data, pop-ups,
albums, edits of messages that exist and change), fault injection and the record of calls.
``inprocess.FakeTelegram`` hands it requests from an Application in the same process;
``http_server.FakeBotApiServer`` serves it on loopback HTTP to a bot run as a process.
``driver`` drives the real Application through the in-process transport, for tests and the
benchmark alike.
"""

from botapi_sim.core import (
    BOT_ID,
    BOT_USER,
    BOT_USERNAME,
    ApiError,
    BotApi,
    Call,
    Failure,
    Message,
    RecordedCall,
)
from botapi_sim.formatting import EntityParseError, FormattedText, parse_html, utf16_length
from botapi_sim.http_server import FakeBotApiServer
from botapi_sim.inprocess import FakeTelegram

__all__ = [
    "BOT_ID",
    "BOT_USER",
    "BOT_USERNAME",
    "ApiError",
    "BotApi",
    "Call",
    "EntityParseError",
    "Failure",
    "FakeBotApiServer",
    "FakeTelegram",
    "FormattedText",
    "Message",
    "RecordedCall",
    "parse_html",
    "utf16_length",
]
