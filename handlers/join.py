"""Joining: /start with an invite code makes a Telegram user a member."""

from __future__ import annotations

from telegram import Update

from domain.invites import hash_invite_code, looks_like_invite_code
from handlers.context import BotContext, origin_of
from presentation.keyboards import main_keyboard
from storage.members import Joiner, JoinOutcome, redeem_invite
from storage.units import get_unit

_REFUSALS = {
    JoinOutcome.UNKNOWN: "join.unknown",
    JoinOutcome.USED: "join.used",
    JoinOutcome.EXPIRED: "join.expired",
}


async def start(update: Update, context: BotContext) -> None:
    """Redeem the invite in /start <code>, or greet a member who is back."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    t, member = context.t, context.member
    code = context.args[0] if context.args else ""

    if member is not None:
        await message.reply_text(
            t.html(member.language, "join.welcome_back", name=member.full_name),
            reply_markup=main_keyboard(t, member.language, member.role),
        )
        return
    if not code:
        await message.reply_text(t.html(context.language, "access.refused"))
        return
    if not looks_like_invite_code(code):
        await message.reply_text(t.html(context.language, "join.unknown"))
        return

    joiner = Joiner(
        telegram_user_id=user.id,
        chat_id=message.chat_id,
        full_name=user.full_name,
        username=user.username,
        language=context.settings.language,
    )
    result = await redeem_invite(context.db, hash_invite_code(code), joiner, origin_of(update))
    if result.outcome in _REFUSALS:
        await message.reply_text(t.html(context.language, _REFUSALS[result.outcome]))
        return
    joined = result.member
    if joined is None:  # a replay of a join already answered
        return
    unit = await get_unit(context.db, joined.unit_code)
    await message.reply_text(
        t.html(
            joined.language,
            "join.welcome",
            name=joined.full_name,
            unit=unit.name if unit else joined.unit_code,
            role=t.html(joined.language, f"role.{joined.role.value}"),
        ),
        reply_markup=main_keyboard(t, joined.language, joined.role),
    )
