"""Keyboards shared by several flows."""

from __future__ import annotations

import contextlib

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)
from telegram.error import BadRequest

from domain.outbox import Button, LinkButton
from presentation.i18n import Translator

# Telegram refuses callback data longer than this many bytes.
CALLBACK_DATA_LIMIT = 64

MENU_INCIDENT = "menu.incident"
MENU_ACTIVITY = "menu.activity"
MENU_NOTHING = "menu.nothing"
MENU_MY = "menu.my"
MENU_BUTTONS = (MENU_INCIDENT, MENU_ACTIVITY, MENU_NOTHING, MENU_MY)


def main_keyboard(t: Translator, language: str) -> ReplyKeyboardMarkup:
    """The persistent buttons under the chat: typing commands on a phone is slow."""
    return ReplyKeyboardMarkup(
        [
            [KeyboardButton(t.plain(language, MENU_INCIDENT)),
             KeyboardButton(t.plain(language, MENU_ACTIVITY))],
            [KeyboardButton(t.plain(language, MENU_NOTHING)),
             KeyboardButton(t.plain(language, MENU_MY))],
        ],
        resize_keyboard=True,
        is_persistent=True,
    )  # fmt: skip


async def close_buttons(message: object) -> None:
    """Remove a message's inline buttons, so they can't be tapped again.

    A message too old to edit, or already without buttons, is left as it is.
    """
    if isinstance(message, Message):
        with contextlib.suppress(BadRequest):
            await message.edit_reply_markup(None)


def callback_button(text: str, data: str) -> InlineKeyboardButton:
    """An inline button whose data is checked against Telegram's limit when built."""
    if len(data.encode("utf-8")) > CALLBACK_DATA_LIMIT:
        raise ValueError(f"callback data over {CALLBACK_DATA_LIMIT} bytes: {data!r}")
    return InlineKeyboardButton(text, callback_data=data)


def inline_markup(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    """Inline buttons of a proactive message, checked against Telegram's limits."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.text, url=b.url)
                if isinstance(b, LinkButton)
                else callback_button(b.text, b.data)
                for b in row
            ]
            for row in rows
        ]
    )
