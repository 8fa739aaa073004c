"""Asking a draft's current question, or showing its summary, with the right buttons.

A question answered by a button is edited into the next one: one Bot API call per
answer instead of two, so Telegram's 30-a-second budget serves twice the members.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)
from telegram.error import BadRequest

from domain import fields, urgent
from domain.catalogue import MAX_SHORT_LABEL
from domain.forms import FORMS, SUMMARY_STEP, Field, FieldKind, Form
from domain.models import Draft
from domain.values import decode
from handlers.context import BotContext
from presentation.callbacks import AnswerField, DiscardDraft, EditField, KeepValue, SubmitDraft
from presentation.i18n import Html
from presentation.keyboards import callback_button, main_keyboard

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | None


def question(context: BotContext, draft: Draft) -> tuple[Html, Markup]:
    """The draft's current question (or summary) and its buttons."""
    t, lang = context.t, context.registered_member().language
    form = FORMS[draft.kind]
    if draft.step == SUMMARY_STEP:
        follow_up = urgent.is_follow_up(draft)
        wording = "urgent.more_summary" if follow_up else "summary.body"
        summary = context.renderer().summary(form, draft.data, wording)
        if draft.report_id is not None:  # a sent report reopened: say which
            header = "urgent.more_header" if follow_up else "own.editing_header"
            editing = t.html(lang, header, number=draft.report_id)
            summary = Html(f"{editing}\n{summary}")
        return summary, _summary_buttons(context, draft, form)
    spec = form.field(draft.step)
    assert spec is not None
    text = asked(context, draft, spec)
    current = decode(spec, draft.data.get(spec.key))
    if draft.editing and current is not None and spec.kind is not FieldKind.PHOTOS:
        shown = context.renderer().value(spec, current)
        text = t.html(lang, "prompt.editing", prompt=text, current=shown)
    markup: Markup
    if spec.kind is FieldKind.PLACE:
        markup = place_keyboard(context, spec, draft.editing)
    elif spec.kind is FieldKind.PHOTOS:
        markup = photo_buttons(context, draft, spec)
    else:
        markup = _question_buttons(context, draft, spec, _choice_labels(context, spec))
    return text, markup


def asked(context: BotContext, draft: Draft, spec: Field) -> Html:
    """The question a field is asked with, in the draft's current mode (e.g. "type the time")."""
    lang = context.registered_member().language
    if (day := fields.day_of_mode(draft.mode)) is not None:
        # A date was typed without a time: only the time is asked for now.
        return context.t.html(lang, "when.ask_time_on", day=f"{day:%d/%m/%Y}")
    key = f"{spec.prompt}.{draft.mode}" if draft.mode else spec.prompt
    if not draft.mode and urgent.asks_for_alert(draft, spec.key):
        key = f"urgent.ask.{spec.key}"  # "1/3 …": how far the alert is
    return context.t.html(lang, key)


async def send_prompt(
    context: BotContext, chat_id: int, draft: Draft, *, answered: Html | None = None,
    edit: object = None,
) -> None:  # fmt: skip
    """Ask the draft's current question.

    With ``edit`` (the message whose button was just tapped) the question replaces that
    message, after ``answered`` (the question it asked and the answer given), wherever
    the next question's buttons can go on an edited message.
    """
    text, markup = question(context, draft)
    if isinstance(edit, Message) and not isinstance(markup, ReplyKeyboardMarkup):
        shown = Html(f"{answered}\n\n{text}") if answered else text
        with contextlib.suppress(BadRequest):  # too old to edit: send it anew below
            await edit.edit_text(shown, reply_markup=markup)
            return
    elif isinstance(edit, Message) and answered:
        # The place step needs its reply keyboard, which only a new message can carry.
        with contextlib.suppress(BadRequest):
            await edit.edit_text(answered)
    elif answered:  # a typed answer read loosely: say how, above the next question
        text = Html(f"{answered}\n\n{text}")
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


