"""Starting, resuming and finding a report in progress, across restarts and lost replies."""

from __future__ import annotations

from datetime import timedelta

from telegram import InlineKeyboardMarkup, Update

from domain import flow
from domain.access import Action
from domain.forms import FORMS, MAX_PHOTOS, FieldKind, Form
from domain.models import Draft
from handlers.context import BotContext, origin_of
from handlers.guard import permit
from handlers.report.prompts import photo_buttons, send_prompt
from presentation.callbacks import ContinueDraft, ReplaceDraft
from presentation.i18n import Html
from presentation.keyboards import callback_button, main_keyboard
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


async def start_incident(update: Update, context: BotContext) -> None:
    """Begin (or resume) an incident report."""
    await begin(update, context, FORMS["incident"])


async def start_activity(update: Update, context: BotContext) -> None:
    """Begin (or resume) an activity report."""
    await begin(update, context, FORMS["activity"])


async def begin(update: Update, context: BotContext, form: Form) -> None:
    """Ask the first question of a new report, unless another one is half done."""
    if not await permit(update, context, Action.REPORT):
        return
    member = context.registered_member()
    chat_id = chat_of(update)
    t, lang = context.t, member.language
    draft = await load_draft(context, chat_id)
    if draft is not None and draft.kind == form.kind:
        await context.bot.send_message(chat_id, t.html(lang, "draft.resume"))
        await send_prompt(context, chat_id, draft)
        return
    if draft is not None:
        # A different report is half done: never throw it away without asking.
        buttons = [
            [callback_button(t.plain(lang, "draft.continue"), ContinueDraft(draft.id).pack())],
            [
                callback_button(
                    t.plain(lang, "draft.replace"), ReplaceDraft(draft.id, form.kind).pack()
                )
            ],
        ]
        await context.bot.send_message(
            chat_id,
            t.html(lang, "draft.other_open", title=t.html(lang, FORMS[draft.kind].title)),
            reply_markup=InlineKeyboardMarkup(buttons),
        )
        return
    started = await start_draft(
        context.db, member.id, form.kind, form.first_step(), origin_of(update)
    )
    if started is not None:
        context.draft = started
        await send_prompt(context, chat_id, started)


async def show_where_member_is(context: BotContext, chat_id: int) -> None:
    """After a lost reply: repeat the current question, or confirm the report just sent."""
    member = context.registered_member()
    t, lang = context.t, member.language
    context.draft = await draft_for(context.db, member.id)
    draft = await load_draft(context, chat_id)
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
