"""The report flow: one engine that walks any form in domain/forms.py.

Every answer is committed to the draft before the bot replies, so the draft always
says where the member is, across restarts and redelivered updates.

Callback data: ``r:<draft id>:<action>[:<field>[:<value>]]`` where action is
a (answer), e (edit from the summary), k (keep as it is while editing), s (submit),
x (discard), c (continue an open draft), n (discard it for a new report of a kind).
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from datetime import timedelta
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest

from domain import fields
from domain.fields import KEEP, Accept, Answer, Button, Keep, Reject, Switch
from domain.forms import FORMS, MAX_PHOTOS, SUMMARY_STEP, Field, FieldKind, Form
from domain.models import Draft, Member
from domain.reporting import missing_fields, new_report
from handlers.alerts import deliver_pending_alerts
from handlers.context import BotContext
from presentation.i18n import Html
from presentation.keyboards import callback_button, close_buttons, main_keyboard
from presentation.render import FormRenderer
from storage.catalogue import all_catalogues, catalogue_items
from storage.drafts import SaveOutcome, discard_draft, draft_for, save_draft_step, start_draft
from storage.members import member_by_telegram_id, nearest_supervisors
from storage.reports import (
    SubmitOutcome,
    latest_report_since,
    report_id_for_draft,
    submit_draft,
)

PREFIX = "r"


def _data(draft_id: int, action: str, *rest: str) -> str:
    return ":".join((PREFIX, str(draft_id), action, *rest))


# --- entry points -------------------------------------------------------------------


async def load_draft(context: BotContext, chat_id: int) -> Draft | None:
    """The member's draft, repaired or dropped if the forms changed since it was saved."""
    member = context.registered_member()
    draft = await draft_for(context.db, member.id)
    if draft is None:
        return None
    form = FORMS.get(draft.kind)
    if form is None:
        # A report kind this version no longer has: nothing can finish it.
        await discard_draft(context.db, member.id)
        await context.bot.send_message(
            chat_id,
            context.t.html(member.language, "draft.unusable"),
            reply_markup=main_keyboard(context.t, member.language),
        )
        return None
    if draft.step != SUMMARY_STEP and form.field(draft.step) is None:
        gaps = missing_fields(form, draft.data)
        step = gaps[0] if gaps else SUMMARY_STEP
        await save_draft_step(context.db, draft, data=draft.data, step=step, update_id=None)
        draft = await _fresh(context, member)
    return draft


async def start_incident(update: Update, context: BotContext) -> None:
    """Begin (or resume) an incident report."""
    await _begin(update, context, FORMS["incident"])


async def start_activity(update: Update, context: BotContext) -> None:
    """Begin (or resume) an activity report."""
    await _begin(update, context, FORMS["activity"])


async def _begin(update: Update, context: BotContext, form: Form) -> None:
    member = context.registered_member()
    chat_id = _chat_id(update)
    t, lang = context.t, member.language
    draft = await load_draft(context, chat_id)
    if draft is not None and draft.kind == form.kind:
        await context.bot.send_message(chat_id, t.html(lang, "draft.resume"))
        await send_prompt(context, chat_id, draft)
        return
    if draft is not None:
        # A different report is half done: never throw it away without asking.
        buttons = [
            [callback_button(t.plain(lang, "draft.continue"), _data(draft.id, "c"))],
            [callback_button(t.plain(lang, "draft.replace"), _data(draft.id, "n", form.kind))],
        ]
        await context.bot.send_message(
            chat_id,
            t.html(lang, "draft.other_open", title=t.html(lang, FORMS[draft.kind].title)),
            reply_markup=InlineKeyboardMarkup(buttons),
        )
        return
    started = await start_draft(
        context.db, member.id, form.kind, form.first_step(), update.update_id
    )
    if started is not None:
        await send_prompt(context, chat_id, started)


