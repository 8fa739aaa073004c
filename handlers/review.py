"""Reviewing a report: opening it in full, the verdicts, and the comment a verdict asks
for (the notices they send are in handlers/review_notices.py).

Every tap reads the report afresh and asks the access rules (domain/access.py) whether
the sender may see or review it; whether the report, as it stands, allows the verdict is
decided again inside the transaction that records it (domain/review.py). A verdict that
needs a comment ("needs more information", "reject") asks for it; the reviewer's next
text message is the comment, /cancel drops it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from telegram import InlineKeyboardMarkup, InputMediaPhoto, Update
from telegram.error import BadRequest, TelegramError

from domain.access import OVERSEERS, TEAM_LEADS, Action, UnitTree
from domain.forms import FORMS
from domain.models import Report
from domain.review import (
    MAX_NOTE_LENGTH,
    NEEDS_NOTE,
    clean_note,
    note_expired,
    verdicts_for,
)
from domain.review import review as review_move
from handlers import menu
from handlers.context import BotContext, origin_of
from handlers.guard import permit
from handlers.report import answers
from handlers.report.prompts import reply_keyboard_for
from handlers.review_notices import (
    may_review,
    names_shown,
    private_answers,
    report_ref,
    verdict_notices,
    who,
)
from presentation.callbacks import OpenReport, ReviewReport, unpack
from presentation.i18n import Html
from presentation.keyboards import callback_button
from presentation.render import local_day, local_time, shorten
from storage.drafts import discard_draft
from storage.members import overseers_and_tree
from storage.review import (
    HistoryEvent,
    PendingNote,
    ReportView,
    VerdictOutcome,
    ask_note,
    drop_note,
    pending_note,
    record_verdict,
    report_view,
)

# Roles that may be waiting to type a comment: everyone else's text goes to the form.
REVIEWER_ROLES = TEAM_LEADS | OVERSEERS
# The newest events a report's screen shows, and how much of each comment.
HISTORY_SHOWN = 10
DETAIL_SHOWN = 120


# --- a report on screen ---------------------------------------------------------------


def history_lines(
    context: BotContext, history: Sequence[HistoryEvent], hidden_id: int | None = None
) -> Html:
    """The newest events, one a line; the person ``hidden_id`` (a reporter whose name the
    viewer may not see) is shown as hidden."""
    t, lang, zone = context.t, context.language, context.settings.timezone
    lines = []
    for event in history[-HISTORY_SHOWN:]:
        name = event.actor_name
        if name is not None and event.actor_id == hidden_id:
            name = t.plain(lang, "privacy.hidden")
        detail = (
            t.html(lang, "review.history_detail", text=shorten(event.detail, DETAIL_SHOWN))
            if event.detail
            else ""
        )
        lines.append(
            t.html(
                lang,
                "review.history_line",
                when=local_time(event.at, zone),
                event=t.html(lang, f"history.event.{event.event}"),
                who=who(t, lang, name, event.actor_role),
                detail=detail,
            )
        )
    return Html("\n".join(lines))


def view_text(context: BotContext, view: ReportView, tree: UnitTree) -> Html:
    """A report in full: who, where, when, its status, every answer, and its history;
    above the privacy level, without the reporter's and the people involved's names."""
    t, lang, zone = context.t, context.language, context.settings.timezone
    report = view.report
    shown = names_shown(context, context.registered_member(), tree)
    hidden = t.plain(lang, "privacy.hidden")
    reporter = view.reporter.full_name if shown else hidden
    if report.kind in FORMS:
        form = FORMS[report.kind]
        title = t.html(lang, form.title)
        data = report.data if shown else private_answers(form, report.data, hidden)
        lines = context.renderer().lines(form, data)
    else:
        title = t.html(lang, "reports.kind.nothing")
        lines = t.html(lang, "review.nothing_line", day=local_day(report.period_date))
    return t.html(
        lang,
        "review.view",
        title=title,
        number=report.id,
        urgent=t.html(lang, "my.urgent_mark") if report.urgent else "",
        reporter=who(t, lang, reporter, view.reporter.role),
        unit=view.unit_name,
        submitted=local_time(report.submitted_at, zone),
        status=t.html(lang, f"status.{report.status.value}"),
        lines=lines,
        history=history_lines(context, view.history, None if shown else view.reporter.id),
    )


def view_buttons(
    context: BotContext, view: ReportView, tree: UnitTree
) -> InlineKeyboardMarkup | None:
    """The verdicts the viewer may give on the report as it stands; None if none."""
    member = context.registered_member()
    report = view.report
    if not may_review(member, report, tree):
        return None
    verdicts = verdicts_for(report.status, report.kind)
    if not verdicts:
        return None
    buttons = [
        callback_button(
            context.t.plain(member.language, f"review.button.{verdict.value}"),
            ReviewReport(report.id, verdict).pack(),
        )
        for verdict in verdicts
    ]
    return InlineKeyboardMarkup([buttons])


async def on_open(update: Update, context: BotContext) -> None:
    """Show a report in full, then its place and photos, if the sender may see it."""
    query = update.callback_query
    assert query is not None
    member = context.registered_member()
    data = unpack(query.data)
    view = await report_view(context.db, data.report) if isinstance(data, OpenReport) else None
    if view is None:
        await query.answer(context.t.plain(member.language, "error.stale_button"))
        return
    tree, _ = await overseers_and_tree(context.db)
    if not await permit(
        update, context, Action.VIEW_REPORT, tree=tree, report=report_ref(view.report)
    ):
        return
    await query.answer()
    assert update.effective_chat is not None
    chat_id = update.effective_chat.id
    await context.bot.send_message(
        chat_id, view_text(context, view, tree), reply_markup=view_buttons(context, view, tree)
    )
    await send_attachments(context, chat_id, view.report)


async def send_attachments(context: BotContext, chat_id: int, report: Report) -> None:
    """The report's place as a pin, then its photos (an album) and images sent as files."""
    with contextlib.suppress(TelegramError):  # a courtesy after the report: never fatal
        if report.latitude is not None and report.longitude is not None:
            await context.bot.send_location(
                chat_id, latitude=report.latitude, longitude=report.longitude
            )
        pictures = [p.file_id for p in report.photos if p.kind == "photo"]
        if len(pictures) == 1:
            await context.bot.send_photo(chat_id, pictures[0])
        elif pictures:
            await context.bot.send_media_group(
                chat_id, [InputMediaPhoto(file_id) for file_id in pictures]
            )
        for document in (p.file_id for p in report.photos if p.kind == "document"):
            await context.bot.send_document(chat_id, document)


