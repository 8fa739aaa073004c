"""Digests: the scheduled sends, the one catch-up after downtime, and /digest on demand.

Every minute the job looks at each schedule (BOT_DIGEST_DAILY, _WEEKLY, _MONTHLY). When
a scheduled moment has passed since the last send, one send covers everything from the
last send's end to that moment, however many moments the bot was down for: that is the
catch-up, made once. The first time a schedule is seen, it starts counting from its
latest moment and sends nothing (a new deployment has nothing to sum up yet).

A send reads the data once, has the worker process compute every recipient's digest and
draw its chart and spreadsheet (the event loop never waits on that), then records the
send and queues three outbox messages per recipient (text, chart, spreadsheet) in one
transaction. Killed before that commit, the next run makes the send again; after it,
the outbox delivers what is left, once.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from telegram import InlineKeyboardMarkup, InputFile, Update
from telegram.error import BadRequest

from domain.access import Action, Actor, UnitTree, visible_units
from domain.deadlines import Period, last_due
from domain.digest import DigestData, DigestSchedule, grading_year_start
from domain.models import Member
from domain.outbox import OutboxItem, Payload
from domain.privacy import names_shown_to
from handlers.context import BotContext, Services
from handlers.guard import permit
from presentation.callbacks import AskDigest, DigestSpan, unpack
from presentation.digest import DigestText, MadeDigest, category_names, make_digests
from presentation.digest_files import DigestLabels, digest_labels
from presentation.keyboards import callback_button
from storage.digests import (
    MadeMessage,
    digest_data,
    digest_recipients,
    last_run,
    record_run,
    set_baseline,
)

log = logging.getLogger(__name__)

SPAN_LABELS = {
    DigestSpan.DAY: "digest.button.day",
    DigestSpan.WEEK: "digest.button.week",
    DigestSpan.MONTH: "digest.button.month",
}
# A send later than this after its moment was missed while the bot was down.
LATE_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class Made:
    member: Member
    made: MadeDigest
    names_shown: bool = True  # False above BOT_PRIVACY_LEVEL


async def render_for(
    services: Services, data: DigestData, recipients: Sequence[Member]
) -> list[Made]:
    """Every recipient's digest and files, made in the worker in one call."""
    tree = UnitTree(data.units)
    names = {unit.code: unit.name for unit in data.units}
    jobs: list[tuple[Collection[str], DigestLabels]] = []
    chosen: list[tuple[Member, bool]] = []
    for member in recipients:
        units = visible_units(Actor.of(member, active=member.active), tree)
        if not units:
            continue
        categories = category_names(services.catalogues, services.translator, member.language)
        shown = names_shown_to(tree, member.unit_code, services.settings.privacy_level)
        labels = digest_labels(
            services.translator, member.language, services.settings.timezone, categories, names,
            names_shown=shown,
        )  # fmt: skip
        jobs.append((units, labels))
        chosen.append((member, shown))
    if not jobs:
        return []
    made = await services.digest_worker.run(make_digests, data, jobs)
    missing = [member.id for (member, _), one in zip(chosen, made, strict=True) if one is None]
    if missing:
        log.error("no digest could be made for member(s) %s", missing)
    return [
        Made(member, one, shown)
        for (member, shown), one in zip(chosen, made, strict=True)
        if one is not None
    ]


