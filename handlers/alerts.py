"""Urgent alerts: one outbox message per supervisor, made with the report that causes them.

An alert carries "✅ Tiếp nhận" and a link to the reporter's chat. Once a supervisor takes
it on (handlers/alert_actions.py), every copy is edited to say who did, through the
outbox (purpose ``alert_edit``), and the reporter is told (``alert_update``); the same
when it is resolved. A copy still to be sent goes out as it should read by then
(``prepare``). An alert nobody takes on climbs the tree one level every
``BOT_ESCALATE_AFTER`` (``escalate_open_alerts``, the job ``alerts:escalate``).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from telegram import Bot

from domain import urgent
from domain.access import Action, Actor, ReportRef, UnitTree
from domain.alerts import chat_link, escalation_due, may_resolve
from domain.forms import FORMS
from domain.models import AlertState, Member, Report, Unit
from domain.outbox import (
    Attachment,
    Button,
    CallbackButton,
    Document,
    LinkButton,
    Location,
    OutboxItem,
    Payload,
    Photos,
)
from domain.privacy import free_text, names_shown_to, people_or_hidden
from domain.reporting import place_columns
from domain.routing import alert_recipients, nearest_recipients, next_escalation
from domain.values import decode_answers
from handlers.context import BotContext, Services
from presentation.callbacks import AcknowledgeAlert, ResolveAlert
from presentation.i18n import Html
from presentation.render import FormRenderer, local_time
from storage.alerts import (
    AlertCopy,
    AlertProgress,
    alert_copy,
    alert_progress,
    escalate_alert,
    open_alerts,
    reached_units,
)
from storage.members import member_by_id, overseers_and_tree
from storage.outbox import OutboxRow, alert_recipient_ids, enqueue, outbox_status
from storage.reports import get_report, unreached_urgent_reports
from storage.units import all_units, get_unit

PURPOSE = "alert"
# A sent copy of an alert edited to say what became of it.
EDIT_PURPOSE = "alert_edit"
# The reporter told that their urgent incident was acknowledged, then resolved.
UPDATE_PURPOSE = "alert_update"
# What a member adds to an urgent incident after its alert, as a reply to each copy.
MORE_PURPOSE = "alert_more"
# How far back the drain looks for urgent reports whose alert reached nobody: the member
# was told it goes to the first who joins within this (report.submitted_urgent_nobody).
UNREACHED_LOOKBACK = timedelta(days=7)
# How far back an open alert that only the admins got goes to a supervisor who joins a
# nearer level (report.submitted_urgent_admins says "within the day").
NEARER_LOOKBACK = timedelta(days=1)
# How far back the escalation job looks for alerts nobody has acknowledged: long enough
# for any chain of levels at the longest BOT_ESCALATE_AFTER.
ESCALATION_LOOKBACK = timedelta(days=2)
log = logging.getLogger(__name__)


class Reach(StrEnum):
    """Who a new report's alert is meant for, as the member is told."""

    NOT_URGENT = "not_urgent"
    SUPERVISORS = "supervisors"  # the nearest level up the tree with anyone to receive it
    ADMINS = "admins"  # no supervisor up the tree: the deployment's admins instead
    NOBODY = "nobody"  # not even an admin has joined yet


async def tell_reporter(context: BotContext, report_id: int, reach: Reach | None = None) -> Html:
    """Send an urgent report's alerts still to go, then say truthfully what came of them:
    how many went and to whom, that they are still being tried, or that nobody has
    joined who could receive them yet (they go as soon as someone does: the drain's
    ``reach_the_unreached``); then the emergency numbers.

    ``reach`` None (a restart cut the first confirmation off): judged from the outbox,
    as reaching supervisors if any copy went or is being tried, else nobody.
    """
    t, lang = context.t, context.registered_member().language
    outbox = context.services.outbox
    delivered = 0
    try:
        delivered = await outbox.send_for_report(context.bot, report_id, PURPOSE)
    except sqlite3.Error:
        # The report and its alerts are saved; what came of the sending could not be
        # written down, and the drain job will see to it.
        log.warning("alerts for report %s: outcome not recorded", report_id, exc_info=True)
    if reach is None:
        trying = delivered or await outbox.pending_for_report(report_id, PURPOSE)
        reach = Reach.SUPERVISORS if trying else Reach.NOBODY
    if reach is Reach.NOBODY:
        key = "report.submitted_urgent_nobody"
    elif delivered and reach is Reach.ADMINS:
        key = "report.submitted_urgent_admins"
    elif delivered:
        key = "report.submitted_urgent"
    elif await outbox.pending_for_report(report_id, PURPOSE):
        key = "report.submitted_urgent_retrying"
    else:  # every copy refused for good (blocked, chat gone), and nobody left to try
        key = "report.submitted_urgent_unreached"
    said = t.html(lang, key, number=report_id, count=delivered)
    return Html(f"{said}\n{t.html(lang, 'urgent.numbers')}")


