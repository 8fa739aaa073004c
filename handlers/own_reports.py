"""A member's own reports: edit or withdraw one just sent, or answer a reviewer's question.

From /my's buttons. Within BOT_EDIT_WINDOW of sending it, and while no reviewer has given
a verdict on it, a member may reopen their report as a draft (resubmitting keeps its
number and history) or withdraw it, after confirming. A report returned for more
information is reopened the same way, whatever the time. After that, only a review
changes it. The buttons are never trusted: each tap asks the access rules, and the
report's state is checked again in the transaction that makes the change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from domain.access import Action, ReportRef
from domain.catalogue import MAX_SHORT_LABEL
from domain.forms import ACTIVITY
from domain.models import Report
from domain.review import OwnChange, OwnReport, own_change
from domain.values import Duration, decode
from handlers.context import BotContext, origin_of
from handlers.guard import permit
from handlers.report.prompts import send_prompt
from handlers.reports_list import show
from presentation.callbacks import EditOwnReport, WithdrawOwnReport, WithdrawStep, unpack
from presentation.i18n import Html
from presentation.keyboards import callback_button, close_buttons
from presentation.render import FormRenderer
from storage.reports import get_report
from storage.review import (
    OwnOutcome,
    check_own_change,
    reopen_report,
    reviewed_among,
    withdraw_report,
)

# Punctuation that would dangle before the "…" of a shortened label.
_TRAILING = " ,;:.-–/"


def cut_at_word(text: str, limit: int = MAX_SHORT_LABEL) -> str:
    """The text if it fits in ``limit`` characters, else its first words and "…".

    Never cuts a word: a first word longer than the limit is kept whole.
    """
    if len(text) <= limit:
        return text
    room = limit - 1  # the "…" takes one
    boundary = text.rfind(" ", 0, room + 1)
    if boundary <= 0:
        first = text.split(" ", 1)[0]
        return first if first == text else first.rstrip(_TRAILING) + "…"
    return text[:boundary].rstrip(_TRAILING) + "…"


def _label(renderer: FormRenderer, report: Report) -> str:
    """The report's category or activity type as a button calls it, whole words only."""
    items = renderer.catalogues.get(report.kind, ())
    item = next((i for i in items if i.code == report.category_code), None)
    label = item.short(renderer.language) if item else (report.category_code or "")
    return cut_at_word(label)


def _activity_start(report: Report) -> time | None:
    """When the activity began, if the member gave a time span; None for only a duration."""
    span = ACTIVITY.field("span")
    assert span is not None
    duration = decode(span, report.data.get("span"))
    if isinstance(duration, Duration) and duration.span:
        return time.fromisoformat(duration.span[:5])
    return None


def own_line(renderer: FormRenderer, report: Report) -> Html:
    """One compact line of /my, e.g. "#5 · Tuần tra · 28/11 · 2 giờ · 3 người · ⏳ …".

    A time of day only where the member gave one: an activity reported with a day and a
    duration has a date and nothing more.
    """
    t, lang = renderer.t, renderer.language
    if report.kind == "nothing":
        return t.html(
            lang,
            "own.line_nothing",
            number=report.id,
            day=f"{report.period_date:%d/%m}",
            status=t.html(lang, f"status.{report.status.value}"),
        )
    status = t.html(lang, f"own.status.{report.status.value}")
    if report.kind == ACTIVITY.kind:
        start = _activity_start(report)
        return t.html(
            lang,
            "own.line_activity",
            number=report.id,
            label=_label(renderer, report),
            when=(
                f"{start:%H:%M} {report.period_date:%d/%m}"
                if start is not None
                else f"{report.period_date:%d/%m}"
            ),
            duration=renderer.duration(report.duration_minutes or 0),
            people=t.html(lang, "value.count", count=report.participants or 0),
            status=status,
        )
    return t.html(
        lang,
        "own.line_incident",
        number=report.id,
        urgent=t.html(lang, "my.urgent_mark") if report.urgent else "",
        label=_label(renderer, report),
        when=f"{report.occurred_at.astimezone(renderer.zone):%H:%M %d/%m}",
        status=status,
    )


async def own_buttons(
    context: BotContext, reports: Sequence[Report]
) -> InlineKeyboardMarkup | None:
    """A row per report the member may still change: edit, withdraw, or answer a review."""
    member = context.registered_member()
    t, lang = context.t, member.language
    now, window = context.services.clock.now(), context.settings.edit_window
    reviewed = await reviewed_among(context.db, [r.id for r in reports])
    rows: list[list[InlineKeyboardButton]] = []
    for report in reports:
        facts = OwnReport(report.kind, report.status, report.submitted_at, report.id in reviewed)
        row = []
        if own_change(OwnChange.EDIT, facts, now, window) is None:
            key = "own.button.answer" if report.status == "returned" else "own.button.edit"
            row.append(
                callback_button(
                    t.plain(lang, key, number=report.id), EditOwnReport(report.id).pack()
                )
            )
        if own_change(OwnChange.WITHDRAW, facts, now, window) is None:
            data = WithdrawOwnReport(report.id, WithdrawStep.ASK).pack()
            row.append(
                callback_button(t.plain(lang, "own.button.withdraw", number=report.id), data)
            )
        if row:
            rows.append(row)
    return InlineKeyboardMarkup(rows) if rows else None


