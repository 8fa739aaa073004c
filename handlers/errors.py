"""The one error handler: log with the traceback, tell the user their work is safe."""

from __future__ import annotations

import contextlib
import logging
import sqlite3

from telegram import Update
from telegram.error import TelegramError

from handlers.context import BotContext
from handlers.report.resume import show_where_member_is
from storage.members import member_by_telegram_id

log = logging.getLogger(__name__)


async def report_error(update: object, context: BotContext) -> None:
    """Log the failure; apologise, and show a member where they are now.

    The answer that was being handled may already be committed, so "try again" alone
    would have the member's next message answer the wrong question.
    """
    log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    chat = update.effective_chat
    if chat.type != "private":
        return
    if update.callback_query is not None:
        # Telegram refuses a second answer to a query the handler already answered.
        with contextlib.suppress(TelegramError):
            await update.callback_query.answer()
    if isinstance(context.error, sqlite3.OperationalError):
        # The database was busy, full or failing: nothing of this update was saved (its
        # transaction was rolled back whole). Say so, and leave it new in the inbox to be
        # handled again (handlers/gate.py). Other database errors would fail again: they
        # are reported like any other error below.
        context.services.failed_updates.add(update.update_id)
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(
                chat.id, context.t.html(context.settings.language, "error.not_saved")
            )
        return
    user = update.effective_user
    # An error handler gets a fresh context: find out again who this is.
    if user is not None:
        context.member = await member_by_telegram_id(context.db, user.id)
    try:
        await context.bot.send_message(chat.id, context.t.html(context.language, "error.internal"))
        if context.member is not None:
            await show_where_member_is(context, chat.id)
    except (TelegramError, sqlite3.Error):
        log.warning("could not tell chat %s about the error", chat.id, exc_info=True)
