"""Gates every update passes first: replays are dropped, strangers are refused."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from handlers.context import BotApplication, BotContext, services_of
from handlers.report.resume import show_where_member_is
from presentation.i18n import language_for
from storage.db import Database
from storage.inbox import close_superseded, set_aside, stalled, superseded, unfinished
from storage.members import member_by_telegram_id
from storage.sessions import open_session
from storage.updates import (
    UpdateState,
    interrupted_updates,
    record_answered,
)

log = logging.getLogger(__name__)


async def admit(update: Update, context: BotContext) -> None:
    """Drop a redelivered update; load the sender and their draft; refuse strangers.

    If the first delivery changed state but the process died before replying, the
    member is shown where they now are, so that their next message lands right.
    """
    user, chat = update.effective_user, update.effective_chat
    session = await open_session(context.db, update.update_id, user.id if user else None)
    context.member, context.draft = session.member, session.draft
    if session.state is not UpdateState.NEW:
        if session.state is UpdateState.CHANGED_STATE and chat and context.member:
            await show_where_member_is(context, chat.id)
            await record_answered(context.db, update.update_id)
        raise ApplicationHandlerStop
    if user is None or chat is None or chat.type != "private":
        # Groups and channels are not served: members report in a private chat.
        raise ApplicationHandlerStop
    if context.member is not None:
        if context.member.blocked:  # they write again: they have unblocked the bot
            context.db.defer(
                "UPDATE members SET blocked_at = NULL WHERE id = ?", (context.member.id,)
            )
        return
    message = update.effective_message
    if message is not None and message.text and message.text.startswith("/start"):
        return  # handlers/join.py decides
    # A stranger is told in their Telegram app's language, if the bot speaks it.
    language = language_for(user.language_code, context.settings.language)
    if update.callback_query is not None:
        await update.callback_query.answer(
            context.t.plain(language, "access.refused_short"), show_alert=True
        )
    elif message is not None:
        await message.reply_text(context.t.html(language, "access.refused"))
    raise ApplicationHandlerStop


async def resume_interrupted_updates(application: BotApplication) -> int:
    """At start-up: show members whose update a dead process never finished where they are."""
    resumed = 0
    for interrupted in await interrupted_updates(services_of(application).db):
        context = BotContext(application, interrupted.chat_id, interrupted.user_id)
        context.member = await member_by_telegram_id(context.db, interrupted.user_id)
        if context.member is not None:
            try:
                await show_where_member_is(context, interrupted.chat_id)
                resumed += 1
            except TelegramError:
                log.warning(
                    "could not resume chat %s after a restart", interrupted.chat_id, exc_info=True
                )
        # A redelivery of it must now stay silent.
        await record_answered(context.db, interrupted.update_id)
    return resumed


async def handle_unfinished_updates(application: BotApplication) -> int:
    """At start-up: handle updates a dead process received and never finished, in order."""
    services = services_of(application)
    handled = 0
    for update_id, payload in await unfinished(services.db):
        update = await _read_stored(services.db, update_id, payload, application.bot)
        if update is None:
            continue
        await services.processor.submit(update, application.process_update(update))
        handled += 1
    # Written now, so that Telegram sending any of them again finds them handled.
    await services.db.flush_deferred()
    return handled


# An update whose change could not be saved is handled again after this long.
STALLED_RETRY_AFTER = timedelta(minutes=1)


async def retry_stalled_updates(context: BotContext) -> None:
    """Job: handle again updates whose change could not be saved (the database failed).

    The member was told it was not saved. If they have sent anything since, they have
    moved on (or sent it again), and the old update is closed instead.
    """
    services = context.services
    before = services.clock.now() - STALLED_RETRY_AFTER
    for left in await stalled(services.db, before):
        if left.update_id in services.processor.in_flight:
            continue
        if left.superseded:
            await close_superseded(services.db, left.update_id)
            continue
        update = await _read_stored(services.db, left.update_id, left.payload, context.bot)
        if update is None:
            continue
        log.info("handling update %s again after a failure to save it", left.update_id)
        await services.processor.submit(update, _unless_superseded(context, update))


async def _unless_superseded(context: BotContext, update: Update) -> None:
    """Handle a stalled update in its chat's turn, unless the member has moved on by then.

    Checked again here, in order with the chat's other updates: the member may have sent
    something while the job waited for earlier ones.
    """
    if await superseded(context.db, update.update_id):
        await close_superseded(context.db, update.update_id)
        return
    await context.application.process_update(update)


async def _read_stored(
    db: Database, update_id: int, payload: dict[str, Any], bot: Bot
) -> Update | None:
    """An update from the inbox; one that cannot be read is set aside, never handled."""
    try:
        return Update.de_json(payload, bot)
    except Exception:
        await set_aside(db, update_id, "unreadable update")
        return None