async def _permitted(update: Update, context: BotContext, report_id: int, action: Action) -> bool:
    """Whether the report is the sender's to change, as the access rules say; told if not."""
    report = await get_report(context.db, report_id)
    if report is None:
        query = update.callback_query
        assert query is not None
        await query.answer(context.t.plain(context.language, "error.stale_button"))
        return False
    ref = ReportRef(report.member_id, report.unit_code, report.status)
    return await permit(update, context, action, report=ref)


async def on_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    data = unpack(query.data)
    if isinstance(data, EditOwnReport):
        await _edit(update, context, data.report)
    elif isinstance(data, WithdrawOwnReport):
        await _withdraw(update, context, data.report, data.step)
    else:
        await query.answer(context.t.plain(context.language, "error.stale_button"))


async def _edit(update: Update, context: BotContext, report_id: int) -> None:
    """Reopen the report as a draft on its summary, with the reviewer's question if any."""
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    member = context.registered_member()
    t, lang = context.t, member.language
    if not await _permitted(update, context, report_id, Action.EDIT_OWN_REPORT):
        return
    result = await reopen_report(
        context.db, member.id, report_id, context.settings.edit_window, origin_of(update)
    )
    if result.outcome is OwnOutcome.REFUSED and result.reason is not None:
        await query.answer(t.plain(lang, result.reason, number=report_id), show_alert=True)
        return
    if result.outcome is not OwnOutcome.DONE or result.draft is None:
        await query.answer()
        return
    context.draft = result.draft
    await query.answer()
    chat_id = update.effective_chat.id
    comment = result.comment
    if comment is not None and comment.detail:
        await context.bot.send_message(
            chat_id,
            t.html(
                lang,
                "own.review_comment",
                number=report_id,
                reviewer=comment.reviewer_name or "",
                note=comment.detail,
            ),
        )
    await send_prompt(context, chat_id, result.draft)


async def _withdraw(
    update: Update, context: BotContext, report_id: int, step: WithdrawStep
) -> None:
    """Ask first; withdraw only on the confirmation, the rules checked again then."""
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    member = context.registered_member()
    t, lang = context.t, member.language
    if not await _permitted(update, context, report_id, Action.WITHDRAW_OWN_REPORT):
        return
    if step is WithdrawStep.NO:
        await query.answer()
        kept = t.html(lang, "own.withdraw_kept", number=report_id)
        await show(context, query.message, kept, None)
        return
    window = context.settings.edit_window
    if step is WithdrawStep.ASK:
        checked = await check_own_change(
            context.db, member.id, report_id, OwnChange.WITHDRAW, window
        )
        if checked.outcome is not OwnOutcome.DONE:
            reason = checked.reason or "error.stale_button"
            await query.answer(t.plain(lang, reason, number=report_id), show_alert=True)
            return
        await query.answer()
        buttons = [
            callback_button(
                t.plain(lang, "own.button.withdraw_yes"),
                WithdrawOwnReport(report_id, WithdrawStep.YES).pack(),
            ),
            callback_button(
                t.plain(lang, "own.button.withdraw_no"),
                WithdrawOwnReport(report_id, WithdrawStep.NO).pack(),
            ),
        ]
        await context.bot.send_message(
            update.effective_chat.id,
            t.html(lang, "own.withdraw_ask", number=report_id),
            reply_markup=InlineKeyboardMarkup([buttons]),
        )
        return
    result = await withdraw_report(context.db, member.id, report_id, window, origin_of(update))
    if result.outcome is OwnOutcome.DONE:
        await query.answer()
        if context.draft is not None and context.draft.report_id == report_id:
            context.draft = None  # the edit open on it went with it
        await show(context, query.message, t.html(lang, "own.withdrawn", number=report_id), None)
    elif result.outcome is OwnOutcome.REFUSED and result.reason is not None:
        await query.answer(t.plain(lang, result.reason, number=report_id), show_alert=True)
        await close_buttons(query.message)
    else:
        await query.answer()


def is_own_button(data: object) -> bool:
    """Whether a button's data is /my's: edit, or withdraw, one's own report."""
    return isinstance(unpack(data), EditOwnReport | WithdrawOwnReport)
