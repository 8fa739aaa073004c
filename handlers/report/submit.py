"""Submitting a finished draft: the report, its urgent alerts, the member's confirmation."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from telegram import Message, Update
from telegram.error import BadRequest

from domain import flow
from domain.access import ReportRef
from domain.forms import FORMS, Form
from domain.models import Draft, NewReport, ReportStatus, Role
from domain.outbox import OutboxItem
from domain.reporting import new_report
from domain.routing import alert_recipients
from handlers.alerts import Reach, alert_items, tell_reporter
from handlers.context import BotContext, origin_of
from handlers.duplicates import offer_duplicates, offered
from handlers.report.prompts import send_prompt
from handlers.report.resubmit import resubmit
from handlers.report.resume import chat_of
from handlers.review_notices import new_report_notices
from presentation.callbacks import SameIncident, unpack
from presentation.i18n import Html
from presentation.keyboards import main_keyboard
from storage.drafts import save_draft_step
from storage.duplicates import link_report
from storage.members import overseers_and_tree
from storage.reports import Announcements, SubmitOutcome, report_id_for_draft, submit_draft
from storage.units import get_unit


async def submit(
    update: Update,
    context: BotContext,
    draft: Draft,
    form: Form,
    *,
    checked: bool = False,
    same_as: int | None = None,
) -> None:
    """Save the report, alert supervisors if urgent, then tell the member its number.

    An incident is first checked for possible duplicates (handlers/duplicates.py), unless
    the member has just answered that question (``checked``); ``same_as`` is the earlier
    report they said it is the same incident as.
    """
    query = update.callback_query
    assert query is not None
    member = context.registered_member()
    t, lang = context.t, member.language
    if (change := flow.ready_to_submit(form, draft)) is not None:
        await query.answer(t.plain(lang, "error.required"), show_alert=True)
        _, context.draft = await save_draft_step(context.db, draft, change, None)
        await send_prompt(context, chat_of(update), context.draft)
        return
    report = new_report(form, draft.data, context.settings.timezone)
    if draft.report_id is not None:  # a sent report, reopened: it keeps its number
        await resubmit(update, context, draft, report)
        return
    # An urgent incident is not held up by the question: its alert matters more.
    if (
        not checked
        and not report.urgent
        and draft.report_id is None
        and await offer_duplicates(update, context, draft, report)
    ):
        return
    announcements, reach = await announce(context, draft, report)
    result = await submit_draft(
        context.db, draft.id, member, report, origin_of(update), announcements
    )
    if result.outcome is SubmitOutcome.ALREADY_SUBMITTED:
        await query.answer(t.plain(lang, "report.already_submitted", number=result.report_id))
        return
    if result.outcome is SubmitOutcome.GONE or result.report_id is None:
        await query.answer(t.plain(lang, "error.stale_button"))
        return
    context.draft = None
    await query.answer()
    confirmation = await confirm(context, result.report_id, reach)
    if same_as is not None:
        await link_report(context.db, result.report_id, same_as, member.id)
        confirmation = Html(f"{confirmation}\n{t.html(lang, 'duplicate.linked', number=same_as)}")
    # The summary becomes the confirmation, its buttons gone: one call, not two. The
    # menu under the chat is persistent, so no new message is needed to bring it back.
    if isinstance(query.message, Message):
        summary = context.renderer().summary(form, draft.data, "summary.sent")
        with contextlib.suppress(BadRequest):
            await query.message.edit_text(Html(f"{summary}\n\n{confirmation}"))
            return
    await context.bot.send_message(
        chat_of(update),
        confirmation,
        reply_markup=main_keyboard(t, lang, context.registered_member().role),
    )


async def announce(
    context: BotContext, draft: Draft, report: NewReport
) -> tuple[Announcements, Reach]:
    """What submitting the report announces (urgent alerts, or notices to those who asked
    to be told of each new report), and who an alert is meant for."""
    member = context.registered_member()
    if not report.urgent:
        return await new_report_notices(context, member, report), Reach.NOT_URGENT
    tree, overseers = await overseers_and_tree(context.db)
    about = ReportRef(member.id, member.unit_code, ReportStatus.SUBMITTED)
    recipients = alert_recipients(tree, about, overseers)
    unit = await get_unit(context.db, member.unit_code)
    assert unit is not None
    submitted = context.services.clock.now()
    if not recipients:
        reach = Reach.NOBODY
    elif all(recipient.role is Role.ADMIN for recipient in recipients):
        reach = Reach.ADMINS
    else:
        reach = Reach.SUPERVISORS

    def announcements(report_id: int) -> Sequence[OutboxItem]:
        return alert_items(
            context.services, report_id, draft.data, member, unit, submitted, recipients,
            tree=tree,
        )  # fmt: skip

    return announcements, reach


async def confirm(context: BotContext, report_id: int, reach: Reach) -> Html:
    """The member's confirmation: the report's number, and for an urgent one what came of
    its alert (handlers/alerts.py ``tell_reporter``)."""
    if reach is Reach.NOT_URGENT:
        return context.t.html(context.registered_member().language, "report.submitted",
                              number=report_id)  # fmt: skip
    return await tell_reporter(context, report_id, reach)


async def submit_again(update: Update, context: BotContext, draft_id: int) -> None:
    """A second tap on Submit: say which report the first tap made."""
    query = update.callback_query
    assert query is not None
    member = context.registered_member()
    report_id = await report_id_for_draft(context.db, draft_id, member.id)
    if report_id is None:
        await query.answer(context.t.plain(member.language, "error.stale_button"), show_alert=True)
    else:
        await query.answer(
            context.t.plain(member.language, "report.already_submitted", number=report_id)
        )


async def on_same_incident(update: Update, context: BotContext) -> None:
    """The answer to "the same incident?": the same as report N, or a different one;
    either way the draft is then submitted."""
    query = update.callback_query
    assert query is not None
    data = unpack(query.data)
    member = context.registered_member()
    draft = context.draft
    if (
        not isinstance(data, SameIncident)
        or draft is None
        or draft.id != data.draft_id
        or draft.kind not in FORMS
    ):
        await query.answer(context.t.plain(member.language, "error.stale_button"))
        return
    same_as = data.report or None
    # Button data is never trusted: the report must be one that is offered now.
    if same_as is not None and same_as not in await offered(context, draft):
        await query.answer(context.t.plain(member.language, "error.stale_button"))
        return
    with contextlib.suppress(BadRequest):
        await query.edit_message_reply_markup(None)
    await submit(update, context, draft, FORMS[draft.kind], checked=True, same_as=same_as)
