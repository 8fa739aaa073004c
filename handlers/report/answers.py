"""Taking answers: typed text, locations, photos and buttons of the report flow.

Every answer is judged by a pure function, its change committed to the draft, and only
then is the member answered: the draft always says where the member is.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import timedelta

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardMarkup, Update
from telegram.error import BadRequest

from domain import fields, flow, urgent
from domain.fields import KEEP, Accept, Button, Keep, Reject, Switch
from domain.forms import FORMS, SUMMARY_STEP, Field, FieldKind
from domain.models import Draft, Role
from domain.values import decode
from handlers.context import BotContext, origin_of
from handlers.menu import NOTHING, ask_over_open_draft, record_nothing_today
from handlers.report import urgent as urgent_flow
from handlers.report.prompts import asked, choice_values, photo_buttons, question, send_prompt
from handlers.report.resume import (
    ALBUM_SETTLE,
    acknowledge_photos,
    begin,
    chat_of,
    load_draft,
    say_discarded,
)
from handlers.report.submit import submit, submit_again
from presentation import callbacks
from presentation.callbacks import (
    AcknowledgeAlert,
    AnswerField,
    BackToDraft,
    ConfirmDiscard,
    ContinueDraft,
    DiscardDraft,
    EditField,
    KeepValue,
    ReplaceDraft,
    ReplaceWithNothing,
    SubmitDraft,
)
from presentation.i18n import Html
from presentation.keyboards import callback_button, close_buttons, main_keyboard, replace_screen
from storage.alerts import open_alerts_for
from storage.drafts import SaveOutcome, discard_draft, draft_under, save_draft_step


async def on_message(update: Update, context: BotContext) -> None:
    """Take a typed answer, location or photo for the member's current step."""
    member = context.registered_member()
    message = update.effective_message
    assert message is not None
    t, lang = context.t, member.language
    draft = await load_draft(context, message.chat_id)
    if draft is None:
        await idle_text(update, context)
        return
    if draft.step == SUMMARY_STEP:  # one message: why, then the summary and its buttons
        await send_prompt(
            context, message.chat_id, draft, answered=t.html(lang, "summary.use_buttons")
        )
        return
    spec = FORMS[draft.kind].field(draft.step)
    assert spec is not None
    answer = _answer_from(message, spec, context, draft.editing)
    if answer == Button(KEEP):
        await _keep_current(update, context, draft)
        return
    await _apply(update, context, draft, spec, answer)


async def on_callback(update: Update, context: BotContext) -> None:
    """Handle a button of the report flow; the data is checked, never trusted."""
    query = update.callback_query
    assert query is not None
    t, lang = context.t, context.registered_member().language
    data = callbacks.unpack(query.data or "")
    draft_id = getattr(data, "draft", None)
    if data is None or draft_id is None:
        await query.answer(t.plain(lang, "error.stale_button"))
        return
    draft = await load_draft(context, chat_of(update))
    if isinstance(data, SubmitDraft) and (draft is None or draft.id != draft_id):
        await submit_again(update, context, draft_id)
        return
    if draft is None or draft.id != draft_id:
        await query.answer(t.plain(lang, "error.stale_button"), show_alert=True)
        return
    await _on_draft_button(update, context, query, draft, data)


