"""Deadline reminders and overdue lists: a job that turns rules into outbox messages.

Every minute the rules are read afresh (a rule added or removed from the command line
takes effect within a minute) and each rule's periods are looked at. A reminder goes to
each covered member who has not met the rule, at each offset before the due time, and
only then: one the bot was down for is skipped, as it would come too late to help. When
a period ends, its overdue list goes to the nearest supervisors up the tree, once,
whenever the bot first sees it (after downtime too). The outbox's keys make every one of
these a message sent once, however often the job runs.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime, timedelta

from telegram import Update

from domain.access import Action, Actor, ReportRef, UnitTree, visible_units
from domain.deadlines import (
    ReportKind,
    Rule,
    Window,
    last_due,
    reminder_moments,
    skipped,
    window_ending,
    window_of,
)
from domain.forms import FORMS
from domain.models import Member
from domain.outbox import CallbackButton, OutboxItem, Payload
from domain.privacy import name_or_hidden, names_shown_to
from domain.routing import nearest_recipients
from handlers.context import BotContext, Services
from handlers.guard import permit
from handlers.menu import nothing_to_report, start_report
from presentation.callbacks import NothingToday, StartReport, unpack
from presentation.i18n import Html
from presentation.keyboards import MENU_ACTIVITY, MENU_INCIDENT, MENU_NOTHING
from presentation.render import local_day, local_time
from storage.deadlines import Standing, active_rules, standings
from storage.holidays import holiday_days
from storage.members import overseers_and_tree
from storage.outbox import enqueue
from storage.units import all_units

log = logging.getLogger(__name__)

# A reminder is sent within this long of its moment, or not at all (the bot was down).
REMINDER_GRACE = timedelta(minutes=5)
# An overdue list names at most this many members; the rest are counted.
OVERDUE_SHOWN = 40


async def tick(context: BotContext) -> None:
    """Job: queue the reminders and overdue lists that are due now."""
    queued = await queue_deadline_messages(context.services)
    if queued:
        log.info("queued %d deadline message(s)", queued)


async def queue_deadline_messages(services: Services) -> int:
    """Queue every reminder and overdue list due now; returns how many were new."""
    rules = await active_rules(services.db)
    if not rules:
        return 0
    tree, overseers = await overseers_and_tree(services.db)
    names = {unit.code: unit.name for unit in await all_units(services.db)}
    now = services.clock.now()
    items: list[OutboxItem] = []
    for rule in rules:
        if rule.unit_code in tree:
            items += await _messages_for(services, rule, tree, overseers, names, now)
    return await enqueue(services.db, items) if items else 0


async def _messages_for(
    services: Services,
    rule: Rule,
    tree: UnitTree,
    overseers: Sequence[Member],
    names: Mapping[str, str],
    now: datetime,
) -> list[OutboxItem]:
    zone = services.settings.timezone
    units = tree.subtree(rule.unit_code)
    current = window_of(rule, now, zone)
    ended = window_ending(rule, last_due(rule, now, zone), zone)
    holidays = await holiday_days(services.db, ended.due_day, current.due_day)
    items: list[OutboxItem] = []
    if not skipped(current, holidays):
        moments = [m for m in reminder_moments(rule, current) if m <= now < m + REMINDER_GRACE]
        if moments:
            stands = await standings(
                services.db, units, current.start, current.due, current.due_day
            )
            for moment in moments:
                for standing in _owing(rule, stands):
                    items.append(_reminder(services, rule, current, moment, standing))
    if late := await _late(services, rule, units, ended, holidays):
        items += _overdue_lists(services, rule, ended, late, tree, overseers, names)
    return items


async def _late(
    services: Services,
    rule: Rule,
    units: Collection[str],
    window: Window,
    holidays: frozenset[date],
) -> list[Standing]:
    """Members of these units who missed a period that has ended (none if it was skipped,
    or due before the rule was set)."""
    if skipped(window, holidays) or (rule.since is not None and rule.since >= window.due):
        return []
    stands = await standings(services.db, units, window.start, window.due, window.due_day)
    return _owing(rule, stands)


def _owing(rule: Rule, stands: Sequence[Standing]) -> list[Standing]:
    """Members who have not met the rule in the period; a member on leave owes nothing."""
    return [s for s in stands if not s.on_leave and rule.met(s.counts) < rule.needed]


def _reminder(
    services: Services, rule: Rule, window: Window, moment: datetime, standing: Standing
) -> OutboxItem:
    member = standing.member
    t, lang, zone = services.translator, member.language, services.settings.timezone
    text = t.html(
        lang,
        "reminder.body",
        due=local_time(window.due, zone),
        what=t.html(lang, f"reminder.what.{rule.kind.value}"),
        done=rule.met(standing.counts),
        needed=rule.needed,
    )
    kinds = ("incident", "activity") if rule.kind is ReportKind.ANY else (rule.kind.value,)
    labels = {"incident": MENU_INCIDENT, "activity": MENU_ACTIVITY}
    row = [CallbackButton(t.plain(lang, labels[k]), StartReport(k).pack()) for k in kinds]
    buttons: tuple[tuple[CallbackButton, ...], ...] = (tuple(row),)
    if rule.kind is ReportKind.ANY:
        nothing = CallbackButton(t.plain(lang, MENU_NOTHING), NothingToday().pack())
        buttons = (*buttons, (nothing,))
    offset = int((window.due - moment).total_seconds() // 60)
    return OutboxItem(
        key=f"reminder:{rule.id}:{window.due.isoformat()}:{offset}:{member.id}",
        purpose="reminder",
        chat_id=member.chat_id,
        payload=Payload(Html(text), buttons),
        recipient_id=member.id,
    )


def _overdue_lists(
    services: Services,
    rule: Rule,
    window: Window,
    late: Sequence[Standing],
    tree: UnitTree,
    overseers: Sequence[Member],
    names: Mapping[str, str],
) -> list[OutboxItem]:
    """One list per supervisor: the late members they would get an urgent alert from."""
    by_recipient: dict[int, list[Standing]] = defaultdict(list)
    recipients: dict[int, Member] = {}
    for standing in late:
        about = ReportRef(standing.member.id, standing.member.unit_code, "submitted")
        for recipient in nearest_recipients(tree, about, overseers, Action.RECEIVE_ALERTS):
            by_recipient[recipient.id].append(standing)
            recipients[recipient.id] = recipient
    return [
        OutboxItem(
            key=f"overdue:{rule.id}:{window.due.isoformat()}:{recipient_id}",
            purpose="overdue",
            chat_id=recipients[recipient_id].chat_id,
            payload=Payload(
                _overdue_text(services, recipients[recipient_id], window, owed, names, tree)
            ),
            recipient_id=recipient_id,
        )
        for recipient_id, owed in by_recipient.items()
    ]


def _overdue_text(
    services: Services,
    recipient: Member,
    window: Window,
    late: Sequence[Standing],
    names: Mapping[str, str],
    tree: UnitTree,
) -> Html:
    t, lang, zone = services.translator, recipient.language, services.settings.timezone
    # Above BOT_PRIVACY_LEVEL a list says how many in each unit were late, not who.
    shown = names_shown_to(tree, recipient.unit_code, services.settings.privacy_level)
    hidden = t.plain(lang, "privacy.hidden")
    lines: list[str] = []
    unit = None
    for standing in late[:OVERDUE_SHOWN]:
        if standing.member.unit_code != unit:
            unit = standing.member.unit_code
            lines.append(t.html(lang, "overdue.unit", unit=names.get(unit, unit)))
        last = (
            local_day(standing.last_report)
            if standing.last_report
            else t.plain(lang, "overdue.never")
        )
        name = name_or_hidden(standing.member.full_name, shown, hidden)
        lines.append(t.html(lang, "overdue.member", name=name, last=last))
    if len(late) > OVERDUE_SHOWN:
        lines.append(t.html(lang, "overdue.more", count=len(late) - OVERDUE_SHOWN))
    return t.html(
        lang,
        "overdue.body",
        due=local_time(window.due, zone),
        count=len(late),
        lines=Html("\n".join(lines)),
    )


async def on_reminder_button(update: Update, context: BotContext) -> None:
    """A reminder's button: start the report it names, or record "nothing to report"."""
    query = update.callback_query
    assert query is not None
    data = unpack(query.data)
    await query.answer()
    if isinstance(data, StartReport) and data.kind in FORMS:
        await start_report(update, context, FORMS[data.kind])
    elif isinstance(data, NothingToday):
        await nothing_to_report(update, context)


async def show_overdue(update: Update, context: BotContext) -> None:
    """/overdue: who missed the last period of each rule, within the asker's subtree."""
    if not await permit(update, context, Action.RECEIVE_DIGEST):
        return
    member = context.registered_member()
    services = context.services
    tree, _ = await overseers_and_tree(services.db)
    names = {unit.code: unit.name for unit in await all_units(services.db)}
    visible = visible_units(Actor.of(member, active=member.active), tree)
    now, zone = services.clock.now(), services.settings.timezone
    texts: list[Html] = []
    for rule in await active_rules(services.db):
        units = tree.subtree(rule.unit_code) & visible if rule.unit_code in tree else set()
        if not units:
            continue
        ended = window_ending(rule, last_due(rule, now, zone), zone)
        holidays = await holiday_days(services.db, ended.due_day, ended.due_day)
        if late := await _late(services, rule, units, ended, holidays):
            texts.append(_overdue_text(services, member, ended, late, names, tree))
    assert update.effective_message is not None
    for text in texts or [context.t.html(member.language, "overdue.none")]:
        await update.effective_message.reply_text(text)
