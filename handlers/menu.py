"""Short commands: /help, /language, /cancel, /nothing, /my; the menu's shortcut buttons."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from domain.access import OVERSEERS, Action
from domain.deadlines import skipped, window_of
from domain.forms import FORMS, Form
from domain.models import Draft
from domain.settings import SUPPORTED_LANGUAGES
from domain.values import decode
from handlers.context import BotContext, origin_of
from handlers.guard import permit
from handlers.own_reports import own_buttons, own_line
from handlers.report.prompts import reply_keyboard_for
from handlers.report.resume import begin, chat_of, load_draft, say_discarded
from presentation.callbacks import ChooseLanguage, ContinueDraft, ReplaceDraft, ReplaceWithNothing
from presentation.i18n import Html
from presentation.keyboards import callback_button, close_buttons, main_keyboard
from presentation.render import local_day, local_time
from storage.deadlines import active_rules, standings
from storage.drafts import discard_draft
from storage.holidays import holiday_days
from storage.members import overseers_and_tree, set_language
from storage.reports import recent_reports, record_nothing


async def show_help(update: Update, context: BotContext) -> None:
    """Explain the bot in a few lines, with the main keyboard."""
    member = context.registered_member()
    key = "help.supervisor" if member.role in OVERSEERS else "help.member"
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        context.t.html(member.language, key), reply_markup=reply_keyboard_for(context)
    )


async def ask_language(update: Update, context: BotContext) -> None:
    """Offer the supported languages as buttons."""
    t, language = context.t, context.registered_member().language
    buttons = [
        callback_button(t.plain(code, "language.name"), ChooseLanguage(code).pack())
        for code in SUPPORTED_LANGUAGES
    ]
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        t.html(language, "language.ask"), reply_markup=InlineKeyboardMarkup([buttons])
    )


async def choose_language(update: Update, context: BotContext) -> None:
    """Store the chosen language and show the keyboard in it."""
    query = update.callback_query
    assert query is not None
    member = context.registered_member()
    data = ChooseLanguage.unpack(query.data)
    language = data.language if data is not None else ""
    if language not in SUPPORTED_LANGUAGES:
        await query.answer(context.t.plain(member.language, "error.stale_button"))
        return
    await set_language(context.db, member.id, language)
    await query.answer()
    await close_buttons(query.message)
    context.member = replace(member, language=language)
    assert update.effective_chat is not None
    await context.bot.send_message(
        update.effective_chat.id,
        context.t.html(language, "language.set"),
        reply_markup=reply_keyboard_for(context),
    )


async def cancel(update: Update, context: BotContext) -> None:
    """Discard the member's draft, if any. A sent report reopened (an edit, or what is
    being added to an urgent incident) stays as it was sent: only the changes go."""
    member = context.registered_member()
    open_draft = context.draft
    discarded = await discard_draft(context.db, member.id)
    context.draft = None
    t, lang = context.t, member.language
    if not discarded:
        said = t.html(lang, "cancel.nothing")
    elif open_draft is not None and open_draft.report_id is not None:
        said = t.html(lang, "own.edit_discarded", number=open_draft.report_id)
    else:
        said = t.html(lang, "cancel.done")
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        said, reply_markup=main_keyboard(t, lang, member.role)
    )


async def nothing_to_report(update: Update, context: BotContext) -> None:
    """Record "nothing to report" for today, once however often it is tapped.

    Over an open report, ask first: the day may well have something to report after all.
    """
    if not await permit(update, context, Action.REPORT):
        return
    if (draft := await load_draft(context, chat_of(update))) is not None:
        await ask_over_open_draft(update, context, draft, NOTHING)
        return
    await record_nothing_today(update, context)


async def record_nothing_today(
    update: Update, context: BotContext, *, replacing: Draft | None = None
) -> None:
    """Record "nothing new" for today; ``replacing``: the open draft the member chose to
    drop for it, dropped in the same write."""
    member = context.registered_member()
    today = context.moment().today
    created, number = await record_nothing(
        context.db, member, today, origin_of(update), replacing.id if replacing else None
    )
    chat_id = chat_of(update)
    if replacing is not None:
        context.draft = None
        await say_discarded(context, chat_id, replacing)
    key = "nothing.recorded" if created else "nothing.already"
    await context.bot.send_message(
        chat_id,
        context.t.html(member.language, key, day=local_day(today), number=number),
        reply_markup=reply_keyboard_for(context),
    )


# --- a menu button over an open report ------------------------------------------------
# Starting another report, or recording "nothing new", while a report is open asks first,
# in one message: go on with that report, or discard it and do what the button does.
# Read-only buttons and commands (/my, /help, /language…) never touch the open report.

NOTHING = "nothing"  # the new thing is recording "nothing new" for today, not a report
_OPEN_KIND = {"incident": "draft.open.incident", "activity": "draft.open.activity"}
_THEN = {
    "urgent": "draft.then.urgent",
    "incident": "draft.then.incident",
    "activity": "draft.then.activity",
    NOTHING: "draft.then.nothing",
}
_DISCARD_FOR = {
    "urgent": "draft.discard_for.urgent",
    "incident": "draft.discard_for.incident",
    "activity": "draft.discard_for.activity",
    NOTHING: "draft.discard_for.nothing",
}


async def start_incident(update: Update, context: BotContext) -> None:
    """/incident and its menu button."""
    await start_report(update, context, FORMS["incident"])


async def start_activity(update: Update, context: BotContext) -> None:
    """/activity and its menu button."""
    await start_report(update, context, FORMS["activity"])


async def start_report(update: Update, context: BotContext, form: Form) -> None:
    """Begin a report of this form, or resume the open one of the same kind; over any other
    open report (a reopened sent report included), ask first."""
    if not await permit(update, context, Action.REPORT):
        return
    draft = await load_draft(context, chat_of(update))
    if draft is not None and (draft.kind != form.kind or draft.report_id is not None):
        await ask_over_open_draft(update, context, draft, form.kind)
        return
    await begin(update, context, form)


async def ask_over_open_draft(update: Update, context: BotContext, draft: Draft, then: str) -> None:
    """Ask whether to go on with the open draft or discard it and do ``then`` (a report
    kind, or NOTHING). The draft is left as it is until a button says otherwise."""
    t, lang = context.t, context.registered_member().language
    next_thing = t.html(lang, _THEN.get(then, "draft.then.report"))
    if draft.report_id is not None:  # a sent report reopened: only the changes would go
        text = t.html(lang, "draft.open_edit_ask", number=draft.report_id, then=next_thing)
        go_on = t.plain(lang, "draft.continue_edit")
    else:
        text = t.html(lang, "draft.open_ask", what=_open_report(context, draft), then=next_thing)
        go_on = t.plain(lang, "draft.continue")
    replace = ReplaceWithNothing(draft.id) if then == NOTHING else ReplaceDraft(draft.id, then)
    buttons = [
        [callback_button(go_on, ContinueDraft(draft.id).pack())],
        [callback_button(t.plain(lang, _DISCARD_FOR.get(then, "draft.replace")), replace.pack())],
    ]
    await context.bot.send_message(
        chat_of(update), text, reply_markup=InlineKeyboardMarkup(buttons)
    )


def _open_report(context: BotContext, draft: Draft) -> Html:
    """The open report in a few words: "một vụ việc (Trộm cắp tài sản)"."""
    t, lang = context.t, context.registered_member().language
    form = FORMS[draft.kind]
    key = _OPEN_KIND.get(draft.kind)
    what = t.html(lang, key) if key is not None else t.html(lang, form.title)
    first = form.fields[0]
    value = decode(first, draft.data.get(first.key))
    if value is None:
        return what
    return Html(f"{what} ({context.renderer().value(first, value)})")


async def unknown_command(update: Update, context: BotContext) -> None:
    """Answer a command the bot does not have, instead of silence."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        context.t.html(context.registered_member().language, "command.unknown"),
        reply_markup=reply_keyboard_for(context),
    )