async def _refresh(
    context: BotContext, chat_id: int, message_id: int | None, report_id: int
) -> None:
    """Show a report's screen again as it now stands (its verdict buttons gone)."""
    if message_id is None:
        return
    view = await report_view(context.db, report_id)
    if view is None:
        return
    tree, _ = await overseers_and_tree(context.db)
    with contextlib.suppress(BadRequest):
        await context.bot.edit_message_text(
            view_text(context, view, tree),
            chat_id=chat_id,
            message_id=message_id,
            reply_markup=view_buttons(context, view, tree),
        )


# --- verdicts -------------------------------------------------------------------------


async def on_verdict(update: Update, context: BotContext) -> None:
    """A verdict button: verified at once; the others ask for the reviewer's comment."""
    query = update.callback_query
    assert query is not None
    member = context.registered_member()
    t, lang = context.t, member.language
    data = unpack(query.data)
    view = await report_view(context.db, data.report) if isinstance(data, ReviewReport) else None
    if view is None or not isinstance(data, ReviewReport):
        await query.answer(t.plain(lang, "error.stale_button"))
        return
    report = view.report
    tree, _ = await overseers_and_tree(context.db)
    if not await permit(
        update, context, Action.REVIEW_REPORT, tree=tree, report=report_ref(report)
    ):
        return
    assert update.effective_chat is not None
    chat_id = update.effective_chat.id
    message_id = query.message.message_id if query.message is not None else None
    if review_move(report.status, report.kind, data.verdict) is None:
        status = t.plain(lang, f"status.{report.status.value}")
        await query.answer(
            t.plain(lang, "review.not_now", number=report.id, status=status), show_alert=True
        )
        await _refresh(context, chat_id, message_id, report.id)
        return
    if data.verdict in NEEDS_NOTE:
        await ask_note(context.db, member.id, report.id, data.verdict, message_id)
        await query.answer()
        await context.bot.send_message(
            chat_id,
            t.html(
                lang,
                f"review.ask_note.{data.verdict.value}",
                number=report.id,
                limit=MAX_NOTE_LENGTH,
            ),
        )
        return
    outcome = await record_verdict(
        context.db,
        report.id,
        member,
        data.verdict,
        None,
        origin_of(update),
        verdict_notices(context.services, view, member, data.verdict, None),
    )
    if outcome is VerdictOutcome.DONE:
        await query.answer(t.plain(lang, "review.done_short.verify", number=report.id))
    elif outcome is VerdictOutcome.NOT_NOW:
        await query.answer(t.plain(lang, "review.moved_on", number=report.id), show_alert=True)
    else:
        await query.answer()
    await _refresh(context, chat_id, message_id, report.id)