async def _on_draft_button(
    update: Update, context: BotContext, query: CallbackQuery, draft: Draft, data: object
) -> None:
    member = context.registered_member()
    t, lang = context.t, member.language
    form = FORMS[draft.kind]
    chat_id = chat_of(update)
    match data:
        case AnswerField(field=key, value=value):
            spec = form.field(key)
            if spec is None or key != draft.step:
                await query.answer(t.plain(lang, "error.already_answered"))
                return
            await _apply(update, context, draft, spec, Button(value))
        case KeepValue() if draft.editing:
            await query.answer()
            await close_buttons(query.message)
            await _keep_current(update, context, draft)
        case KeepValue() | EditField() if draft.step != SUMMARY_STEP:
            # A second tap on a summary button that already did its work: nothing to say.
            await query.answer()
        case EditField(field=key) if (change := flow.edit(form, draft, key)) is not None:
            outcome, context.draft = await save_draft_step(
                context.db, draft, change, origin_of(update)
            )
            await query.answer()
            if outcome is SaveOutcome.SAVED:
                await send_prompt(context, chat_id, context.draft, edit=query.message)
        case SubmitDraft() if draft.step == SUMMARY_STEP:
            await submit(update, context, draft, form)
        case DiscardDraft():
            # Never thrown away on one tap: asked first, in place of the summary.
            await query.answer()
            await replace_screen(query, *_discard_question(context, draft))
        case BackToDraft():
            await query.answer()
            await _back_to_draft(context, query, chat_id, draft)
        case ConfirmDiscard():
            await discard_draft(context.db, member.id, draft.id)
            await query.answer()
            await close_buttons(query.message)
            # A sent report reopened stays as it was sent: only the changes are dropped.
            done = (
                t.html(lang, "own.edit_discarded", number=draft.report_id)
                if draft.report_id is not None
                else t.html(lang, "cancel.done")
            )
            markup = main_keyboard(t, lang, member.role)
            await context.bot.send_message(chat_id, done, reply_markup=markup)
        case ContinueDraft():
            await query.answer()
            if await _took_buttons(query.message):  # not a second tap on the same question
                await send_prompt(context, chat_id, draft)
        case ReplaceDraft(kind=kind) if kind in FORMS or kind == urgent_flow.URGENT_START:
            await _replace(update, context, query, draft, kind)
        case ReplaceWithNothing():
            await _replace(update, context, query, draft, NOTHING)
        case _:
            await query.answer(t.plain(lang, "error.stale_button"), show_alert=True)


def _discard_question(context: BotContext, draft: Draft) -> tuple[Html, InlineKeyboardMarkup]:
    """The summary's discard, asked about first, with its two answers; for a sent report
    reopened, the question is whether to drop the changes."""
    t, lang = context.t, context.registered_member().language
    if draft.report_id is not None:
        text = t.html(lang, "discard.ask_edit", number=draft.report_id)
        confirm = t.plain(lang, "discard.confirm_edit")
    else:
        text, confirm = t.html(lang, "discard.ask"), t.plain(lang, "discard.confirm")
    buttons = [
        callback_button(confirm, ConfirmDiscard(draft.id).pack()),
        callback_button(t.plain(lang, "discard.back"), BackToDraft(draft.id).pack()),
    ]
    return text, InlineKeyboardMarkup([buttons])


async def _back_to_draft(
    context: BotContext, query: CallbackQuery, chat_id: int, draft: Draft
) -> None:
    """Not discarded after all: the summary (or wherever the draft now is) comes back in
    place of the question; a second tap finds it there already and changes nothing."""
    text, markup = question(context, draft)
    if isinstance(markup, ReplyKeyboardMarkup):  # only a new message can carry it
        if await _took_buttons(query.message):
            await context.bot.send_message(chat_id, text, reply_markup=markup)
        return
    await replace_screen(query, text, markup)


async def _replace(
    update: Update, context: BotContext, query: CallbackQuery, draft: Draft, then: str
) -> None:
    """Discard the open draft, chosen over a menu button, and do what the button does
    (``then``: a report kind, urgent, or NOTHING), in one write: a failure keeps the
    draft. A report open under the discarded one is never dropped with it: it is asked
    about in its turn."""
    member = context.registered_member()
    await query.answer()
    await close_buttons(query.message)
    under = await draft_under(context.db, member.id, draft.id)
    if under is not None:
        await discard_draft(context.db, member.id, draft.id)
        context.draft = under
        await say_discarded(context, chat_of(update), draft)
        await ask_over_open_draft(update, context, under, then)
        return
    if then == NOTHING:
        await record_nothing_today(update, context, replacing=draft)
    elif then == urgent_flow.URGENT_START:
        await urgent_flow.begin_urgent(update, context, replacing=draft)
    else:
        await begin(update, context, FORMS[then], replacing=draft)


async def _took_buttons(message: object) -> bool:
    """Take the tapped message's buttons away; False if they were gone already, as they
    are when the same button is tapped twice before the first tap's answer arrives."""
    if not isinstance(message, Message):
        return True
    try:
        await message.edit_reply_markup(None)
    except BadRequest as error:
        return "not modified" not in str(error).lower()  # too old to edit: go on
    return True