async def on_message(update: Update, context: BotContext) -> None:
    """Take a typed answer, location or photo for the member's current step."""
    member = context.registered_member()
    message = update.effective_message
    assert message is not None
    t, lang = context.t, member.language
    draft = await load_draft(context, message.chat_id)
    if draft is None:
        await message.reply_text(t.html(lang, "idle.hint"), reply_markup=main_keyboard(t, lang))
        return
    form = FORMS[draft.kind]
    if draft.step == SUMMARY_STEP:
        await message.reply_text(t.html(lang, "summary.use_buttons"))
        await send_prompt(context, message.chat_id, draft)
        return
    spec = form.field(draft.step)
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
    member = context.registered_member()
    t, lang = context.t, member.language
    parts = (query.data or "").split(":")
    if len(parts) < 3 or not parts[1].isdigit():
        await query.answer(t.plain(lang, "error.stale_button"))
        return
    draft_id, action, rest = int(parts[1]), parts[2], parts[3:]
    draft = await load_draft(context, _chat_id(update))

    if action == "s" and (draft is None or draft.id != draft_id):
        await _submit_again(update, context, draft_id)
        return
    if draft is None or draft.id != draft_id:
        await query.answer(t.plain(lang, "error.stale_button"), show_alert=True)
        return
    form = FORMS[draft.kind]
    chat_id = _chat_id(update)

    if action == "a" and len(rest) == 2:
        spec = form.field(rest[0])
        if spec is None or rest[0] != draft.step:
            await query.answer(t.plain(lang, "error.already_answered"))
            return
        await _apply(update, context, draft, spec, Button(rest[1]))
    elif action == "k" and draft.editing:
        await query.answer()
        await close_buttons(query.message)
        await _keep_current(update, context, draft)
    elif action in ("e", "k") and draft.step != SUMMARY_STEP:
        # A second tap on a summary button that already did its work: nothing to say.
        await query.answer()
    elif action == "e" and len(rest) == 1 and form.field(rest[0]) and draft.step == SUMMARY_STEP:
        outcome = await save_draft_step(
            context.db, draft, data=draft.data, step=rest[0], editing=True,
            update_id=update.update_id,
        )  # fmt: skip
        await query.answer()
        if outcome is SaveOutcome.SAVED:
            await close_buttons(query.message)
            await send_prompt(context, chat_id, await _fresh(context, member))
    elif action == "s" and draft.step == SUMMARY_STEP:
        await _submit(update, context, draft, form)
    elif action == "x":
        await discard_draft(context.db, member.id)
        await query.answer()
        await close_buttons(query.message)
        await context.bot.send_message(
            chat_id, t.html(lang, "cancel.done"), reply_markup=main_keyboard(t, lang)
        )
    elif action == "c":
        await query.answer()
        await close_buttons(query.message)
        await send_prompt(context, chat_id, draft)
    elif action == "n" and len(rest) == 1 and rest[0] in FORMS:
        new_form = FORMS[rest[0]]
        await query.answer()
        started = await start_draft(
            context.db, member.id, new_form.kind, new_form.first_step(), update.update_id
        )
        await close_buttons(query.message)
        if started is not None:
            # The old report may have been at the place step, with its own keyboard.
            await context.bot.send_message(
                chat_id, t.html(lang, "draft.discarded"), reply_markup=main_keyboard(t, lang)
            )
            await send_prompt(context, chat_id, started)
    else:
        await query.answer(t.plain(lang, "error.stale_button"), show_alert=True)


# --- answering a step ---------------------------------------------------------------


def _answer_from(message: Message, spec: Field, context: BotContext, editing: bool) -> Answer:
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


async def _choices(context: BotContext, spec: Field) -> list[str]:
    if spec.catalogue:
        return [item.code for item in await catalogue_items(context.db, spec.catalogue)]
    if spec.options:
        return [option.value for option in spec.options]
    return []


