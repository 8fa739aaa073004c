"""Gates every update passes first: replays are dropped, strangers are refused."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from handlers.context import BotApplication, BotContext, services_of
from handlers.reports import show_where_member_is
from storage.members import member_by_telegram_id
from storage.updates import (
    UpdateState,
    interrupted_updates,
    note_inflight,
    record_answered,
    settle_interrupted,
    update_state,
)

log = logging.getLogger(__name__)


async def drop_replayed_update(update: Update, context: BotContext) -> None:
    """Stop an update Telegram delivers a second time (e.g. after a restart).

    If the first delivery changed state but the process died before replying, the
    member is shown where they now are, so that their next message lands right.
    """
    state = await update_state(context.db, update.update_id)
    chat, user = update.effective_chat, update.effective_user
    if state is UpdateState.NEW:
        return
    if state is UpdateState.CHANGED_STATE and chat is not None and user is not None:
        context.member = await member_by_telegram_id(context.db, user.id)
        if context.member is not None:
            await show_where_member_is(context, chat.id)
        await record_answered(context.db, update.update_id)
    raise ApplicationHandlerStop


async def resume_interrupted_updates(application: BotApplication) -> int:
    """At start-up: show members whose update a dead process never finished where they are."""
    resumed = 0
    for interrupted in await interrupted_updates(services_of(application).db):
        context = BotContext(application, interrupted.chat_id, interrupted.user_id)
        context.member = await member_by_telegram_id(context.db, interrupted.user_id)
        # One that changed nothing will be redelivered, or was lost before it counted.
        if context.member is not None and interrupted.changed_state:
            try:
                await show_where_member_is(context, interrupted.chat_id)
                resumed += 1
            except TelegramError:
                log.warning(
                    "could not resume chat %s after a restart", interrupted.chat_id, exc_info=True
                )
        await settle_interrupted(context.db, interrupted.update_id)
    return resumed


async def identify_member(update: Update, context: BotContext) -> None:
    """Load the sender's membership; refuse anyone not registered, except to join."""
    user = update.effective_user
    if user is None or update.effective_chat is None or update.effective_chat.type != "private":
        # Groups and channels are not served: members report in a private chat.
        raise ApplicationHandlerStop
    context.member = await member_by_telegram_id(context.db, user.id)
    if context.member is not None:
        await note_inflight(context.db, update.update_id, update.effective_chat.id, user.id)
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
