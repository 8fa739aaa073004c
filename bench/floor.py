"""The floor: a bare python-telegram-bot application answering the bot's own updates.

It parses each update, routes it to one handler and answers the way the bot does (a
message with a message, a button with its answer and an edit of the message), on the
same simulator. What the bot takes beyond this is ours: the form engine, access rules,
rendering and SQLite.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, MessageHandler
from telegram.ext import filters as ptb_filters

from botapi_sim.driver import TOKEN
from botapi_sim.inprocess import FakeTelegram


async def _reply(update: Update, context: Any) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"ok {update.update_id}")


async def _answer(update: Update, context: Any) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(f"ok {update.update_id}")


async def replay_on_bare_application(payloads: list[dict[str, Any]]) -> str:
    """Answer the same updates with a bare application; returns its latency line."""
    telegram = FakeTelegram()
    application: Application[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder().token(TOKEN).request(telegram).get_updates_request(telegram).build()
    )
    application.add_handler(MessageHandler(ptb_filters.ALL, _reply))
    application.add_handler(CallbackQueryHandler(_answer))
    await application.initialize()
    timings: list[float] = []
    try:
        for update_id, payload in enumerate(payloads, start=1):
            if "callback_query" in payload:
                # The button's message, as the bot had sent it, must exist on this simulator
                # for the edit to land.
                shown = payload["callback_query"]["message"]
                markup = InlineKeyboardMarkup.de_json(shown.get("reply_markup"), application.bot)
                sent = await application.bot.send_message(
                    shown["chat"]["id"], shown.get("text") or "?", reply_markup=markup
                )
                payload = {
                    "callback_query": {**payload["callback_query"], "message": sent.to_dict()}
                }
            started = time.perf_counter()
            update = Update.de_json({"update_id": update_id, **payload}, application.bot)
            await application.process_update(update)
            timings.append(time.perf_counter() - started)
    finally:
        await application.shutdown()
    ordered = sorted(timings)
    return (
        f"p50 {statistics.median(ordered) * 1000:.2f} ms, "
        f"p95 {ordered[int(len(ordered) * 0.95)] * 1000:.2f} ms"
    )