async def idle_text(update: Update, context: BotContext) -> None:
    """Text with no report under way. A supervisor typing "đã nhận" under an alert is
    offered the alerts still waiting for someone to take them, as buttons; anyone else is
    pointed to the menu."""
    member = context.registered_member()
    message = update.effective_message
    assert message is not None
    t, lang = context.t, member.language
    menu = main_keyboard(t, lang, member.role)
    if member.role in (Role.SUPERVISOR, Role.ADMIN):
        since = context.services.clock.now() - timedelta(days=1)
        waiting = await open_alerts_for(context.db, member.id, since)
        if waiting:
            buttons = [
                [callback_button(t.plain(lang, "idle.take_alert", number=number),
                                 AcknowledgeAlert(number).pack())]
                for number in waiting
            ]  # fmt: skip
            await message.reply_text(
                t.html(lang, "idle.open_alerts"), reply_markup=InlineKeyboardMarkup(buttons)
            )
            return
        await message.reply_text(t.html(lang, "idle.hint_supervisor"), reply_markup=menu)
        return
    await message.reply_text(t.html(lang, "idle.hint"), reply_markup=menu)


def _answer_from(
    message: Message, spec: Field, context: BotContext, editing: bool
) -> fields.Answer:
    """What the member sent, as the form engine understands it."""
    if message.location is not None:
        title = message.venue.title if message.venue is not None else None
        return fields.Location(message.location.latitude, message.location.longitude, title)
    if message.photo:
        largest = message.photo[-1]
        return fields.PhotoAnswer(largest.file_id, largest.file_unique_id)
    document = message.document
    if document is not None and (document.mime_type or "").startswith("image/"):
        return fields.PhotoAnswer(document.file_id, document.file_unique_id, "document")
    if message.text is not None:
        text = message.text
        # The place step's reply-keyboard buttons arrive as their own text.
        if spec.kind is FieldKind.PLACE and text in context.t.all_variants(spec.none_label):
            return Button(fields.NONE)
        if (
            spec.kind is FieldKind.PLACE
            and editing
            and text in context.t.all_variants("button.keep")
        ):
            return Button(KEEP)
        return fields.Text(text)
    return fields.Unsupported()


async def _apply(
    update: Update, context: BotContext, draft: Draft, spec: Field, answer: fields.Answer
) -> None:
    """Judge one answer, commit what it changes, then reply."""
    member = context.registered_member()
    t, lang = context.t, member.language
    query = update.callback_query
    chat_id = chat_of(update)
    form = FORMS[draft.kind]
    current = decode(spec, draft.data.get(spec.key))
    outcome = fields.interpret(
        spec, draft.mode, current, answer, context.moment(), choice_values(context, spec)
    )
    change = flow.advance(form, draft, spec, outcome)
    if isinstance(change, Reject):
        if change.error == "error.too_many_photos" and _settle_photos(update, context, 1):
            return  # counted into the one answer to the album or burst
        if query is not None:
            await query.answer(t.plain(lang, change.error, **change.values), show_alert=True)
        elif change.offer is not None:
            await _offer_reading(context, chat_id, draft, spec, change)
        else:
            # One message: the reason, then the question again with its buttons.
            text, markup = question(context, draft)
            reason = t.html(lang, change.error, **change.values)
            await context.bot.send_message(
                chat_id, Html(f"{reason}\n\n{text}"), reply_markup=markup
            )
        return

    if urgent.alert_ready(replace(draft, data=change.data)):
        # The last answer an urgent alert waits for: it is saved with the report itself.
        if query is not None:
            await query.answer()
        await urgent_flow.alert_now(update, context, draft, change)
        return
    saved, fresh = await save_draft_step(context.db, draft, change, origin_of(update))
    if saved is SaveOutcome.REPLAYED:
        return
    if saved is SaveOutcome.STALE:
        if query is not None:
            await query.answer(t.plain(lang, "error.already_answered"))
        return
    context.draft = fresh

    if query is not None:
        await query.answer()
    if isinstance(outcome, Keep):
        await _photo_received(update, context, fresh, spec, outcome)
        return
    answered: Html | None = None
    if query is not None:
        if isinstance(outcome, Switch):
            shown = t.html(lang, f"choice.{spec.kind.value}.{outcome.mode}")
        else:
            shown = context.renderer().value(
                spec, outcome.value if isinstance(outcome, Accept) else None
            )
        answered = t.html(lang, "choice.made", question=asked(context, draft, spec), answer=shown)
    elif isinstance(outcome, Accept) and outcome.note is not None:
        answered = t.html(lang, outcome.note, **outcome.values)
    if spec.kind is FieldKind.PLACE and isinstance(outcome, Accept):
        # The place step swapped in its own reply keyboard; bring the menu back. When the
        # next question has no buttons of its own, it comes in the same message.
        place = t.html(lang, "place.saved", place=context.renderer().value(spec, outcome.value))
        text, markup = question(context, fresh)
        if markup is None:
            await context.bot.send_message(
                chat_id,
                Html(f"{place}\n\n{text}"),
                reply_markup=main_keyboard(t, lang, context.registered_member().role),
            )
            return
        await context.bot.send_message(
            chat_id, place, reply_markup=main_keyboard(t, lang, context.registered_member().role)
        )
    await send_prompt(context, chat_id, fresh, answered=answered, edit=query and query.message)