def title_of(services: Services, language: str, period: Period | DigestSpan, start: datetime,
             end: datetime) -> str:  # fmt: skip
    """The digest's heading, after the days it covers: "Tổng hợp ngày 26/11/2026" (the
    07:00 digest of the 27th covers most of the 26th), "… tuần 23/11 – 30/11/2026";
    a catch-up of several days says so: "Tổng hợp 26/11 – 29/11/2026"."""
    t, zone = services.translator, services.settings.timezone
    first = start.astimezone(zone)
    last = (end - timedelta(microseconds=1)).astimezone(zone)
    if period in (Period.DAILY, DigestSpan.DAY):
        if end - start > timedelta(hours=25):
            return t.plain(
                language, "digest.title.days", first=f"{first:%d/%m}", last=f"{last:%d/%m/%Y}"
            )
        return t.plain(language, "digest.title.day", day=f"{first:%d/%m/%Y}")
    if period in (Period.WEEKLY, DigestSpan.WEEK):
        return t.plain(
            language, "digest.title.week", first=f"{first:%d/%m}", last=f"{last:%d/%m/%Y}"
        )
    return t.plain(language, "digest.title.month", first=f"{first:%d/%m}", last=f"{last:%d/%m/%Y}")


def messages_for(
    services: Services, key: str, one: Made, title: str, names: dict[str, str]
) -> list[MadeMessage]:
    """The three outbox messages of one recipient's digest: text, chart, spreadsheet."""
    member = one.member
    t, lang, zone = services.translator, member.language, services.settings.timezone
    categories = category_names(services.catalogues, t, lang)
    text = DigestText(t, lang, zone, categories, names, names_shown=one.names_shown).render(
        one.made.digest, title
    )
    day = f"{one.made.digest.end.astimezone(zone):%Y-%m-%d}"

    def item(part: str, caption: str) -> OutboxItem:
        return OutboxItem(
            key=f"{key}:{member.id}:{part}",
            purpose="digest",
            chat_id=member.chat_id,
            payload=Payload(caption),
            recipient_id=member.id,
        )

    return [
        MadeMessage(item("text", text)),
        MadeMessage(
            item("chart", t.html(lang, "digest.chart_caption", title=title)),
            f"tong-hop-{day}.png",
            one.made.chart,
            photo=True,
        ),
        MadeMessage(
            item("sheet", t.html(lang, "digest.sheet_caption", title=title)),
            f"tong-hop-{day}.xlsx",
            one.made.sheet,
        ),
    ]


# --- scheduled sends ----------------------------------------------------------------------


async def tick(context: BotContext) -> None:
    """Job: make every scheduled digest that is due (or was missed while the bot was down)."""
    await send_due_digests(context.services)


async def send_due_digests(services: Services) -> int:
    """Queue each due send; returns how many sends were made."""
    made = 0
    now = services.clock.now()
    for schedule in services.settings.digests:
        try:
            made += await _send_if_due(services, schedule, now)
        except Exception:
            # One schedule's failure must not hold up the others; it is tried next minute.
            log.exception("the %s digest could not be made", schedule.period.value)
    return made


async def _send_if_due(services: Services, schedule: DigestSchedule, now: datetime) -> int:
    """Make this schedule's send if one is due; returns 1 if it made one."""
    end = last_due(schedule, now, services.settings.timezone)
    run = await last_run(services.db, schedule.period)
    if run is None:
        if await set_baseline(services.db, schedule.period, end):
            log.info("%s digests count from %s", schedule.period.value, end.isoformat())
        return 0
    if run.end >= end or not await _send(services, schedule.period, run.end, end):
        return 0
    if now - end > LATE_AFTER:
        log.info(
            "caught up the %s digest of %s, missed while the bot was down",
            schedule.period.value, end.isoformat(),
        )  # fmt: skip
    return 1


async def _send(services: Services, period: Period, start: datetime, end: datetime) -> bool:
    zone = services.settings.timezone
    # A report stamped before ``end`` may still be waiting to be written; writes are made
    # in the order they come, so once this empty one is done, every such report is in.
    await services.db.write(lambda tx: None, until_power_loss=True)
    since = min(grading_year_start(end, zone), start)
    data = await digest_data(services.db, start, end, zone, services.settings.thresholds, since)
    recipients = await digest_recipients(services.db)
    names = {unit.code: unit.name for unit in data.units}
    messages: list[MadeMessage] = []
    for one in await render_for(services, data, recipients):
        title = title_of(services, one.member.language, period, start, end)
        key = f"digest:{period.value}:{end.isoformat()}"
        messages += messages_for(services, key, one, title, names)
    recorded = await record_run(services.db, period, start, end, messages)
    if recorded:
        log.info(
            "queued the %s digest to %s for %d recipient(s)",
            period.value, end.isoformat(), len(messages) // 3,
        )  # fmt: skip
    return recorded


