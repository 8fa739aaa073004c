"""Possible duplicates, asked before an incident is submitted (domain/duplicates.py).

The member sees recent open incidents of the same category nearby or in the same unit (no
names, no descriptions: only the number, the time and how near), and says whether theirs
is one of them. Either way their report is submitted; a same one is linked to the other.
"""

from __future__ import annotations

import math

from telegram import InlineKeyboardMarkup, Update

from domain.duplicates import Candidate, Reporting, distance, possible_duplicates
from domain.forms import FORMS
from domain.models import Draft, NewReport
from domain.reporting import new_report
from handlers.context import BotContext
from presentation.callbacks import SameIncident
from presentation.i18n import Html
from presentation.keyboards import callback_button
from presentation.render import catalogue_name
from storage.duplicates import recent_open_incidents


async def offered(context: BotContext, draft: Draft) -> set[int]:
    """The reports the member may say theirs is the same as, right now."""
    report = new_report(FORMS[draft.kind], draft.data, context.settings.timezone)
    return {c.report_id for c in await _candidates(context, draft, report)}


async def _candidates(context: BotContext, draft: Draft, report: NewReport) -> list[Candidate]:
    member = context.registered_member()
    now = context.services.clock.now()
    recent = await recent_open_incidents(context.db, report.category_code, now)
    # Their own earlier report of this draft's incident is not a "someone else" report,
    # but a member filing twice is just what this catches: it is kept.
    new = Reporting(member.unit_code, report.category_code, report.latitude, report.longitude)
    return possible_duplicates(new, recent, now)


async def offer_duplicates(
    update: Update, context: BotContext, draft: Draft, report: NewReport
) -> bool:
    """Show possible duplicates of an incident about to be submitted; True if shown (the
    submit then waits for the member's answer)."""
    if report.kind != "incident":
        return False
    found = await _candidates(context, draft, report)
    if not found:
        return False
    query = update.callback_query
    assert query is not None
    member = context.registered_member()
    t, lang, zone = context.t, member.language, context.settings.timezone
    new = Reporting(member.unit_code, report.category_code, report.latitude, report.longitude)
    category = catalogue_name(context.services.items("incident"), report.category_code, lang)
    lines = []
    for old in found:
        metres = distance(new, old)
        where = (
            t.plain(lang, "duplicate.near", metres=_round(metres))
            if metres is not None and not math.isinf(metres)
            else t.plain(lang, "duplicate.same_unit")
        )
        when = old.submitted_at.astimezone(zone).strftime("%H:%M %d/%m")
        lines.append(t.html(lang, "duplicate.line", number=old.report_id, when=when, where=where))
    buttons = [
        [callback_button(t.plain(lang, "duplicate.same", number=old.report_id),
                         SameIncident(draft.id, old.report_id).pack())]
        for old in found
    ]  # fmt: skip
    buttons.append(
        [callback_button(t.plain(lang, "duplicate.different"), SameIncident(draft.id, 0).pack())]
    )
    await query.answer()
    text = t.html(lang, "duplicate.ask", category=category, lines=Html("\n".join(lines)))
    assert update.effective_chat is not None
    await context.bot.send_message(
        update.effective_chat.id, text, reply_markup=InlineKeyboardMarkup(buttons)
    )
    return True


def _round(metres: float) -> int:
    return max(10, int(round(metres / 10.0) * 10))
