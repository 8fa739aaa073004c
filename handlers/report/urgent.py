"""🆘 Báo khẩn: an urgent incident reaches the supervisors after three answers.

The member taps "🆘 Báo khẩn" (or /urgent) and answers the category, the place and one
line of what is happening. That answer submits the report and sends its alert in the
transaction that takes it (``alert_now``): a restart can lose neither. The member is
told who was alerted, with the emergency numbers, and the rest of the incident form
follows on a draft that reopens the report. What it adds reaches everyone the alert
went to as a reply under their copy (handlers/report/resubmit.py).
"""

from __future__ import annotations

from dataclasses import replace

from telegram import Update

from domain import urgent
from domain.access import Action
from domain.flow import Change
from domain.forms import INCIDENT
from domain.models import Draft
from domain.reporting import new_report
from handlers.context import BotContext, origin_of
from handlers.guard import permit
from handlers.menu import ask_over_open_draft
from handlers.report.prompts import send_prompt
from handlers.report.resume import chat_of, load_draft, say_discarded
from handlers.report.submit import announce, confirm
from presentation.i18n import Html
from storage.drafts import draft_for, start_draft
from storage.reports import SubmitOutcome, submit_draft

# The report kind an urgent-first report is; ReplaceDraft names the start this way.
URGENT_START = "urgent"


async def start_urgent(update: Update, context: BotContext) -> None:
    """Begin an urgent report: the category question, under a line saying what follows."""
    if not await permit(update, context, Action.REPORT):
        return
    member = context.registered_member()
    chat_id = chat_of(update)
    t, lang = context.t, member.language
    draft = await load_draft(context, chat_id)
    if draft is not None and urgent.is_urgent_first(draft.data) and draft.report_id is None:
        # Tapped again on the way: the same urgent report, where it was.
        await send_prompt(context, chat_id, draft, answered=t.html(lang, "urgent.resume"))
        return
    if draft is not None:  # another report is open: never thrown away without asking
        await ask_over_open_draft(update, context, draft, URGENT_START)
        return
    await begin_urgent(update, context)


async def begin_urgent(
    update: Update, context: BotContext, *, replacing: Draft | None = None
) -> None:
    """Start the urgent draft (dated now, marked urgent) and ask its first question;
    ``replacing``: the open draft the member chose to drop for it, in the same write."""
    member = context.registered_member()
    t, lang = context.t, member.language
    data = urgent.start_data(context.services.clock.now())
    started = await start_draft(
        context.db, member.id, INCIDENT.kind, INCIDENT.first_step(), origin_of(update), data,
        replacing=replacing.id if replacing else None,
    )  # fmt: skip
    if started is None:
        return  # a replayed tap: it was answered the first time
    context.draft = started
    if replacing is not None:
        await say_discarded(context, chat_of(update), replacing)
    await send_prompt(context, chat_of(update), started, answered=t.html(lang, "urgent.intro"))


async def alert_now(update: Update, context: BotContext, draft: Draft, change: Change) -> None:
    """The answer that completes what the alert needs: submit the report with it, alert,
    and go on to the rest of the form, in one message."""
    member = context.registered_member()
    t, lang = context.t, member.language
    answered = replace(draft, data=change.data)
    report = new_report(INCIDENT, answered.data, context.settings.timezone)
    announcements, reach = await announce(context, answered, report)
    then = (urgent.follow_up_step(INCIDENT, answered.data), dict(answered.data))
    result = await submit_draft(
        context.db, draft.id, member, report, origin_of(update), announcements, then
    )
    if result.outcome is not SubmitOutcome.SUBMITTED or result.report_id is None:
        return  # a replay, or a second copy of the answer: the first one was answered
    context.draft = await draft_for(context.db, member.id)
    confirmation = await confirm(context, result.report_id, reach)
    if context.draft is None:
        await context.bot.send_message(chat_of(update), confirmation)
        return
    more = t.html(lang, "urgent.more", number=result.report_id)
    await send_prompt(
        context, chat_of(update), context.draft, answered=Html(f"{confirmation}\n\n{more}")
    )
