"""Submitting a reopened report again: the same number and history, the new answers.

A draft with ``report_id`` reopens a sent report: returned by a reviewer for more
information, or opened by its reporter to edit within BOT_EDIT_WINDOW. Submitting it
updates that report (storage/review.py ``resubmit_draft``); the reviewer who asked is
told the answer has come, and a report that has just become urgent is alerted as a new
urgent one would be.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from telegram import Message, Update
from telegram.error import BadRequest

from domain import urgent
from domain.access import ReportRef
from domain.forms import FORMS
from domain.models import Draft, NewReport, ReportStatus
from domain.outbox import OutboxItem
from domain.routing import alert_recipients
from handlers.alerts import MORE_PURPOSE, alert_items, follow_up_items
from handlers.alerts import PURPOSE as ALERT_PURPOSE
from handlers.context import BotContext, origin_of
from handlers.review_notices import resubmitted_notices
from presentation.i18n import Html
from presentation.keyboards import close_buttons
from storage.alerts import AlertCopy
from storage.members import member_by_id, overseers_and_tree
from storage.review import FollowUps, OwnOutcome, last_verdict, report_view, resubmit_draft
from storage.units import get_unit

log = logging.getLogger(__name__)


async def resubmit(update: Update, context: BotContext, draft: Draft, report: NewReport) -> None:
    """Submit the reopened draft into its report, then tell the member how it went."""
    query = update.callback_query
    assert query is not None and draft.report_id is not None
    member = context.registered_member()
    t, lang = context.t, member.language
    view = await report_view(context.db, draft.report_id)
    items: list[OutboxItem] = []
    if view is not None and view.report.status is ReportStatus.RETURNED:
        asked = await last_verdict(context.db, view.report.id)
        reviewer = (
            await member_by_id(context.db, asked.reviewer_id)
            if asked and asked.reviewer_id
            else None
        )
        items += await resubmitted_notices(context, view, reviewer, draft.id)
    # Added to an urgent incident after its alert: a reply to everyone the alert went to
    # (made in the transaction, from what it reads); refused if rejected or withdrawn.
    follow_up = await _follow_up(context, draft) if urgent.is_follow_up(draft) else None
    newly_urgent = view is not None and report.urgent and not view.report.urgent
    if view is not None and newly_urgent:
        tree, overseers = await overseers_and_tree(context.db)
        about = ReportRef(member.id, view.report.unit_code, ReportStatus.SUBMITTED)
        unit = await get_unit(context.db, view.report.unit_code)
        if unit is not None:
            items += alert_items(
                context.services, view.report.id, draft.data, member, unit,
                view.report.submitted_at, alert_recipients(tree, about, overseers), tree=tree,
            )  # fmt: skip

    def announcements(report_id: int) -> Sequence[OutboxItem]:
        return items

    result = await resubmit_draft(
        context.db, draft, member, report, context.settings.edit_window, origin_of(update),
        announcements, follow_up=follow_up,
    )  # fmt: skip
    number = result.report_id
    if result.outcome is OwnOutcome.REPLAYED:
        await query.answer(t.plain(lang, "report.already_submitted", number=number))
        return
    if result.outcome is OwnOutcome.GONE or number is None:
        await query.answer(t.plain(lang, "error.stale_button"))
        return
    context.draft = None
    if result.outcome is OwnOutcome.REFUSED:
        reason = t.plain(lang, result.reason or "own.closed", number=number)
        await query.answer(reason, show_alert=True)
        await close_buttons(query.message)
        await context.bot.send_message(
            query.message.chat.id if query.message else member.chat_id,
            t.html(lang, "own.resubmit_refused", number=number, reason=reason),
        )
        return
    await query.answer()
    if newly_urgent:
        try:
            await context.services.outbox.send_for_report(context.bot, number, ALERT_PURPOSE)
        except sqlite3.Error:
            log.warning("alerts for report %s: outcome not recorded", number, exc_info=True)
    key = "own.resubmitted" if result.event == "resubmitted" else "own.edited"
    if follow_up is not None and result.followed_up:
        key = "urgent.more_sent"
        await _send_follow_up(context, number)
    elif (
        follow_up is not None
        and view is not None
        and urgent.added(FORMS[draft.kind], view.report.data, draft.data)
    ):
        key = "urgent.more_saved"  # the alert reached nobody yet: it will carry them
    elif follow_up is not None:
        key = "urgent.more_nothing"
    confirmation = t.html(lang, key, number=number)
    if isinstance(query.message, Message):
        summary = context.renderer().summary(FORMS[draft.kind], draft.data, "summary.sent")
        with contextlib.suppress(BadRequest):
            await query.message.edit_text(Html(f"{summary}\n\n{confirmation}"))
            return
    await context.bot.send_message(member.chat_id, confirmation)


async def _follow_up(context: BotContext, draft: Draft) -> FollowUps:
    """What an urgent incident's follow-up announces, made in the transaction that sends
    it: a reply under each alert copy, with what the draft adds to the report."""
    assert draft.report_id is not None
    report_id, after = draft.report_id, draft.data
    tree, _ = await overseers_and_tree(context.db)
    services = context.services

    def replies(before: Mapping[str, Any], copies: Sequence[AlertCopy]) -> list[OutboxItem]:
        return follow_up_items(services, report_id, before, after, copies, tree, draft.id)

    return replies


async def _send_follow_up(context: BotContext, report_id: int) -> int:
    """Send a follow-up's replies now; how many went (the drain retries the rest)."""
    try:
        return await context.services.outbox.send_for_report(
            context.bot, report_id, MORE_PURPOSE, only={MORE_PURPOSE}
        )
    except sqlite3.Error:
        log.warning("follow-up of report %s: sending left to the drain", report_id,
                    exc_info=True)  # fmt: skip
        return 0