def as_command(name: str) -> Callable[[Update, BotContext], Coroutine[Any, Any, None]]:
    """A menu button that does exactly what the command ``/name`` does.

    The command's handler is looked up when the button is tapped, among those registered
    (bot/app.py), so the button follows whichever module answers the command; a command
    not registered answers as an unknown command does, never silence.
    """

    async def run(update: Update, context: BotContext) -> None:
        for handler in context.application.handlers.get(0, ()):
            if isinstance(handler, CommandHandler) and name in handler.commands:
                context.args = []
                await handler.callback(update, context)
                return
        await unknown_command(update, context)

    run.__name__ = run.__qualname__ = f"as_command_{name}"
    return run


async def stale_button(update: Update, context: BotContext) -> None:
    """Answer a button no flow knows (an old message's), so its spinner stops."""
    assert update.callback_query is not None
    await update.callback_query.answer(
        context.t.plain(context.registered_member().language, "error.stale_button")
    )


async def my_reports(update: Update, context: BotContext) -> None:
    """List the member's most recent reports, and their next deadline if any."""
    member = context.registered_member()
    reports = await recent_reports(context.db, member.id)
    assert update.effective_message is not None
    if reports:
        renderer = context.renderer()
        lines = "\n".join(own_line(renderer, report) for report in reports)
        text = context.t.html(member.language, "my.list", lines=lines)
    else:
        text = context.t.html(member.language, "my.empty")
    # Reports the member may still edit, withdraw or answer a review of get buttons; the
    # menu under the chat is persistent, so it stays while they are shown.
    buttons = await own_buttons(context, reports)
    window = context.settings.edit_window
    if buttons is not None and window:
        shown = context.renderer().duration(int(window.total_seconds() // 60))
        text = Html(f"{text}\n{context.t.html(member.language, 'own.hint', window=shown)}")
    if (deadline := await _next_deadline(context)) is not None:
        text = Html(f"{text}\n\n{deadline}")
    await update.effective_message.reply_text(
        text, reply_markup=buttons or reply_keyboard_for(context)
    )


async def _next_deadline(context: BotContext) -> Html | None:
    """The member's nearest deadline, and whether they have met it yet."""
    member = context.registered_member()
    rules = await active_rules(context.db)
    if not rules:
        return None
    tree, _ = await overseers_and_tree(context.db)
    chain = {member.unit_code, *tree.ancestors(member.unit_code)}
    now, zone = context.services.clock.now(), context.settings.timezone
    upcoming = sorted(
        ((window_of(rule, now, zone), rule) for rule in rules if rule.unit_code in chain),
        key=lambda pair: pair[0].due,
    )
    for window, rule in upcoming:
        if skipped(window, await holiday_days(context.db, window.due_day, window.due_day)):
            continue
        stands = await standings(
            context.db, [member.unit_code], window.start, window.due, window.due_day
        )
        mine = next((s for s in stands if s.member.id == member.id), None)
        done = rule.met(mine.counts) if mine else 0
        key = "my.deadline_met" if done >= rule.needed else "my.deadline_open"
        return context.t.html(
            member.language, key, due=local_time(window.due, zone), done=done, needed=rule.needed
        )
    return None
