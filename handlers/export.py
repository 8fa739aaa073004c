"""/export: the reports of the asker's units for a span of days, sent as a file.

Buttons give this month, last month, the last 30 days and this year, as XLSX (or CSV,
one tap away); a typed range "01/11/2026-30/11/2026" (perhaps followed by "csv") works
right after /export, or with it: "/export 01/11/2026-30/11/2026". A range that cannot
be read is explained and may be typed again.

The file covers exactly the units the access rules let the asker see (a supervisor's
subtree, everything for an admin), hides names from a recipient above the privacy level
(domain/privacy.py), and is written a page at a time in a worker thread, so the event
loop keeps answering others meanwhile. It is always a document, never a message's text.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from collections.abc import Callable, Mapping
from contextlib import aclosing
from datetime import datetime, timedelta
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.ext import filters

from domain.access import ADMIN, Action, Actor, UnitTree, visible_units
from domain.day_range import (
    TYPED_SHAPE,
    DayRange,
    RangeError,
    Span,
    parse_day_range,
    span_range,
    split_format,
)
from domain.levels import commune_of
from domain.models import Member
from domain.privacy import names_shown_to
from handlers.context import BotApplication, BotContext, services_of
from handlers.guard import permit
from handlers.report import answers
from presentation.callbacks import ExportAs, ExportRange, FileFormat, unpack
from presentation.export import ExportFormat
from presentation.export_files import (
    CsvReportFile,
    ExportRow,
    ReportFile,
    XlsxReportFile,
    private_row,
)
from presentation.i18n import Html
from presentation.keyboards import callback_button, replace_screen
from presentation.render import local_day
from storage.export import iterate_export_rows
from storage.members import overseers_and_tree
from storage.units import all_units

log = logging.getLogger(__name__)

# Rows handed to the worker thread at a time.
PAGE = 500
# After /export, a typed range is read as one for this long.
TYPED_FOR = timedelta(minutes=15)
# bot_data key: chat id -> until when a range typed there is read as one, and the format
# the menu showed last (per process: after a restart, /export is asked again).
_AWAITING = "export:typed_until"
SPAN_LABELS = {
    Span.THIS_MONTH: "export.button.this_month",
    Span.LAST_MONTH: "export.button.last_month",
    Span.LAST_30_DAYS: "export.button.last_30_days",
    Span.THIS_YEAR: "export.button.this_year",
}


def is_export_button(data: object) -> bool:
    """Whether a button's data is the export menu's (a CallbackQueryHandler pattern)."""
    return ExportRange.matches(data) or ExportAs.matches(data)


async def ask(update: Update, context: BotContext) -> None:
    """/export: the spans as buttons, or at once the range typed after the command."""
    if not await permit(update, context, Action.EXPORT):
        return
    message = update.effective_message
    assert message is not None
    if context.args:
        await _export_typed(update, context, " ".join(context.args))
        return
    _await_typed(update, context, FileFormat.XLSX)
    await message.reply_text(
        context.t.html(context.language, "export.ask", format="XLSX"),
        reply_markup=_menu(context, FileFormat.XLSX),
    )


def _menu(context: BotContext, file: FileFormat) -> InlineKeyboardMarkup:
    t, lang = context.t, context.language

    def span(item: Span) -> InlineKeyboardButton:
        return callback_button(t.plain(lang, SPAN_LABELS[item]), ExportRange(item, file).pack())

    other = FileFormat.CSV if file is FileFormat.XLSX else FileFormat.XLSX
    switch = "export.button.as_csv" if other is FileFormat.CSV else "export.button.as_xlsx"
    return InlineKeyboardMarkup(
        [
            [span(Span.THIS_MONTH), span(Span.LAST_MONTH)],
            [span(Span.LAST_30_DAYS), span(Span.THIS_YEAR)],
            [callback_button(t.plain(lang, switch), ExportAs(other).pack())],
        ]
    )


async def on_button(update: Update, context: BotContext) -> None:
    """A span (make the file) or a format (switch the menu): checked again first."""
    query = update.callback_query
    assert query is not None
    data = unpack(query.data)
    if not isinstance(data, ExportRange | ExportAs):
        await query.answer(context.t.plain(context.language, "error.stale_button"))
        return
    if not await permit(update, context, Action.EXPORT):
        return
    t, lang = context.t, context.language
    if isinstance(data, ExportAs):
        await query.answer()
        _await_typed(update, context, data.file)
        await replace_screen(
            query,
            t.html(lang, "export.ask", format=data.file.value.upper()),
            reply_markup=_menu(context, data.file),
        )
        return
    message = query.message
    assert message is not None
    # A double tap makes one file: the key is taken once the file has gone out, so a
    # restart while it was being made leaves the button usable again.
    key = f"export:{message.chat.id}:{message.message_id}:{data.span.value}:{data.file.value}"
    if await context.db.read(lambda tx: tx.taken(key)):
        await query.answer(t.plain(lang, "export.already"))
        return
    await query.answer(t.plain(lang, "export.working"))
    today = context.moment().today
    if await _send(context, message.chat.id, span_range(data.span, today), data.file):
        await context.db.write(lambda tx: tx.once(key))


class _TypedRange(filters.MessageFilter):
    """Text shaped like a range of days, in a chat that was shown /export's menu lately.

    Nothing else ever reaches this module's handler: any other text goes on to whichever
    handler would have taken it anyway.
    """

    def __init__(
        self, awaiting: dict[int, tuple[datetime, FileFormat]], now: Callable[[], datetime]
    ) -> None:
        super().__init__(name="export_typed_range")
        self._awaiting = awaiting
        self._now = now

    def filter(self, message: Message) -> bool:
        until, _ = self._awaiting.get(message.chat_id, (None, None))
        if until is None:
            return False
        if until <= self._now():
            self._awaiting.pop(message.chat_id, None)
            return False
        return TYPED_SHAPE.match(message.text or "") is not None


def typed_range(application: BotApplication) -> filters.MessageFilter:
    """The filter of on_typed's MessageHandler, bound to this application's state."""
    awaiting: dict[int, tuple[datetime, FileFormat]] = application.bot_data.setdefault(
        _AWAITING, {}
    )
    return _TypedRange(awaiting, services_of(application).clock.now)


async def on_typed(update: Update, context: BotContext) -> None:
    """A range typed after /export. With a report in progress, its answer instead (a day
    typed for "when"): a range is then typed with the command, /export 01/11/2026-…."""
    message = update.effective_message
    assert message is not None and message.text is not None
    if context.draft is not None:
        await answers.on_message(update, context)
        return
    await _export_typed(update, context, message.text)


async def _export_typed(update: Update, context: BotContext, text: str) -> None:
    message = update.effective_message
    assert message is not None
    t, lang = context.t, context.language
    range_text, word = split_format(text)
    try:
        days = parse_day_range(range_text)
    except RangeError as error:
        # A second chance: the next range typed is read too.
        _await_typed(update, context)
        await message.reply_text(
            Html(f"{t.html(lang, error.reason)}\n{t.html(lang, 'export.typed_hint')}")
        )
        return
    if not await permit(update, context, Action.EXPORT):
        return
    _, shown = _awaiting(context).pop(message.chat_id, (None, FileFormat.XLSX))
    await _send(context, message.chat_id, days, FileFormat(word) if word else shown)


def _awaiting(context: BotContext) -> dict[int, tuple[datetime, FileFormat]]:
    awaiting: dict[int, tuple[datetime, FileFormat]] = context.bot_data.setdefault(_AWAITING, {})
    return awaiting


def _await_typed(update: Update, context: BotContext, file: FileFormat | None = None) -> None:
    """Read the next range typed in this chat as one, for a while, as this format (by
    default the one the menu showed last)."""
    if update.effective_chat is None:
        return
    awaiting = _awaiting(context)
    chat = update.effective_chat.id
    shown = file or awaiting.get(chat, (None, FileFormat.XLSX))[1]
    awaiting[chat] = (context.services.clock.now() + TYPED_FOR, shown)


async def _send(context: BotContext, chat_id: int, days: DayRange, file: FileFormat) -> bool:
    """Make the file and send it; False (and the asker told) if it could not be made."""
    member = context.registered_member()
    t, lang = context.t, member.language
    try:
        made = await _make(context, member, days, file)
    except Exception:
        log.exception("an export for member %s could not be made", member.id)
        await context.bot.send_message(chat_id, t.html(lang, "export.failed"))
        return False
    first, last = local_day(days.first), local_day(days.last)
    if made is None:
        await context.bot.send_message(
            chat_id, t.html(lang, "export.empty", first=first, last=last)
        )
        return True
    content, filename, count, scope, shown = made
    caption = t.html(lang, "export.caption", first=first, last=last, count=count, scope=scope)
    if not shown:
        caption = Html(f"{caption}\n{t.html(lang, 'export.names_hidden')}")
    await context.bot.send_document(chat_id, InputFile(content, filename=filename), caption=caption)
    return True


async def _make(
    context: BotContext, member: Member, days: DayRange, file: FileFormat
) -> tuple[bytes, str, int, str, bool] | None:
    """(content, filename, reports, scope, names shown), or None if there are no reports."""
    services = context.services
    t, lang = context.t, member.language
    tree, _ = await overseers_and_tree(context.db)
    names = {unit.code: unit.name for unit in await all_units(context.db)}
    actor = Actor.of(member, active=member.active)
    units = visible_units(actor, tree)
    shown = names_shown_to(tree, member.unit_code, services.settings.privacy_level)
    scope = (
        t.plain(lang, "export.scope_all")
        if actor.role == ADMIN
        else names.get(member.unit_code, member.unit_code)
    )
    hidden = t.plain(lang, "privacy.hidden")
    export = ExportFormat(t, lang, services.settings.timezone, services.catalogues)
    filename = f"bao-cao-{days.first:%Y%m%d}-{days.last:%Y%m%d}.{file.value}"
    # Beside the database: its folder is readable by the bot's user only.
    folder = Path(
        await asyncio.to_thread(
            tempfile.mkdtemp, prefix=".export-", dir=services.settings.db_path.parent
        )
    )
    try:
        path = folder / filename
        writer: ReportFile = await asyncio.to_thread(_open, file, path, export, lang)
        try:
            count = await _write_rows(context, writer, days, units, tree, names, shown, hidden)
            await asyncio.to_thread(writer.close)
        except BaseException:
            await asyncio.to_thread(writer.discard)
            raise
        if count == 0:
            return None
        content = await asyncio.to_thread(path.read_bytes)
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, True)
    return content, filename, count, scope, shown


def _open(file: FileFormat, path: Path, export: ExportFormat, language: str) -> ReportFile:
    if file is FileFormat.CSV:
        return CsvReportFile(path, export)
    return XlsxReportFile(path, export, export.t.plain(language, "export.sheet"))


async def _write_rows(
    context: BotContext,
    writer: ReportFile,
    days: DayRange,
    units: frozenset[str],
    tree: UnitTree,
    names: Mapping[str, str],
    shown: bool,
    hidden: str,
) -> int:
    """Hand the rows to the writer a page at a time, in its thread; returns how many."""
    communes: dict[str, str] = {}

    def commune(code: str) -> str:
        found = communes.get(code)
        if found is None:
            commune_code = commune_of(tree, names, code)
            found = communes[code] = names.get(commune_code, "") if commune_code else ""
        return found

    count = 0
    page: list[ExportRow] = []
    rows = iterate_export_rows(context.db, days.first, days.last, units=units)
    async with aclosing(rows) as reports:
        async for report in reports:
            page.append(ExportRow(private_row(report, shown, hidden), commune(report.unit_code)))
            if len(page) >= PAGE:
                await asyncio.to_thread(writer.write, page)
                count, page = count + len(page), []
    if page:
        await asyncio.to_thread(writer.write, page)
        count += len(page)
    return count