def alert_key(report_id: int, recipient_id: int) -> str:
    return f"{PURPOSE}:{report_id}:{recipient_id}"


def edit_key(report_id: int, recipient_id: int, state: AlertState | None) -> str:
    """The key of the edit that makes a copy say the alert reached this state."""
    return f"{EDIT_PURPOSE}:{report_id}:{recipient_id}:{state}"


def _renderer(services: Services, language: str) -> FormRenderer:
    return FormRenderer(
        services.translator, language, services.settings.timezone, services.catalogues
    )


def _alert_buttons(
    services: Services, language: str, report_id: int, reporter: Member
) -> tuple[tuple[Button, ...], ...]:
    """ "✅ Tiếp nhận", and a link that opens the reporter's chat."""
    t = services.translator
    return (
        (CallbackButton(t.plain(language, "alert.button.acknowledge"),
                        AcknowledgeAlert(report_id).pack()),),
        (LinkButton(t.plain(language, "alert.button.chat"), chat_link(reporter)),),
    )  # fmt: skip


def _without_names(data: Mapping[str, Any], hidden: str) -> dict[str, Any]:
    """An incident's answers as a recipient above the privacy level sees them."""
    answers = dict(data)
    if isinstance(answers.get("people"), str):
        answers["people"] = people_or_hidden(answers["people"], False, hidden)
    for key in ("desc", "action"):
        if isinstance(answers.get(key), str):
            answers[key] = free_text(answers[key], False)
    return answers


def _attachments(kind: str, data: Mapping[str, Any]) -> tuple[Attachment, ...]:
    """The pin and the photos that follow an alert's text."""
    answers = decode_answers(FORMS[kind], data)
    found: list[Attachment] = []
    place = place_columns(answers.get("place"))
    if place.get("latitude") is not None and place.get("longitude") is not None:
        found.append(Location(place["latitude"], place["longitude"]))
    photos = answers.get("photos")
    refs = photos if isinstance(photos, tuple) else ()
    # A file id only works with the method of its kind: photos as an album, images
    # that were sent as files one by one as documents.
    pictures = tuple(p.file_id for p in refs if getattr(p, "kind", "") == "photo")
    if pictures:
        found.append(Photos(pictures))
    found.extend(Document(p.file_id) for p in refs if getattr(p, "kind", "") == "document")
    return tuple(found)


def alert_items(
    services: Services,
    report_id: int,
    data: Mapping[str, Any],
    reporter: Member,
    unit: Unit,
    submitted: datetime,
    recipients: Sequence[Member],
    open_for: timedelta | None = None,
    *,
    tree: UnitTree,
) -> list[OutboxItem]:
    """One alert per recipient, each in the recipient's language.

    ``open_for``: the alert is escalated, nobody having taken it on for that long.
    Above BOT_PRIVACY_LEVEL of the tree, the reporter's name, the people involved and
    phone numbers are hidden, and there is no button to the reporter's chat.
    """
    attachments = _attachments("incident", data)
    items = []
    level = services.settings.privacy_level
    for recipient in recipients:
        lang = recipient.language
        renderer = _renderer(services, lang)
        buttons = _alert_buttons(services, lang, report_id, reporter)
        who, answers = reporter, data
        if not names_shown_to(tree, recipient.unit_code, level):
            hidden = services.translator.plain(lang, "privacy.hidden")
            who = replace(reporter, full_name=hidden, username=None)
            answers = _without_names(data, hidden)
            buttons = buttons[:1]  # the chat link would say who reported it
        text = renderer.alert(report_id, "incident", answers, who, unit, submitted, open_for)
        items.append(
            OutboxItem(
                key=alert_key(report_id, recipient.id),
                purpose=PURPOSE,
                chat_id=recipient.chat_id,
                payload=Payload(text, buttons, attachments),
                recipient_id=recipient.id,
                report_id=report_id,
            )
        )
    return items


