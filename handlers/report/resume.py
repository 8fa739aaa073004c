"""Starting, resuming and finding a report in progress, across restarts and lost replies."""

from __future__ import annotations

from datetime import timedelta

from telegram import Update

from domain import flow, urgent
from domain.access import Action
from domain.forms import FORMS, MAX_PHOTOS, FieldKind, Form
from domain.models import Draft
from handlers.alerts import tell_reporter
from handlers.context import BotContext, origin_of
from handlers.guard import permit
from handlers.report.prompts import photo_buttons, send_prompt
from presentation.i18n import Html
from presentation.keyboards import main_keyboard
from storage.drafts import discard_draft, draft_for, save_draft_step, start_draft
from storage.members import member_by_telegram_id
from storage.reports import latest_report_since

# How far back a report counts as "the one you just sent" when a reply was lost.
RECENT_SUBMIT = timedelta(hours=1)


async def load_draft(context: BotContext, chat_id: int) -> Draft | None:
    """The member's draft as the gate read it, repaired or dropped if the forms changed."""
    member = context.registered_member()
    draft = context.draft
    if draft is None:
        return None
    form = FORMS.get(draft.kind)
    if form is None:
        # A report kind this version no longer has: nothing can finish it.
        await discard_draft(context.db, member.id, draft.id)
        context.draft = None
        await context.bot.send_message(
            chat_id,
            context.t.html(member.language, "draft.unusable"),
            reply_markup=main_keyboard(context.t, member.language, member.role),
        )
        return None
    if (change := flow.repair(form, draft)) is not None:
        _, context.draft = await save_draft_step(context.db, draft, change, None)
    return context.draft


async def begin(
    update: Update, context: BotContext, form: Form, *, replacing: Draft | None = None
) -> None:
    """Ask the first question of a new report, or take up the one of this kind half done.

    Over any other open report, handlers/menu.py ``start_report`` has asked first;
    ``replacing`` is the one the member then chose to discard for this, dropped in the
    transaction that starts the new one.
    """
    if not await permit(update, context, Action.REPORT):
        return
    member = context.registered_member()
    chat_id = chat_of(update)
    t, lang = context.t, member.language
    draft = await load_draft(context, chat_id)
    if replacing is None and draft is not None and draft.kind == form.kind:
        await context.bot.send_message(chat_id, t.html(lang, "draft.resume"))
        await send_prompt(context, chat_id, draft)
        return
    started = await start_draft(
        context.db, member.id, form.kind, form.first_step(), origin_of(update),
        replacing=replacing.id if replacing else None,
    )  # fmt: skip
    if started is not None:
        context.draft = started
        if replacing is not None:
            await say_discarded(context, chat_id, replacing)
        await send_prompt(context, chat_id, started)


async def say_discarded(context: BotContext, chat_id: int, draft: Draft) -> None:
    """Say that a draft was dropped, with the menu back under the chat (the draft may
    have been at the place step, with its own keyboard). A sent report reopened stays as
    it was sent: only the changes went."""
    member = context.registered_member()
    t, lang = context.t, member.language
    done = (
        t.html(lang, "own.edit_discarded", number=draft.report_id)
        if draft.report_id is not None
        else t.html(lang, "draft.discarded")
    )
    await context.bot.send_message(chat_id, done, reply_markup=main_keyboard(t, lang, member.role))


async def show_where_member_is(context: BotContext, chat_id: int) -> None:
    """After a lost reply: repeat the current question, or confirm the report just sent."""
    member = context.registered_member()
    t, lang = context.t, member.language
    context.draft = await draft_for(context.db, member.id)
    draft = await load_draft(context, chat_id)
    if draft is not None and urgent.just_alerted(draft):
        await _say_alert_went(context, chat_id, draft)
        return
    if draft is not None:
        await context.bot.send_message(chat_id, t.html(lang, "draft.resume"))
        await send_prompt(context, chat_id, draft)
        return
    since = context.services.clock.now() - RECENT_SUBMIT
    report_id = await latest_report_since(context.db, member.id, since)
    key = "report.submitted" if report_id is not None else "idle.hint"
    await context.bot.send_message(
        chat_id,
        t.html(lang, key, number=report_id),
        reply_markup=main_keyboard(t, lang, context.registered_member().role),
    )


async def _say_alert_went(context: BotContext, chat_id: int, draft: Draft) -> None:
    """The confirmation a restart cut off after an urgent report's alert was saved: what
    came of the alert so far, the emergency numbers, then the first optional question."""
    t, lang = context.t, context.registered_member().language
    assert draft.report_id is not None
    # Those still to go (cut off by the restart) go first: then the member is told.
    said = await tell_reporter(context, draft.report_id)
    more = t.html(lang, "urgent.more", number=draft.report_id)
    text = Html(f"{said}\n\n{more}")
    await send_prompt(context, chat_id, draft, answered=text)


# How long after an album's last photo its one acknowledgement is sent.
ALBUM_SETTLE = 1.5


async def acknowledge_photos(context: BotContext) -> None:
    """Job: say once how many photos the draft holds, after an album or a burst arrived."""
    job = context.job
    if job is None or job.chat_id is None or job.user_id is None:
        return
    context.member = await member_by_telegram_id(context.db, job.user_id)
    if context.member is None:
        return
    draft = context.draft = await draft_for(context.db, context.member.id)
    spec = FORMS[draft.kind].field(draft.step) if draft and draft.kind in FORMS else None
    if draft is None or spec is None or spec.kind is not FieldKind.PHOTOS:
        return  # the member moved on (tapped Done) before the photos settled
    t, lang = context.t, context.member.language
    count = len(draft.data.get(spec.key) or [])
    text = t.html(lang, "photos.received", count=count, limit=MAX_PHOTOS)
    refused = job.data if isinstance(job.data, int) else 0
    if refused:
        text = Html(f"{text}\n{t.html(lang, 'photos.refused', count=refused, limit=MAX_PHOTOS)}")
    await context.bot.send_message(
        job.chat_id, text, reply_markup=photo_buttons(context, draft, spec)
    )


def chat_of(update: Update) -> int:
    chat = update.effective_chat
    assert chat is not None
    return chat.id