async def _apply(
    update: Update, context: BotContext, draft: Draft, spec: Field, answer: Answer
) -> None:
    """Judge one answer, commit what it changes, then reply."""
    member = context.registered_member()
    t, lang = context.t, member.language
    query = update.callback_query
    chat_id = _chat_id(update)
    form = FORMS[draft.kind]
    current = draft.data.get(spec.key)
    outcome = fields.interpret(
        spec, draft.mode, current, answer, context.clock(), await _choices(context, spec)
    )

    if isinstance(outcome, Reject):
        error = t.html(lang, outcome.error, **outcome.values)
        if query is not None:
            await query.answer(t.plain(lang, outcome.error, **outcome.values), show_alert=True)
        else:
            await context.bot.send_message(chat_id, error)
            await send_prompt(context, chat_id, draft)
        return

    data = dict(draft.data)
    step, mode, editing = draft.step, draft.mode, draft.editing
    if isinstance(outcome, Switch):
        mode = outcome.mode
    elif isinstance(outcome, Keep):
        data[spec.key] = outcome.value
    else:
        data[spec.key] = outcome.value
        step = SUMMARY_STEP if editing else form.step_after(spec.key)
        mode, editing = "", False
        if step == SUMMARY_STEP and (gaps := missing_fields(form, data)):
            step = gaps[0]

    saved = await save_draft_step(
        context.db, draft, data=data, step=step, mode=mode, editing=editing,
        update_id=update.update_id,
    )  # fmt: skip
    if saved is SaveOutcome.REPLAYED:
        return
    if saved is SaveOutcome.STALE:
        if query is not None:
            await query.answer(t.plain(lang, "error.already_answered"))
        return

    if query is not None:
        await query.answer()
        if not isinstance(outcome, Keep):
            await _show_choice(context, query.message, spec, data.get(spec.key), outcome)
    fresh = await _fresh(context, member)
    album = update.effective_message.media_group_id if update.effective_message else None
    if isinstance(outcome, Keep) and album and context.job_queue is not None:
        # An album arrives as one update per photo: answer once, after the last one.
        name = f"album:{chat_id}:{album}"
        for job in context.job_queue.get_jobs_by_name(name):
            job.schedule_removal()
        context.job_queue.run_once(
            acknowledge_album,  # type: ignore[arg-type]  # PTB types jobs for its base context
            ALBUM_SETTLE,
            name=name,
            chat_id=chat_id,
            user_id=member.telegram_user_id,
        )
        return
    if isinstance(outcome, Keep):
        await context.bot.send_message(
            chat_id,
            t.html(lang, outcome.notice, **outcome.values),
            reply_markup=_photo_buttons(context, fresh, spec),
        )
        return
    if spec.kind is FieldKind.PLACE and isinstance(outcome, Accept):
        # The place step swapped in its own reply keyboard; bring the menu back.
        shown = (await _renderer(context)).value(spec, outcome.value)
        await context.bot.send_message(
            chat_id, t.html(lang, "place.saved", place=shown), reply_markup=main_keyboard(t, lang)
        )
    await send_prompt(context, chat_id, fresh)


# How long after an album's last photo its one acknowledgement is sent.
ALBUM_SETTLE = 1.5


async def acknowledge_album(context: BotContext) -> None:
    """Job: say once how many photos the draft now holds, after an album arrived."""
    job = context.job
    if job is None or job.chat_id is None or job.user_id is None:
        return
    context.member = await member_by_telegram_id(context.db, job.user_id)
    if context.member is None:
        return
    draft = await draft_for(context.db, context.member.id)
    spec = FORMS[draft.kind].field(draft.step) if draft and draft.kind in FORMS else None
    if draft is None or spec is None or spec.kind is not FieldKind.PHOTOS:
        return  # the member moved on (tapped Done) before the album settled
    count = len(draft.data.get(spec.key) or [])
    await context.bot.send_message(
        job.chat_id,
        context.t.html(context.member.language, "photos.received", count=count, limit=MAX_PHOTOS),
        reply_markup=_photo_buttons(context, draft, spec),
    )


async def _keep_current(update: Update, context: BotContext, draft: Draft) -> None:
    """Leave the field being edited as it was and go back to the summary."""
    member = context.registered_member()
    t, lang = context.t, member.language
    saved = await save_draft_step(
        context.db, draft, data=draft.data, step=SUMMARY_STEP, update_id=update.update_id
    )
    if saved is not SaveOutcome.SAVED:
        return
    chat_id = _chat_id(update)
    await context.bot.send_message(
        chat_id, t.html(lang, "edit.kept"), reply_markup=main_keyboard(t, lang)
    )
    await send_prompt(context, chat_id, await _fresh(context, member))


async def _show_choice(
    context: BotContext, message: Any, spec: Field, value: Any, outcome: Any
) -> None:
    """Replace the tapped question's buttons with the answer, so old buttons can't linger."""
    if not isinstance(message, Message) or message.text_html is None:
        return
    lang = context.registered_member().language
    if isinstance(outcome, Switch):
        shown = context.t.html(lang, f"choice.{spec.kind.value}.{outcome.mode}")
    else:
        shown = (await _renderer(context)).value(spec, value)
    # A message too old to edit is fine: the answer is stored either way.
    with contextlib.suppress(BadRequest):
        await message.edit_text(
            context.t.html(lang, "choice.made", question=Html(message.text_html), answer=shown)
        )


async def _fresh(context: BotContext, member: Member) -> Draft:
    draft = await draft_for(context.db, member.id)
    assert draft is not None
    return draft


# --- prompts ------------------------------------------------------------------------