async def on_message(update: Update, context: BotContext) -> None:
    """A message: a reviewer's awaited comment, or else an answer to the member's form."""
    member = context.registered_member()
    if member.role in REVIEWER_ROLES:
        note = await pending_note(context.db, member.id)
        if note is not None:
            if not note_expired(note.asked_at, context.services.clock.now()):
                await _take_note(update, context, note)
                return
            await drop_note(context.db, member.id)
    await answers.on_message(update, context)


async def _take_note(update: Update, context: BotContext, note: PendingNote) -> None:
    """The reviewer's comment: checked, then the verdict it completes is recorded."""
    member = context.registered_member()
    t, lang = context.t, member.language
    message = update.effective_message
    assert message is not None
    if message.text is None:
        await message.reply_text(t.html(lang, "review.note_text_only"))
        return
    text = clean_note(message.text)
    if text is None:
        await message.reply_text(t.html(lang, "review.note_bad", limit=MAX_NOTE_LENGTH))
        return
    view = await report_view(context.db, note.report_id)
    tree, _ = await overseers_and_tree(context.db)
    if view is None:
        await drop_note(context.db, member.id)
        await message.reply_text(t.html(lang, "review.gone"))
        return
    if not await permit(
        update, context, Action.REVIEW_REPORT, tree=tree, report=report_ref(view.report)
    ):
        await drop_note(context.db, member.id)
        return
    outcome = await record_verdict(
        context.db,
        view.report.id,
        member,
        note.verdict,
        text,
        origin_of(update),
        verdict_notices(context.services, view, member, note.verdict, text),
    )
    if outcome is VerdictOutcome.REPLAYED:
        return
    if outcome is VerdictOutcome.NOT_NOW:
        await drop_note(context.db, member.id)
        await message.reply_text(t.html(lang, "review.moved_on", number=view.report.id))
        return
    await message.reply_text(
        t.html(
            lang,
            f"review.done.{note.verdict.value}",
            number=view.report.id,
            name=view.reporter.full_name,
        )
    )
    await _refresh(context, message.chat_id, note.message_id, view.report.id)


async def cancel(update: Update, context: BotContext) -> None:
    """/cancel: drop an awaited comment first, then an edit of a sent report, then a draft."""
    member = context.registered_member()
    t, lang = context.t, member.language
    assert update.effective_message is not None
    if member.role in REVIEWER_ROLES and await pending_note(context.db, member.id) is not None:
        await drop_note(context.db, member.id)
        await update.effective_message.reply_text(t.html(lang, "review.note_cancelled"))
        return
    draft = context.draft
    if draft is not None and draft.report_id is not None:
        await discard_draft(context.db, member.id, draft.id)
        context.draft = None
        await update.effective_message.reply_text(
            t.html(lang, "own.edit_discarded", number=draft.report_id),
            reply_markup=reply_keyboard_for(context),
        )
        return
    await menu.cancel(update, context)
