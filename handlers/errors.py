"""The one error handler: log with the traceback, tell the user their work is safe."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from bot.context import BotContext

log = logging.getLogger(__name__)


async def report_error(update: object, context: BotContext) -> None:
    """Log the failure; apologise to the member, whose answers are already saved."""
    log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type != "private":
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(
                context.t.plain(context.language, "error.internal_short"), show_alert=True
            )
        else:
            await context.bot.send_message(
                update.effective_chat.id, context.t.html(context.language, "error.internal")
            )
    except TelegramError:
        log.warning("could not tell the user about the error", exc_info=True)
