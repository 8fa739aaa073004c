"""/members: the members of the asker's units, each with the day they last reported.

A page at a time, by buttons. A supervisor or admin also gets a button per member they
may deactivate (the access rules decide: never themselves, a supervisor never an admin);
deactivating asks to confirm first, is checked again on the confirming tap, and is
written with its audit entry. A deactivated member is then refused everything (the gate
no longer knows them). Team leaders see their own team's list, without those buttons.

The list names members: it is the roster the asker manages, not a report's content, so
the privacy level (domain/privacy.py) does not apply to it.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from domain.access import ADMIN, Action, Actor, UnitTree, allowed, visible_units
from domain.models import Member
from handlers.context import BotContext, origin_of
from handlers.guard import permit
from presentation.callbacks import DeactivateAsk, DeactivateDo, MembersPage, unpack
from presentation.i18n import Html
from presentation.keyboards import callback_button, replace_screen
from presentation.render import local_day
from storage.audit import deactivate_member
from storage.members import member_by_id, overseers_and_tree
from storage.roster import RosterEntry, roster
from storage.units import all_units

PAGE_SIZE = 10


def is_members_button(data: object) -> bool:
    """Whether a button's data is the members list's (a CallbackQueryHandler pattern)."""
    return any(cls.matches(data) for cls in (MembersPage, DeactivateAsk, DeactivateDo))


async def show(update: Update, context: BotContext) -> None:
    """/members: the first page."""
    if not await permit(update, context, Action.LIST_MEMBERS):
        return
    text, markup = await _page(context, 0)
    assert update.effective_message is not None
    await update.effective_message.reply_text(text, reply_markup=markup)


async def on_button(update: Update, context: BotContext) -> None:
    """Another page, a member to deactivate, or the confirmation: each checked again."""
    query = update.callback_query
    assert query is not None
    data = unpack(query.data)
    member = context.registered_member()
    t, lang = context.t, member.language
    if isinstance(data, MembersPage):
        if not await permit(update, context, Action.LIST_MEMBERS):
            return
        await query.answer()
        text, markup = await _page(context, data.page)
        await replace_screen(query, text, reply_markup=markup)
        return
    if not isinstance(data, DeactivateAsk | DeactivateDo):
        await query.answer(t.plain(lang, "error.stale_button"), show_alert=True)
        return
    target = await member_by_id(context.db, data.member)
    if target is None:
        await query.answer(t.plain(lang, "error.stale_button"), show_alert=True)
        return
    if not target.active:
        await query.answer(
            t.plain(lang, "members.already_inactive", name=target.full_name), show_alert=True
        )
        return
    tree, _ = await overseers_and_tree(context.db)
    if not await permit(
        update, context, Action.DEACTIVATE_MEMBER, tree=tree, target=Actor.of(target, active=True)
    ):
        return
    names = {unit.code: unit.name for unit in await all_units(context.db)}
    unit = names.get(target.unit_code, target.unit_code)
    role = t.plain(lang, f"role.{target.role.value}")
    if isinstance(data, DeactivateAsk):
        await query.answer()
        buttons = [
            callback_button(
                t.plain(lang, "members.button.confirm"), DeactivateDo(target.id).pack()
            ),
            callback_button(t.plain(lang, "members.button.back"), MembersPage(data.page).pack()),
        ]
        await replace_screen(
            query,
            t.html(lang, "members.confirm", name=target.full_name, role=role, unit=unit),
            reply_markup=InlineKeyboardMarkup([buttons]),
        )
        return
    done = await deactivate_member(context.db, target.id, member.id, origin_of(update))
    if not done:  # a double tap, or someone else was quicker
        await query.answer(
            t.plain(lang, "members.already_inactive", name=target.full_name), show_alert=True
        )
        return
    await query.answer()
    await replace_screen(
        query, t.html(lang, "members.deactivated", name=target.full_name, role=role, unit=unit)
    )


async def _page(context: BotContext, page: int) -> tuple[Html, InlineKeyboardMarkup | None]:
    """One page of the list, and its buttons."""
    member = context.registered_member()
    t, lang = context.t, member.language
    tree, _ = await overseers_and_tree(context.db)
    actor = Actor.of(member, active=member.active)
    entries = await roster(context.db, visible_units(actor, tree))
    names = {unit.code: unit.name for unit in await all_units(context.db)}
    scope = (
        t.plain(lang, "export.scope_all")
        if member.role == ADMIN
        else names.get(member.unit_code, member.unit_code)
    )
    if not entries:
        return t.html(lang, "members.none", scope=scope), None
    pages = -(-len(entries) // PAGE_SIZE)
    page = min(max(page, 0), pages - 1)
    shown = entries[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    lines = "\n".join(_line(context, entry, names) for entry in shown)
    text = t.html(
        lang,
        "members.list",
        scope=scope,
        count=len(entries),
        page=page + 1,
        pages=pages,
        lines=Html(lines),
    )
    deactivatable = [
        callback_button(
            t.plain(lang, "members.button.deactivate", name=entry.member.full_name),
            DeactivateAsk(entry.member.id, page).pack(),
        )
        for entry in shown
        if _may_deactivate(member, entry.member, tree)
    ]
    rows = [deactivatable[i : i + 2] for i in range(0, len(deactivatable), 2)]
    moves: list[InlineKeyboardButton] = []
    if page > 0:
        moves.append(
            callback_button(t.plain(lang, "members.button.previous"), MembersPage(page - 1).pack())
        )
    if page + 1 < pages:
        moves.append(
            callback_button(t.plain(lang, "members.button.next"), MembersPage(page + 1).pack())
        )
    if moves:
        rows.append(moves)
    return text, InlineKeyboardMarkup(rows) if rows else None


def _line(context: BotContext, entry: RosterEntry, names: dict[str, str]) -> Html:
    t, lang = context.t, context.language
    member = entry.member
    if entry.last_report is not None:
        day = entry.last_report.astimezone(context.settings.timezone).date()
        last = t.plain(lang, "members.last_report", day=local_day(day))
    else:
        last = t.plain(lang, "members.never_reported")
    return t.html(
        lang,
        "members.line",
        name=member.full_name,
        role=t.plain(lang, f"role.{member.role.value}"),
        unit=names.get(member.unit_code, member.unit_code),
        last=last,
    )


def _may_deactivate(actor: Member, target: Member, tree: UnitTree) -> bool:
    return allowed(actor, Action.DEACTIVATE_MEMBER, tree, target=target)
