"""Keyboards shared by several flows."""

from __future__ import annotations

import contextlib

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)
from telegram.error import BadRequest

from domain.access import OVERSEERS, TEAM_LEADS
from domain.outbox import Button, LinkButton
from presentation.i18n import Translator

# Telegram refuses callback data longer than this many bytes.
CALLBACK_DATA_LIMIT = 64

MENU_URGENT = "menu.urgent"  # 🆘 Báo khẩn: alerted after three answers (domain/urgent.py)
MENU_INCIDENT = "menu.incident"
MENU_ACTIVITY = "menu.activity"
MENU_NOTHING = "menu.nothing"
MENU_MY = "menu.my"
# Supervisors' and admins' buttons, and team leaders' two extra ones. Each does what its
# command does (handlers/menu.py as_command): the button is a shortcut, never a second way.
MENU_REPORTS = "menu.reports"
MENU_OVERDUE = "menu.overdue"
MENU_DIGEST = "menu.digest"
MENU_EXPORT = "menu.export"
MENU_MEMBERS = "menu.members"
MENU_INVITE = "menu.invite"
MENU_TEAM_REPORTS = "menu.team_reports"
MENU_TEAM_MEMBERS = "menu.team_members"
MENU_BUTTONS = (
    MENU_URGENT, MENU_INCIDENT, MENU_ACTIVITY, MENU_NOTHING, MENU_MY, MENU_REPORTS, MENU_OVERDUE,
    MENU_DIGEST, MENU_EXPORT, MENU_MEMBERS, MENU_INVITE, MENU_TEAM_REPORTS, MENU_TEAM_MEMBERS,
)  # fmt: skip
# The command each shortcut button runs.
COMMAND_BUTTONS = {
    MENU_REPORTS: "reports",
    MENU_TEAM_REPORTS: "reports",
    MENU_OVERDUE: "overdue",
    MENU_DIGEST: "digest",
    MENU_EXPORT: "export",
    MENU_MEMBERS: "members",
    MENU_TEAM_MEMBERS: "members",
    MENU_INVITE: "invite",
}
# Urgent first, alone on the top row: the button a member must find without looking.
_MEMBER_ROWS = ((MENU_URGENT,), (MENU_INCIDENT, MENU_ACTIVITY), (MENU_NOTHING, MENU_MY))
# A team leader reports like a member and looks after one team: its reports and people.
_LEADER_ROWS = (*_MEMBER_ROWS, (MENU_TEAM_REPORTS, MENU_TEAM_MEMBERS))
# A supervisor or admin oversees: what came in, who is late, the sums, the files, the
# people. They keep one way to report an incident they witness; they have no deadlines,
# so "nothing new" and activities (still /activity) are not theirs to tap every day.
_OVERSEER_ROWS = (
    (MENU_REPORTS, MENU_OVERDUE),
    (MENU_DIGEST, MENU_EXPORT),
    (MENU_MEMBERS, MENU_INVITE),
    (MENU_URGENT, MENU_INCIDENT),
)


def menu_rows(role: str) -> tuple[tuple[str, ...], ...]:
    """The message ids of a role's buttons under the chat, row by row."""
    if role in OVERSEERS:
        return _OVERSEER_ROWS
    if role in TEAM_LEADS:
        return _LEADER_ROWS
    return _MEMBER_ROWS


def main_keyboard(t: Translator, language: str, role: str = "member") -> ReplyKeyboardMarkup:
    """The persistent buttons under the chat: typing commands on a phone is slow.

    Each role has its own (``menu_rows``); without a role, a member's.
    """
    return ReplyKeyboardMarkup(
        [[KeyboardButton(t.plain(language, key)) for key in row] for row in menu_rows(role)],
        resize_keyboard=True,
        is_persistent=True,
    )


async def close_buttons(message: object) -> None:
    """Remove a message's inline buttons, so they can't be tapped again.

    A message too old to edit, or already without buttons, is left as it is.
    """
    if isinstance(message, Message):
        with contextlib.suppress(BadRequest):
            await message.edit_reply_markup(None)


async def replace_screen(
    query: CallbackQuery, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """Show a new screen in place of the tapped message.

    A screen that would not change (a stale or repeated tap) is left as it is; a message
    that can no longer be edited (too old, deleted) gets the screen as a new message.
    """
    try:
        await query.edit_message_text(text, reply_markup=reply_markup)
    except BadRequest as error:
        if "not modified" in str(error).lower():
            return
        if query.message is None:
            raise
        await query.get_bot().send_message(query.message.chat.id, text, reply_markup=reply_markup)


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
