"""An urgent alert's buttons: "✅ Tiếp nhận" (acknowledge) and "Đã xử lý" (resolve).

Button data is never trusted: every tap loads the report and asks the access rules
(``ACKNOWLEDGE_ALERT``, ``RESOLVE_ALERT``) before anything changes, so a forged button for
another commune's report is refused. The change itself is one conditional UPDATE
(storage/alerts.py): of a double tap, or two supervisors at once, exactly one takes it;
the others are told who has it.

Resolving is for the supervisor who took the alert on, an admin, or a supervisor of a
unit above theirs (domain/alerts.py ``may_resolve``); it needs the alert acknowledged.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3

from telegram import Message, Update
from telegram.error import BadRequest

from domain.access import Action, Actor, ReportRef, UnitTree
from domain.alerts import may_resolve
from domain.models import AlertState, Member, Report
from handlers.alerts import (
    EDIT_PURPOSE,
    UPDATE_PURPOSE,
    announcements,
    current_view,
    edit_key,
    unit_names,
)
from handlers.context import BotContext, origin_of
from handlers.guard import permit
from presentation.callbacks import AcknowledgeAlert, ResolveAlert, unpack
from presentation.keyboards import inline_markup
from presentation.render import local_time, shorten
from storage.alerts import (
    AlertChange,
    AlertProgress,
    Change,
    alert_copy,
    alert_progress,
    change_alert,
)
from storage.members import member_by_id, overseers_and_tree
from storage.outbox import sent_message_id
from storage.reports import get_report

log = logging.getLogger(__name__)

# Names in a pop-up are cut: Telegram's pop-up holds 200 characters.
POP_UP_NAME = 40


def is_alert_button(data: object) -> bool:
    """Whether a button's data is an urgent alert's."""
    return AcknowledgeAlert.matches(data) or ResolveAlert.matches(data)


async def on_button(update: Update, context: BotContext) -> None:
    """Acknowledge or resolve an urgent alert, after checking who asks, again."""
    query = update.callback_query
    assert query is not None
    member = context.registered_member()
    t, lang = context.t, member.language
    data = unpack(query.data)
    if not isinstance(data, AcknowledgeAlert | ResolveAlert):
        await query.answer(t.plain(lang, "error.stale_button"), show_alert=True)
        return
    report = await get_report(context.db, data.report)
    if report is None or not report.urgent or report.alert_state is None:
        await query.answer(t.plain(lang, "error.stale_button"), show_alert=True)
        return
    tree, _ = await overseers_and_tree(context.db)
    about = ReportRef(report.member_id, report.unit_code, report.status)
    if isinstance(data, AcknowledgeAlert):
        if await permit(update, context, Action.ACKNOWLEDGE_ALERT, tree=tree, report=about):
            await _acknowledge(update, context, report, tree)
    elif await permit(update, context, Action.RESOLVE_ALERT, tree=tree, report=about):
        await _resolve(update, context, report, tree)


async def _acknowledge(update: Update, context: BotContext, report: Report, tree: UnitTree) -> None:
    query = update.callback_query
    assert query is not None
    member = context.registered_member()
    t, lang = context.t, member.language
    change = await _change(update, context, report, tree, AlertState.ACKNOWLEDGED)
    if change.outcome is Change.DONE:
        await query.answer(t.plain(lang, "alert.acknowledged", number=report.id))
        await _announce(context, report.id)
        return
    progress = change.progress
    by = progress.acknowledged_by
    if change.outcome is Change.GONE or by is None or progress.acknowledged_at is None:
        await query.answer(t.plain(lang, "error.stale_button"), show_alert=True)
        return
    if by.id == member.id:
        await query.answer(t.plain(lang, "alert.already_yours", number=report.id))
    else:
        await query.answer(
            t.plain(
                lang, "alert.taken_by", number=report.id, name=shorten(by.full_name, POP_UP_NAME),
                time=local_time(progress.acknowledged_at, context.settings.timezone),
            ),
            show_alert=True,
        )  # fmt: skip
    await _show_as_it_is(update, context, report.id)


async def _resolve(update: Update, context: BotContext, report: Report, tree: UnitTree) -> None:
    query = update.callback_query
    assert query is not None
    member = context.registered_member()
    t, lang = context.t, member.language
    progress = await alert_progress(context.db, report.id)
    if progress is None or progress.state is None:
        await query.answer(t.plain(lang, "error.stale_button"), show_alert=True)
        return
    if progress.state is AlertState.OPEN:
        await query.answer(t.plain(lang, "alert.not_acknowledged"), show_alert=True)
        return
    if progress.state is AlertState.RESOLVED:
        await _already_resolved(update, context, report.id, progress)
        return
    acknowledger = progress.acknowledged_by
    if acknowledger is None or not may_resolve(
        Actor.of(member, active=member.active),
        Actor.of(acknowledger, active=acknowledger.active),
        tree,
    ):
        name = shorten(acknowledger.full_name, POP_UP_NAME) if acknowledger else ""
        await query.answer(t.plain(lang, "alert.resolve_not_yours", name=name), show_alert=True)
        return
    change = await _change(update, context, report, tree, AlertState.RESOLVED)
    if change.outcome is Change.DONE:
        await query.answer(t.plain(lang, "alert.resolved", number=report.id))
        await _announce(context, report.id)
    else:
        await _already_resolved(update, context, report.id, change.progress)


async def _already_resolved(
    update: Update, context: BotContext, report_id: int, progress: AlertProgress
) -> None:
    query = update.callback_query
    assert query is not None
    t, lang = context.t, context.registered_member().language
    by, at = progress.resolved_by, progress.resolved_at
    if by is None or at is None:
        await query.answer(t.plain(lang, "error.stale_button"), show_alert=True)
        return
    await query.answer(
        t.plain(
            lang, "alert.already_resolved", number=report_id,
            name=shorten(by.full_name, POP_UP_NAME),
            time=local_time(at, context.settings.timezone),
        ),
        show_alert=True,
    )  # fmt: skip
    await _show_as_it_is(update, context, report_id)


async def _change(
    update: Update, context: BotContext, report: Report, tree: UnitTree, to: AlertState
) -> AlertChange:
    member = context.registered_member()
    reporter = await member_by_id(context.db, report.member_id)
    if reporter is None:
        return AlertChange(Change.GONE, AlertProgress(None))
    names = await unit_names(context.services)
    services = context.services
    return await change_alert(
        context.db,
        report.id,
        member.id,
        to,
        origin_of(update),
        lambda progress, copies: announcements(
            services, report, reporter, progress, copies, tree, names
        ),
    )


async def _announce(context: BotContext, report_id: int) -> None:
    """Send the copies' edits and the reporter's notice now; the drain sees to any left."""
    try:
        await context.services.outbox.send_for_report(
            context.bot, report_id, EDIT_PURPOSE, only={EDIT_PURPOSE, UPDATE_PURPOSE}
        )
    except sqlite3.Error:
        log.warning("alert %s: edits left to the drain", report_id, exc_info=True)


async def _show_as_it_is(update: Update, context: BotContext, report_id: int) -> None:
    """A tap on a copy that still shows old buttons (an edit lost, or still on its way):
    bring that copy up to date."""
    query = update.callback_query
    member: Member = context.registered_member()
    message = query.message if query is not None else None
    if not isinstance(message, Message):
        return
    copy = await alert_copy(context.db, report_id, member.id)
    if copy is None or copy.payload is None or copy.message_id != message.message_id:
        return
    progress = await alert_progress(context.db, report_id)
    if progress is None or progress.state is None:
        return
    if await sent_message_id(context.db, edit_key(report_id, member.id, progress.state)):
        return  # already edited to say so: the tap was on a screen older than the edit
    view = await current_view(context.services, report_id, copy.payload, member)
    with contextlib.suppress(BadRequest):
        await message.edit_text(view.text, reply_markup=inline_markup(view.buttons))