async def _offer_reading(
    context: BotContext, chat_id: int, draft: Draft, spec: Field, refusal: Reject
) -> None:
    """Refuse a time still ahead today in one message, with yesterday's reading one tap away
    ("Tối qua 21:00"); the tap is judged again like any answer."""
    t, lang = context.t, context.registered_member().language
    offer = refusal.offer
    assert offer is not None
    shown = f"{offer:%H:%M}"
    label = (
        t.plain(lang, "when.offer.evening", time=shown)
        if offer.hour >= 18
        else t.plain(lang, "when.offer.yesterday", time=shown)
    )
    value = AnswerField(draft.id, spec.key, fields.offer_value(offer)).pack()
    await context.bot.send_message(
        chat_id,
        t.html(lang, refusal.error, **refusal.values),
        reply_markup=InlineKeyboardMarkup([[callback_button(label, value)]]),
    )


async def _photo_received(
    update: Update, context: BotContext, draft: Draft, spec: Field, outcome: Keep
) -> None:
    member = context.registered_member()
    chat_id = chat_of(update)
    if _settle_photos(update, context, refused=0):
        return
    markup = photo_buttons(context, draft, spec)
    text = context.t.html(member.language, outcome.notice, **outcome.values)
    query = update.callback_query
    if query is not None and isinstance(query.message, Message):
        with contextlib.suppress(BadRequest):
            await query.message.edit_text(text, reply_markup=markup)
            return
    await context.bot.send_message(chat_id, text, reply_markup=markup)


def _settle_photos(update: Update, context: BotContext, refused: int) -> bool:
    """Answer an album, or photos sent in a quick burst, once: after the last of them.

    Returns whether the answer was put off. The first photo of a burst is answered at
    once; any that follow within ALBUM_SETTLE, taken or refused, are counted into one
    answer after the burst. Fifty photos in albums were eighty-one messages before.
    """
    message = update.effective_message
    if message is None or update.callback_query is not None or context.job_queue is None:
        return False
    chat_id = chat_of(update)
    draft_id = context.draft.id if context.draft else 0
    now = context.services.clock.now()
    last = context.services.photo_bursts.get(chat_id)
    context.services.photo_bursts[chat_id] = (draft_id, now)
    in_burst = (
        last is not None and last[0] == draft_id and now - last[1] < timedelta(seconds=ALBUM_SETTLE)
    )
    if not message.media_group_id and not in_burst:
        return False
    name = f"photos:{chat_id}"
    for job in context.job_queue.get_jobs_by_name(name):
        if isinstance(job.data, int):
            refused += job.data
        job.schedule_removal()
    context.job_queue.run_once(
        acknowledge_photos,  # type: ignore[arg-type]  # PTB types jobs for its base context
        ALBUM_SETTLE,
        name=name,
        chat_id=chat_id,
        user_id=context.registered_member().telegram_user_id,
        data=refused,
    )
    return True


async def _keep_current(update: Update, context: BotContext, draft: Draft) -> None:
    """Leave the field being edited as it was and go back to the summary."""
    member = context.registered_member()
    t, lang = context.t, member.language
    form = FORMS[draft.kind]
    saved, fresh = await save_draft_step(
        context.db, draft, flow.keep(form, draft), origin_of(update)
    )
    if saved is not SaveOutcome.SAVED:
        return
    context.draft = fresh
    chat_id = chat_of(update)
    await context.bot.send_message(
        chat_id,
        t.html(lang, "edit.kept"),
        reply_markup=main_keyboard(t, lang, context.registered_member().role),
    )
    await send_prompt(context, chat_id, fresh)