async def render_carried_over(services: Services, row: OutboxRow) -> Payload | None:
    """An alert queued by an older version, which stored no text: render it now."""
    item = row.item
    if item.purpose != PURPOSE or item.report_id is None or item.recipient_id is None:
        return None
    report = await get_report(services.db, item.report_id)
    recipient = await member_by_id(services.db, item.recipient_id)
    reporter = await member_by_id(services.db, report.member_id) if report else None
    unit = await get_unit(services.db, report.unit_code) if report else None
    if report is None or recipient is None or reporter is None or unit is None:
        return None
    items = alert_items(
        services,
        report.id,
        report.data,
        reporter,
        unit,
        report.submitted_at,
        [recipient],
        tree=(await overseers_and_tree(services.db))[0],
    )
    return items[0].payload


async def escalate_unreached(services: Services, row: OutboxRow) -> None:
    """When an urgent alert has reached nobody at all, send it one level further up.

    Called for an alert given up for good (the recipient blocked the bot, the chat is
    gone). While any copy of the alert is sent or still being tried, nothing happens.
    """
    report_id = row.item.report_id
    if row.item.purpose != PURPOSE or report_id is None:
        return
    if await _pass_on(services, report_id) or await _still_reaching(services, report_id):
        return
    log.error("urgent alert for report %s reached nobody, and nobody is left", report_id)


async def reach_the_unreached(services: Services) -> int:
    """Job: urgent reports of the last week whose alert reaches nobody: try again up the tree.

    This also catches what a crash between giving up and passing on would lose, and a
    supervisor or admin who joined after the report: they are told now. An open alert
    that only reached a level above the nearest one now staffed (the admins, because the
    unit had no supervisor yet) goes to that nearer level too, once someone joins it.
    """
    now = services.clock.now()
    passed_on = 0
    for report_id in await unreached_urgent_reports(services.db, now - UNREACHED_LOOKBACK):
        passed_on += await _pass_on(services, report_id)
    return passed_on + await _reach_nearer(services, now - NEARER_LOOKBACK)


async def _reach_nearer(services: Services, since: datetime) -> int:
    """Send open alerts to the nearest level up their chain now staffed, when everyone
    they reached so far is further up (or beside the chain, as admins may be)."""
    waiting = await open_alerts(services.db, since)
    if not waiting:
        return 0
    tree, overseers = await overseers_and_tree(services.db)
    queued = 0
    for alert in waiting:
        report = await get_report(services.db, alert.report_id)
        if report is None:
            continue
        about = ReportRef(report.member_id, report.unit_code, report.status)
        nearest = nearest_recipients(tree, about, overseers, Action.RECEIVE_ALERTS)
        if not nearest:
            continue
        chain = (report.unit_code, *tree.ancestors(report.unit_code))
        reached = [chain.index(code) for code in await reached_units(services.db, report.id)
                   if code in chain]  # fmt: skip
        if reached and chain.index(nearest[0].unit_code) >= min(reached):
            continue
        tried = set(await alert_recipient_ids(services.db, report.id))
        recipients = [member for member in nearest if member.id not in tried]
        reporter = await member_by_id(services.db, report.member_id)
        unit = await get_unit(services.db, report.unit_code)
        if not recipients or reporter is None or unit is None:
            continue
        log.warning("urgent alert for report %s sent to %d who joined a nearer level",
                    report.id, len(recipients))  # fmt: skip
        queued += await enqueue(services.db, alert_items(
            services, report.id, report.data, reporter, unit, report.submitted_at, recipients,
            tree=tree,
        ))  # fmt: skip
    return queued


