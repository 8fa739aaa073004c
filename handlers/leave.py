"""/leave: a supervisor or team leader marks a member on leave, with buttons only.

A member on leave is neither reminded nor counted late (handlers/deadlines.py). Every
tap is checked again against the access rules: button data is never trusted.
"""

from __future__ import annotations

from datetime import timedelta

from telegram import InlineKeyboardMarkup, Update

from domain.access import Action, Actor, UnitTree, allowed, visible_units
from domain.models import Member
from handlers.context import BotContext
from handlers.guard import permit
from presentation.callbacks import LeaveDays, LeaveMember, unpack
from presentation.keyboards import callback_button, close_buttons
from presentation.render import local_day
from storage.deadlines import end_leave, reporting_members, set_leave
from storage.members import member_by_id, overseers_and_tree
from storage.units import all_units

# At most this many members are offered as buttons; a larger team is narrowed by unit.
MEMBERS_SHOWN = 40
LEAVE_DAYS = (1, 3, 7, 14, 30)


async def ask_member(update: Update, context: BotContext) -> None:
    """/leave: offer the members whose leave the asker may set."""
    if not await permit(update, context, Action.LIST_MEMBERS):
        return
    member = context.registered_member()
    t, lang = context.t, member.language
    tree, _ = await overseers_and_tree(context.db)
    units = visible_units(Actor.of(member, active=member.active), tree)
    names = {unit.code: unit.name for unit in await all_units(context.db)}
    candidates = [m for m in await reporting_members(context.db, units) if _may(member, m, tree)][
        :MEMBERS_SHOWN
    ]
    assert update.effective_message is not None
    if not candidates:
        await update.effective_message.reply_text(t.html(lang, "leave.none"))
        return
    buttons = [
        callback_button(
            t.plain(lang, "leave.button.member", name=m.full_name, unit=names[m.unit_code]),
            LeaveMember(m.id).pack(),
        )
        for m in candidates
    ]
    await update.effective_message.reply_text(
        t.html(lang, "leave.pick"),
        reply_markup=InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)]),
    )


async def on_button(update: Update, context: BotContext) -> None:
    """A member chosen, or a length of leave: checked again before anything changes."""
    query = update.callback_query
    assert query is not None
    data = unpack(query.data)
    member = context.registered_member()
    t, lang = context.t, member.language
    assert update.effective_chat is not None
    chat_id = update.effective_chat.id
    target_id = data.member if isinstance(data, LeaveMember | LeaveDays) else None
    target = await member_by_id(context.db, target_id) if target_id is not None else None
    tree, _ = await overseers_and_tree(context.db)
    if target is None or not target.active:
        await query.answer(t.plain(lang, "error.stale_button"), show_alert=True)
        return
    if not await permit(
        update, context, Action.SET_LEAVE, tree=tree, target=Actor.of(target, active=True)
    ):
        return
    await query.answer()
    if isinstance(data, LeaveMember):
        buttons = [
            callback_button(
                t.plain(lang, "leave.button.days", count=days), LeaveDays(target.id, days).pack()
            )
            for days in LEAVE_DAYS
        ]
        end = LeaveDays(target.id, 0).pack()
        rows = [buttons[:3], buttons[3:], [callback_button(t.plain(lang, "leave.button.end"), end)]]
        await context.bot.send_message(
            chat_id,
            t.html(lang, "leave.how_long", name=target.full_name),
            reply_markup=InlineKeyboardMarkup(rows),
        )
        return
    assert isinstance(data, LeaveDays)
    await close_buttons(query.message)
    today = context.moment().today
    if data.days == 0:
        await end_leave(context.db, target.id, today)
        text = t.html(lang, "leave.ended", name=target.full_name)
    else:
        last = today + timedelta(days=data.days - 1)
        await set_leave(context.db, target.id, today, last, member.id)
        text = t.html(
            lang, "leave.set", name=target.full_name, first=local_day(today), last=local_day(last)
        )
    await context.bot.send_message(chat_id, text)


def _may(actor: Member, target: Member, tree: UnitTree) -> bool:
    return allowed(actor, Action.SET_LEAVE, tree, target=target)