async def _renderer(context: BotContext) -> FormRenderer:
    return FormRenderer(
        context.t,
        context.registered_member().language,
        context.settings.timezone,
        await all_catalogues(context.db),
    )


async def send_prompt(context: BotContext, chat_id: int, draft: Draft) -> None:
    """Ask the draft's current question (or show its summary)."""
    t, lang = context.t, context.registered_member().language
    form = FORMS[draft.kind]
    if draft.step == SUMMARY_STEP:
        renderer = await _renderer(context)
        await context.bot.send_message(
            chat_id,
            renderer.summary(form, draft.data),
            reply_markup=_summary_buttons(context, draft, form),
        )
        return
    spec = form.field(draft.step)
    assert spec is not None
    key = f"{spec.prompt}.{draft.mode}" if draft.mode else spec.prompt
    text = t.html(lang, key)
    current = draft.data.get(spec.key)
    if draft.editing and current is not None and spec.kind is not FieldKind.PHOTOS:
        shown = (await _renderer(context)).value(spec, current)
        text = t.html(lang, "prompt.editing", prompt=text, current=shown)
    markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None
    if spec.kind is FieldKind.PLACE:
        markup = place_keyboard(context, spec, draft.editing)
    elif spec.kind is FieldKind.PHOTOS:
        markup = _photo_buttons(context, draft, spec)
    else:
        choices = await _choice_labels(context, spec)
        markup = _question_buttons(context, draft, spec, choices)
    await context.bot.send_message(chat_id, text, reply_markup=markup)


def place_keyboard(context: BotContext, spec: Field, editing: bool) -> ReplyKeyboardMarkup:
    """Location sharing only exists on reply-keyboard buttons, so the place step has its own."""
    t, lang = context.t, context.registered_member().language
    rows = [
        [KeyboardButton(t.plain(lang, "place.send_location"), request_location=True)],
        [KeyboardButton(t.plain(lang, spec.none_label))],
    ]
    if editing:
        rows.append([KeyboardButton(t.plain(lang, "button.keep"))])
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)


async def reply_keyboard_for(context: BotContext) -> ReplyKeyboardMarkup:
    """The keyboard to leave under the chat: the place step's while a draft is on it."""
    member = context.registered_member()
    draft = await draft_for(context.db, member.id)
    form = FORMS.get(draft.kind) if draft else None
    spec = form.field(draft.step) if form and draft else None
    if draft is not None and spec is not None and spec.kind is FieldKind.PLACE:
        return place_keyboard(context, spec, draft.editing)
    return main_keyboard(context.t, member.language)


async def _choice_labels(context: BotContext, spec: Field) -> list[tuple[str, str]]:
    """(value, label) pairs for the buttons of a question."""
    t, lang = context.t, context.registered_member().language
    if spec.catalogue:
        items = await catalogue_items(context.db, spec.catalogue)
        return [(item.code, item.name(lang)) for item in items]
    if spec.options:
        return [(o.value, t.plain(lang, o.label)) for o in spec.options]
    fixed: dict[FieldKind, Collection[str]] = {
        FieldKind.WHEN: (fields.NOW, fields.TODAY, fields.OTHER),
        FieldKind.DAY: (fields.TODAY, fields.YESTERDAY, fields.OTHER),
        FieldKind.DURATION: fields.DURATION_CHOICES,
        FieldKind.COUNT: fields.COUNT_CHOICES,
    }
    return [(v, t.plain(lang, f"button.{spec.kind.value}.{v}")) for v in fixed.get(spec.kind, ())]