async def _still_reaching(services: Services, report_id: int) -> bool:
    status = await outbox_status(services.db, report_id, PURPOSE)
    return bool(status.get("sent") or status.get("pending"))


async def _pass_on(services: Services, report_id: int) -> int:
    """Queue the alert for the next who may receive it, if nobody has it or is being tried."""
    if await _still_reaching(services, report_id):
        return 0
    report = await get_report(services.db, report_id)
    reporter = await member_by_id(services.db, report.member_id) if report else None
    unit = await get_unit(services.db, report.unit_code) if report else None
    if report is None or reporter is None or unit is None:
        return 0
    if report.alert_state is not AlertState.OPEN:
        return 0  # someone has it already
    tree, overseers = await overseers_and_tree(services.db)
    about = ReportRef(reporter.id, report.unit_code, report.status)
    tried = set(await alert_recipient_ids(services.db, report.id))
    recipients = alert_recipients(tree, about, overseers, tried)
    if not recipients:
        return 0
    log.warning(
        "urgent alert for report %s reached nobody yet; sent on to %d more", report.id,
        len(recipients),
    )  # fmt: skip
    items = alert_items(
        services, report.id, report.data, reporter, unit, report.submitted_at, recipients,
        tree=tree,
    )  # fmt: skip
    return await enqueue(services.db, items)


# --- what a member adds after the alert ----------------------------------------------


def follow_up_items(
    services: Services,
    report_id: int,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    copies: Sequence[AlertCopy],
    tree: UnitTree,
    draft_id: int,
) -> list[OutboxItem]:
    """What an urgent incident's follow-up adds, to everyone its alert went to, each as a
    reply to their copy; nothing if it adds nothing. The new photos and a new pin follow.

    Above BOT_PRIVACY_LEVEL, names and phone numbers are hidden, as in the alert.
    """
    form = FORMS["incident"]
    keys = urgent.added(form, before, after)
    if not keys:
        return []
    attachments: list[Attachment] = []
    if "place" in keys:
        place = place_columns(decode_answers(form, after).get("place"))
        if place.get("latitude") is not None and place.get("longitude") is not None:
            attachments.append(Location(place["latitude"], place["longitude"]))
    fresh = urgent.new_photos(before, after)
    if pictures := tuple(p[0] for p in fresh if (p[2] if len(p) > 2 else "photo") == "photo"):
        attachments.append(Photos(pictures))
    attachments.extend(Document(p[0]) for p in fresh if len(p) > 2 and p[2] == "document")
    level = services.settings.privacy_level
    items = []
    for copy in copies:
        if copy.status == "failed":
            continue  # never arrived; a later alert to them is made from the report as it is
        recipient, lang = copy.recipient, copy.recipient.language
        answers = after
        if not names_shown_to(tree, recipient.unit_code, level):
            answers = _without_names(after, services.translator.plain(lang, "privacy.hidden"))
        text = _follow_up_text(_renderer(services, lang), report_id, answers, keys)
        items.append(
            OutboxItem(
                key=f"{MORE_PURPOSE}:{report_id}:{recipient.id}:{draft_id}",
                purpose=MORE_PURPOSE,
                chat_id=recipient.chat_id,
                payload=Payload(text, attachments=tuple(attachments), reply_to=copy.key),
                recipient_id=recipient.id,
                report_id=report_id,
            )
        )
    return items


def _follow_up_text(
    renderer: FormRenderer, report_id: int, data: Mapping[str, Any], keys: Sequence[str]
) -> Html:
    """ "➕ Bổ sung cho vụ việc khẩn số 12", then the fields added, one per line."""
    form = FORMS["incident"]
    t, lang = renderer.t, renderer.language
    answers = decode_answers(form, data)
    lines = [
        t.html(lang, "summary.line", label=t.html(lang, spec.label),
               value=renderer.value(spec, answers[spec.key]))
        for spec in form.fields
        if spec.key in keys
    ]  # fmt: skip
    return t.html(lang, "alert.follow_up", number=report_id, lines=Html("\n".join(lines)))


# --- what became of an alert --------------------------------------------------------