# --- on demand ----------------------------------------------------------------------------


async def ask(update: Update, context: BotContext) -> None:
    """/digest: which span, as buttons."""
    if not await permit(update, context, Action.RECEIVE_DIGEST):
        return
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        context.t.html(context.language, "digest.ask"), reply_markup=_menu(context)
    )


def _menu(context: BotContext) -> InlineKeyboardMarkup:
    t, lang = context.t, context.language
    return InlineKeyboardMarkup(
        [
            [
                callback_button(t.plain(lang, SPAN_LABELS[span]), AskDigest(span).pack())
                for span in DigestSpan
            ]
        ]
    )


def span_start(span: DigestSpan, now: datetime, services: Services) -> datetime:
    """Local midnight today, on Monday, or on the 1st."""
    local = now.astimezone(services.settings.timezone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if span is DigestSpan.WEEK:
        midnight -= timedelta(days=local.weekday())
    elif span is DigestSpan.MONTH:
        midnight = midnight.replace(day=1)
    return midnight


async def on_button(update: Update, context: BotContext) -> None:
    """A /digest button: the digest of that span so far, sent here and now."""
    query = update.callback_query
    assert query is not None and query.message is not None
    data = unpack(query.data)
    if not isinstance(data, AskDigest) or not await permit(update, context, Action.RECEIVE_DIGEST):
        return
    services = context.services
    # A double tap, or a tap on an old menu: each menu makes one digest.
    key = f"digest:ask:{query.message.chat.id}:{query.message.message_id}"
    if not await services.db.write(lambda tx: tx.once(key)):
        await query.answer(context.t.plain(context.language, "digest.already"))
        return
    await query.answer()
    member = context.registered_member()
    await _show(update, context.t.html(member.language, "digest.working"))
    try:
        await _send_on_demand(update, context, member, data.span)
    except Exception:
        # The menu is not used up by a failure: the tap may be tried again.
        log.exception("an on-demand digest for member %s could not be made", member.id)
        await services.db.write(
            lambda tx: tx.execute("DELETE FROM once_keys WHERE key = ?", (key,))
        )
        await _show(update, context.t.html(member.language, "digest.failed"), _menu(context))


async def _show(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Put the text in place of the menu tapped; a new message if that one cannot be
    edited (too old, deleted, or never the bot's: forged button data)."""
    query = update.callback_query
    assert query is not None
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest:
        assert update.effective_chat is not None
        await update.effective_chat.send_message(text, reply_markup=markup)


async def _send_on_demand(
    update: Update, context: BotContext, member: Member, span: DigestSpan
) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None
    services = context.services
    t, lang = context.t, member.language
    # "So far" includes what was submitted this very moment.
    now = services.clock.now() + timedelta(microseconds=1)
    start = span_start(span, now, services)
    zone = services.settings.timezone
    since = min(grading_year_start(now, zone), start)
    digest = await digest_data(services.db, start, now, zone, services.settings.thresholds, since)
    made = await render_for(services, digest, [member])
    if not made:
        await _show(update, t.html(lang, "digest.nothing_to_show"))
        return
    names = {unit.code: unit.name for unit in digest.units}
    title = title_of(services, lang, span, start, now)
    chat = query.message.chat
    for message in messages_for(services, "digest:ask", made[0], title, names):
        payload = message.item.payload
        assert payload is not None
        if message.content is None:
            await _show(update, payload.text)
        elif message.photo:
            await chat.send_photo(InputFile(message.content, message.filename), payload.text)
        else:
            await chat.send_document(InputFile(message.content, message.filename), payload.text)