def _question_buttons(
    context: BotContext, draft: Draft, spec: Field, choices: list[tuple[str, str]]
) -> InlineKeyboardMarkup | None:
    t, lang = context.t, context.registered_member().language
    buttons = [
        callback_button(label, _data(draft.id, "a", spec.key, value)) for value, label in choices
    ]
    # Short labels share a row; catalogue names are long and get one each.
    per_row = 1 if spec.catalogue or spec.kind is FieldKind.CHOICE else 3
    if spec.kind is FieldKind.COUNT:
        per_row = 6
    rows = [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
    if spec.optional:
        skip = _data(draft.id, "a", spec.key, fields.SKIP)
        rows.append([callback_button(t.plain(lang, "button.skip"), skip)])
    if draft.editing:
        rows.append([callback_button(t.plain(lang, "button.keep"), _data(draft.id, "k"))])
    return InlineKeyboardMarkup(rows) if rows else None


def _photo_buttons(context: BotContext, draft: Draft, spec: Field) -> InlineKeyboardMarkup:
    t, lang = context.t, context.registered_member().language
    count = len(draft.data.get(spec.key) or [])
    if count == 0:
        skip = _data(draft.id, "a", spec.key, fields.SKIP)
        return InlineKeyboardMarkup([[callback_button(t.plain(lang, "button.skip"), skip)]])
    done = _data(draft.id, "a", spec.key, fields.DONE)
    clear = _data(draft.id, "a", spec.key, fields.CLEAR)
    return InlineKeyboardMarkup(
        [
            [callback_button(t.plain(lang, "button.photos_done", count=count), done)],
            [callback_button(t.plain(lang, "button.photos_clear"), clear)],
        ]
    )


def _summary_buttons(context: BotContext, draft: Draft, form: Form) -> InlineKeyboardMarkup:
    t, lang = context.t, context.registered_member().language
    edits: list[InlineKeyboardButton] = [
        callback_button(
            t.plain(lang, "button.edit", label=t.plain(lang, f.label)), _data(draft.id, "e", f.key)
        )
        for f in form.fields
    ]
    rows = [edits[i : i + 2] for i in range(0, len(edits), 2)]
    rows.append(
        [
            callback_button(t.plain(lang, "button.submit"), _data(draft.id, "s")),
            callback_button(t.plain(lang, "button.discard"), _data(draft.id, "x")),
        ]
    )
    return InlineKeyboardMarkup(rows)


# --- submitting ---------------------------------------------------------------------


async def _submit(update: Update, context: BotContext, draft: Draft, form: Form) -> None:
    """Save the report, tell the member its number, alert supervisors if urgent."""
    query = update.callback_query
    assert query is not None
    member = context.registered_member()
    t, lang = context.t, member.language
    if gaps := missing_fields(form, draft.data):
        await query.answer(t.plain(lang, "error.required"), show_alert=True)
        await save_draft_step(context.db, draft, data=draft.data, step=gaps[0], update_id=None)
        await send_prompt(context, _chat_id(update), await _fresh(context, member))
        return
    report = new_report(form, draft.data, context.settings.timezone)
    supervisors = []
    if report.urgent:
        # A supervisor reporting an urgent incident should not be alerted about it.
        nearest = await nearest_supervisors(context.db, member.unit_code)
        supervisors = [s for s in nearest if s.id != member.id]
    result = await submit_draft(
        context.db,
        draft.id,
        member,
        report,
        [s.id for s in supervisors],
        context.services.now(),
        update.update_id,
    )
    if result.outcome is SubmitOutcome.ALREADY_SUBMITTED:
        await query.answer(t.plain(lang, "report.already_submitted", number=result.report_id))
        return
    if result.outcome is SubmitOutcome.GONE or result.report_id is None:
        await query.answer(t.plain(lang, "error.stale_button"))
        return
    await query.answer()
    await close_buttons(query.message)
    key, delivered = "report.submitted", 0
    if report.urgent:
        # Alerts first: they matter most, and the member is told how many really went.
        delivered = await deliver_pending_alerts(context.bot, context.services, result.report_id)
        key = "report.submitted_urgent" if delivered else "report.submitted_urgent_nobody"
    await context.bot.send_message(
        _chat_id(update),
        t.html(lang, key, number=result.report_id, count=delivered),
        reply_markup=main_keyboard(t, lang),
    )


async def _submit_again(update: Update, context: BotContext, draft_id: int) -> None:
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


# How far back a report counts as "the one you just sent" when a reply was lost.
RECENT_SUBMIT = timedelta(hours=1)


async def show_where_member_is(context: BotContext, chat_id: int) -> None:
    """After a lost reply: repeat the current question, or confirm the report just sent."""
    member = context.registered_member()
    t, lang = context.t, member.language
    draft = await load_draft(context, chat_id)
    if draft is not None:
        await context.bot.send_message(chat_id, t.html(lang, "draft.resume"))
        await send_prompt(context, chat_id, draft)
        return
    since = context.services.now() - RECENT_SUBMIT
    report_id = await latest_report_since(context.db, member.id, since)
    key = "report.submitted" if report_id is not None else "idle.hint"
    await context.bot.send_message(
        chat_id, t.html(lang, key, number=report_id), reply_markup=main_keyboard(t, lang)
    )


def _chat_id(update: Update) -> int:
    chat = update.effective_chat
    assert chat is not None
    return chat.id