def alert_view(
    services: Services,
    report_id: int,
    base: Payload,
    progress: AlertProgress,
    recipient: Member,
    tree: UnitTree,
    unit_names: Mapping[str, str],
) -> Payload:
    """A copy of an alert as it should read now, for its recipient.

    Open: as it was sent. Acknowledged: who took it on, and "Đã xử lý" for whoever may
    resolve it (domain/alerts.py ``may_resolve``). Resolved: who resolved it too. The link
    to the reporter's chat stays.
    """
    if progress.state is not AlertState.ACKNOWLEDGED and progress.state is not AlertState.RESOLVED:
        return base
    acknowledger = progress.acknowledged_by
    renderer = _renderer(services, recipient.language)
    acknowledged = None
    if acknowledger is not None and progress.acknowledged_at is not None:
        unit = Unit(acknowledger.unit_code, unit_names.get(acknowledger.unit_code, ""), None)
        acknowledged = (acknowledger, unit if unit.name else None, progress.acknowledged_at)
    resolved = None
    if progress.resolved_by is not None and progress.resolved_at is not None:
        resolved = (progress.resolved_by, progress.resolved_at)
    lines = renderer.alert_progress(acknowledged, resolved)
    buttons: list[tuple[Button, ...]] = []
    if (
        progress.state is AlertState.ACKNOWLEDGED
        and acknowledger is not None
        and may_resolve(
            Actor.of(recipient, active=recipient.active),
            Actor.of(acknowledger, active=acknowledger.active),
            tree,
        )
    ):
        label = services.translator.plain(recipient.language, "alert.button.resolve")
        buttons.append((CallbackButton(label, ResolveAlert(report_id).pack()),))
    buttons.extend(
        row for row in base.buttons if row and all(isinstance(b, LinkButton) for b in row)
    )
    text = base.text + "\n\n" + lines if lines else base.text
    return replace(base, text=text, buttons=tuple(buttons))


def announcements(
    services: Services,
    report: Report,
    reporter: Member,
    progress: AlertProgress,
    copies: Sequence[AlertCopy],
    tree: UnitTree,
    unit_names: Mapping[str, str],
) -> list[OutboxItem]:
    """What a change of an alert's state announces: every copy edited, the reporter told.

    Made in the transaction of the change (storage/alerts.py ``change_alert``).
    """
    state = progress.state
    items = []
    for copy in copies:
        if copy.status == "failed" or copy.payload is None:
            continue  # never arrived: nothing to edit
        view = alert_view(
            services, report.id, copy.payload, progress, copy.recipient, tree, unit_names
        )
        items.append(
            OutboxItem(
                key=edit_key(report.id, copy.recipient.id, state),
                purpose=EDIT_PURPOSE,
                chat_id=copy.recipient.chat_id,
                payload=replace(view, attachments=(), replaces=copy.key),
                recipient_id=copy.recipient.id,
                report_id=report.id,
            )
        )
    notice = _reporter_notice(services, report, reporter, progress, unit_names)
    if notice is not None:
        items.append(notice)
    return items


def _reporter_notice(
    services: Services,
    report: Report,
    reporter: Member,
    progress: AlertProgress,
    unit_names: Mapping[str, str],
) -> OutboxItem | None:
    t, lang, zone = services.translator, reporter.language, services.settings.timezone
    if progress.state is AlertState.RESOLVED:
        by, at = progress.resolved_by, progress.resolved_at
        if by is None or at is None:
            return None
        text = t.html(
            lang, "alert.notice.resolved", number=report.id, name=by.full_name,
            time=local_time(at, zone),
        )  # fmt: skip
    elif progress.state is AlertState.ACKNOWLEDGED:
        by, at = progress.acknowledged_by, progress.acknowledged_at
        if by is None or at is None:
            return None
        text = t.html(
            lang, "alert.notice.acknowledged", number=report.id, name=by.full_name,
            unit=unit_names.get(by.unit_code, by.unit_code), time=local_time(at, zone),
        )  # fmt: skip
    else:
        return None
    return OutboxItem(
        key=f"{UPDATE_PURPOSE}:{report.id}:{progress.state}",
        purpose=UPDATE_PURPOSE,
        chat_id=reporter.chat_id,
        payload=Payload(text),
        recipient_id=reporter.id,
        report_id=report.id,
    )


