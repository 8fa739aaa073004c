"""Gates every update passes first: replays are dropped, strangers are refused."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.context import BotContext
from handlers.reports import resume_after_lost_reply
from storage.members import member_by_telegram_id
from storage.updates import UpdateState, record_answered, update_state


async def drop_replayed_update(update: Update, context: BotContext) -> None:
    """Stop an update Telegram delivers a second time (e.g. after a restart).

    If the first delivery changed state but the process died before replying, the
    member is shown where they now are, so that their next message lands right.
    """
    state = await update_state(context.db, update.update_id)
    if state is UpdateState.NEW:
        return
    if state is UpdateState.CHANGED_STATE and update.effective_user is not None:
        context.member = await member_by_telegram_id(context.db, update.effective_user.id)
        if context.member is not None:
            await resume_after_lost_reply(update, context)
        await record_answered(context.db, update.update_id)
    raise ApplicationHandlerStop


async def identify_member(update: Update, context: BotContext) -> None:
    """Load the sender's membership; refuse anyone not registered, except to join."""
    user = update.effective_user
    if user is None or update.effective_chat is None or update.effective_chat.type != "private":
        # Groups and channels are not served: members report in a private chat.
        raise ApplicationHandlerStop
    context.member = await member_by_telegram_id(context.db, user.id)
    if context.member is not None:
        return
    message = update.effective_message
    if message is not None and message.text and message.text.startswith("/start"):
        return  # handlers/join.py decides
    if update.callback_query is not None:
        await update.callback_query.answer(
            context.t.plain(context.language, "access.refused_short"), show_alert=True
        )
    elif message is not None:
        await message.reply_text(context.t.html(context.language, "access.refused"))
    raise ApplicationHandlerStop


async def remember_update(update: Update, context: BotContext) -> None:
    """Record an update that reached the end, so a replay of it is dropped."""
    await record_answered(context.db, update.update_id)