def reply_keyboard_for(context: BotContext) -> ReplyKeyboardMarkup:
    """The keyboard to leave under the chat: the place step's while a draft is on it."""
    member = context.registered_member()
    draft = context.draft
    form = FORMS.get(draft.kind) if draft else None
    spec = form.field(draft.step) if form and draft else None
    if draft is not None and spec is not None and spec.kind is FieldKind.PLACE:
        return place_keyboard(context, spec, draft.editing)
    return main_keyboard(context.t, member.language, member.role)


def choice_values(context: BotContext, spec: Field) -> list[str]:
    """The button values a question accepts."""
    return [value for value, _ in _choice_labels(context, spec)]


def _choice_labels(context: BotContext, spec: Field) -> list[tuple[str, str]]:
    """(value, label) pairs for the buttons of a question."""
    t, lang = context.t, context.registered_member().language
    if spec.catalogue:
        return [(item.code, item.short(lang)) for item in context.services.items(spec.catalogue)]
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
        callback_button(label, AnswerField(draft.id, spec.key, value).pack())
        for value, label in choices
    ]
    rows: list[list[InlineKeyboardButton]]
    if spec.catalogue:
        rows = _paired(buttons)
    else:
        # Short labels share a row; a fixed choice's options are sentences and get one each.
        per_row = 1 if spec.kind is FieldKind.CHOICE else 3
        if spec.kind is FieldKind.COUNT:
            per_row = 6
        rows = [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
    if spec.optional:
        skip = AnswerField(draft.id, spec.key, fields.SKIP).pack()
        rows.append([callback_button(t.plain(lang, "button.skip"), skip)])
    if draft.editing:
        rows.append([callback_button(t.plain(lang, "button.keep"), KeepValue(draft.id).pack())])
    return InlineKeyboardMarkup(rows) if rows else None


def _paired(buttons: list[InlineKeyboardButton]) -> list[list[InlineKeyboardButton]]:
    """Catalogue buttons two to a row, in catalogue order, so 16 fit a phone's screen.

    A label too long for half the width (a deployment's item without a short label) gets
    a row of its own rather than being cut off.
    """
    rows: list[list[InlineKeyboardButton]] = []
    pair: list[InlineKeyboardButton] = []
    for button in buttons:
        if len(button.text) > MAX_SHORT_LABEL:
            if pair:
                rows.append(pair)
                pair = []
            rows.append([button])
            continue
        pair.append(button)
        if len(pair) == 2:
            rows.append(pair)
            pair = []
    if pair:
        rows.append(pair)
    return rows


def photo_buttons(context: BotContext, draft: Draft, spec: Field) -> InlineKeyboardMarkup:
    t, lang = context.t, context.registered_member().language
    count = len(draft.data.get(spec.key) or [])
    if count == 0:
        skip = AnswerField(draft.id, spec.key, fields.SKIP).pack()
        return InlineKeyboardMarkup([[callback_button(t.plain(lang, "button.skip"), skip)]])
    done = AnswerField(draft.id, spec.key, fields.DONE).pack()
    clear = AnswerField(draft.id, spec.key, fields.CLEAR).pack()
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
            t.plain(lang, "button.edit", label=t.plain(lang, f.label)),
            EditField(draft.id, f.key).pack(),
        )
        for f in form.applicable(draft.data)
        # An urgent follow-up stays urgent: its alert has gone out.
        if not (urgent.is_follow_up(draft) and f.key in urgent.LOCKED_IN_FOLLOW_UP)
    ]
    rows = [edits[i : i + 2] for i in range(0, len(edits), 2)]
    submit = "button.submit_more" if urgent.is_follow_up(draft) else "button.submit"
    rows.append(
        [
            callback_button(t.plain(lang, submit), SubmitDraft(draft.id).pack()),
            callback_button(t.plain(lang, "button.discard"), DiscardDraft(draft.id).pack()),
        ]
    )
    return InlineKeyboardMarkup(rows)