async def unit_names(services: Services) -> dict[str, str]:
    return {unit.code: unit.name for unit in await all_units(services.db)}


async def current_view(
    services: Services, report_id: int, base: Payload, recipient: Member
) -> Payload:
    """A copy of a report's alert as it should read now (read from the database)."""
    progress = await alert_progress(services.db, report_id)
    if progress is None or progress.state in (None, AlertState.OPEN):
        return base
    tree, _ = await overseers_and_tree(services.db)
    names = await unit_names(services)
    return alert_view(services, report_id, base, progress, recipient, tree, names)


async def prepare(services: Services, row: OutboxRow, payload: Payload) -> Payload | None:
    """The outbox's last look at an alert or an alert's edit, as it is sent.

    A copy sent after the alert was taken on says so. An edit renders what the alert is
    now (a later state wins over the one it was queued for); an edit of a copy not sent
    yet is not needed: that copy will go out as it should read.
    """
    item = row.item
    if item.report_id is None or item.recipient_id is None:
        return payload
    if item.purpose == PURPOSE:
        progress = await alert_progress(services.db, item.report_id)
        if progress is None or progress.state in (None, AlertState.OPEN):
            return payload  # as it was made: the usual case, one read
        recipient = await member_by_id(services.db, item.recipient_id)
        if recipient is None:
            return payload
        return await current_view(services, item.report_id, payload, recipient)
    if item.purpose == EDIT_PURPOSE:
        copy = await alert_copy(services.db, item.report_id, item.recipient_id)
        if copy is None or copy.status != "sent" or copy.payload is None:
            return None
        view = await current_view(services, item.report_id, copy.payload, copy.recipient)
        return replace(view, attachments=(), replaces=copy.key)
    return payload


# --- escalation --------------------------------------------------------------------


async def escalate_open_alerts(services: Services, bot: Bot) -> int:
    """Send every alert nobody has acknowledged within BOT_ESCALATE_AFTER (since it was
    submitted, or last went up) one level up the tree; returns how many went up."""
    now = services.clock.now()
    raised = 0
    for alert in await open_alerts(services.db, now - ESCALATION_LOOKBACK):
        if not escalation_due(alert.last_raised, services.settings.escalate_after, now):
            continue
        if await _escalate(services, alert.report_id, now - alert.alerted_at):
            raised += 1
            try:
                await services.outbox.send_for_report(bot, alert.report_id, PURPOSE, only={PURPOSE})
            except sqlite3.Error:
                # Queued and committed: the drain sends them and records how it went.
                log.warning("escalated alert %s: sending left to the drain", alert.report_id,
                            exc_info=True)  # fmt: skip
    return raised


async def _escalate(services: Services, report_id: int, open_for: timedelta) -> bool:
    report = await get_report(services.db, report_id)
    reporter = await member_by_id(services.db, report.member_id) if report else None
    unit = await get_unit(services.db, report.unit_code) if report else None
    if report is None or reporter is None or unit is None:
        return False
    tree, overseers = await overseers_and_tree(services.db)
    about = ReportRef(reporter.id, report.unit_code, report.status)
    level = next_escalation(tree, about, overseers, await reached_units(services.db, report.id))
    if level is None:
        return False  # the root is reached: there is nobody further up
    code, recipients = level
    items = alert_items(
        services, report.id, report.data, reporter, unit, report.submitted_at, recipients,
        open_for=open_for, tree=tree,
    )  # fmt: skip
    if not await escalate_alert(services.db, report.id, code, items):
        return False
    log.warning(
        "urgent alert for report %s not acknowledged: escalated to unit %s (%d recipient(s))",
        report.id, code, len(recipients),
    )  # fmt: skip
    return True


async def escalate_job(context: BotContext) -> None:
    """Job ``alerts:escalate``."""
    if raised := await escalate_open_alerts(context.services, context.bot):
        log.info("escalated %d urgent alert(s) nobody acknowledged", raised)
