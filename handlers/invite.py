"""/invite: a supervisor or admin makes a one-time invite link, with buttons only.

First the role (only those the access rules let the asker hand out: a supervisor never
an admin), then the unit, browsing the tree from the asker's own unit down (an admin
from the top), a page of units at a time. The bot answers with the link
``https://t.me/<bot>?start=<code>`` and when it expires; only the code's hash is kept,
and the invite is written with its audit entry (storage/audit.py).

Button data carries a unit as a short hash of its code (codes may be long or hold any
character): it is looked up in the tree, and every tap is checked again against the
access rules, the last one included. A double tap makes one invite.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from domain.access import ADMIN, NOT_YOUR_UNIT, Action, Actor, UnitTree, invitable_roles
from domain.invites import hash_invite_code, invite_link, new_invite_code
from domain.models import Member, Role
from handlers.context import BotContext, origin_of
from handlers.guard import permit
from presentation.callbacks import InviteMake, InviteRole, InviteUnit, unpack
from presentation.keyboards import callback_button, replace_screen
from presentation.render import local_time
from storage.audit import create_invite_recorded
from storage.members import overseers_and_tree
from storage.units import all_units, get_unit

INVITE_LIFETIME = timedelta(days=7)
UNITS_PER_PAGE = 8
TOP = "top"  # above the roots: where an admin starts when the tree has several
TOKEN_LENGTH = 12  # hex digits of SHA-256: 48 bits, for a tree of thousands of units


def unit_token(code: str) -> str:
    """The short, fixed-shape stand-in for a unit's code in button data."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()[:TOKEN_LENGTH]


def find_unit(tree: UnitTree, token: str) -> str | None:
    """The unit whose token this is; None for none (forged, or a unit since removed)."""
    return next((code for code in tree if unit_token(code) == token), None)


def is_invite_button(data: object) -> bool:
    """Whether a button's data is the invite flow's (a CallbackQueryHandler pattern)."""
    return InviteRole.matches(data) or InviteUnit.matches(data) or InviteMake.matches(data)


async def ask(update: Update, context: BotContext) -> None:
    """/invite: the roles the asker may give, as buttons."""
    member = context.registered_member()
    t, lang = context.t, member.language
    roles = invitable_roles(Actor.of(member, active=member.active))
    assert update.effective_message is not None
    if not roles:
        await update.effective_message.reply_text(t.html(lang, "access.not_for_your_role"))
        return
    buttons = [
        callback_button(t.plain(lang, f"role.{role.value}"), InviteRole(role).pack())
        for role in Role
        if role.value in roles
    ]
    await update.effective_message.reply_text(
        t.html(lang, "invite.ask_role"),
        reply_markup=InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)]),
    )


async def on_button(update: Update, context: BotContext) -> None:
    """A role, a unit to open, or the unit to invite into: each checked again."""
    query = update.callback_query
    assert query is not None
    data = unpack(query.data)
    member = context.registered_member()
    t, lang = context.t, member.language
    if not isinstance(data, InviteRole | InviteUnit | InviteMake):
        await query.answer(t.plain(lang, "error.stale_button"), show_alert=True)
        return
    tree, _ = await overseers_and_tree(context.db)
    if isinstance(data, InviteRole):
        start = _start_of(member, tree)
        if not await _may_browse(update, context, tree, data.role, start):
            return
        await query.answer()
        await _show_units(update, context, tree, data.role, start, 0)
        return
    where = TOP if data.unit == TOP else find_unit(tree, data.unit)
    if where is None or (isinstance(data, InviteMake) and where == TOP):
        await query.answer(t.plain(lang, "error.stale_button"), show_alert=True)
        return
    if isinstance(data, InviteUnit):
        if not await _may_browse(update, context, tree, data.role, where):
            return
        await query.answer()
        await _show_units(update, context, tree, data.role, where, data.page)
        return
    if not await permit(
        update, context, Action.INVITE, tree=tree, target_role=data.role.value, target_unit=where
    ):
        return
    await _make(update, context, data.role, where)


def _start_of(member: Member, tree: UnitTree) -> str:
    """Where browsing starts: the asker's unit; for an admin, the root (or above them)."""
    if member.role != ADMIN:
        return member.unit_code
    roots = _roots(tree)
    return roots[0] if len(roots) == 1 else TOP


async def _may_browse(
    update: Update, context: BotContext, tree: UnitTree, role: Role, where: str
) -> bool:
    """Whether the asker may invite this role into this unit (above the roots: anywhere)."""
    if where == TOP:
        member = context.registered_member()
        if member.role != ADMIN:
            # Above the roots is an admin's place only: not even the names to browse.
            query = update.callback_query
            assert query is not None
            await query.answer(
                context.t.plain(member.language, NOT_YOUR_UNIT.reason), show_alert=True
            )
            return False
        where = member.unit_code  # an admin reaches everything: checked at their own unit
    return await permit(
        update, context, Action.INVITE, tree=tree, target_role=role.value, target_unit=where
    )


async def _show_units(
    update: Update, context: BotContext, tree: UnitTree, role: Role, where: str, page: int
) -> None:
    """One unit's screen: invite here, its units below (a page of them), up, pages."""
    query = update.callback_query
    assert query is not None
    member = context.registered_member()
    t, lang = context.t, member.language
    names = {unit.code: unit.name for unit in await all_units(context.db)}
    below: list[str] = list(tree.children(where)) if where != TOP else _roots(tree)
    below.sort(key=lambda code: (names[code].casefold() if code in names else code, code))
    pages = max(1, -(-len(below) // UNITS_PER_PAGE))
    page = min(page, pages - 1)
    shown = below[page * UNITS_PER_PAGE : (page + 1) * UNITS_PER_PAGE]
    rows: list[list[InlineKeyboardButton]] = []
    if where != TOP:
        label = t.plain(lang, "invite.button.here", unit=names.get(where, where))
        rows.append([callback_button(label, InviteMake(role, unit_token(where)).pack())])
    for code in shown:
        name = names.get(code, code)
        if tree.children(code):
            label = t.plain(lang, "invite.button.open", unit=name)
            data = InviteUnit(role, unit_token(code), 0).pack()
        else:
            label = t.plain(lang, "invite.button.leaf", unit=name)
            data = InviteMake(role, unit_token(code)).pack()
        rows.append([callback_button(label, data)])
    moves: list[InlineKeyboardButton] = []
    if page > 0:
        moves.append(
            callback_button(
                t.plain(lang, "invite.button.previous"),
                InviteUnit(role, _token(where), page - 1).pack(),
            )
        )
    up = _up_of(member, tree, where)
    if up is not None:
        up_label = t.plain(lang, "invite.button.up")
        moves.append(callback_button(up_label, InviteUnit(role, _token(up), 0).pack()))
    if page + 1 < pages:
        moves.append(
            callback_button(
                t.plain(lang, "invite.button.next"),
                InviteUnit(role, _token(where), page + 1).pack(),
            )
        )
    if moves:
        rows.append(moves)
    place = names.get(where, where) if where != TOP else t.plain(lang, "invite.everywhere")
    await replace_screen(
        query,
        t.html(
            lang,
            "invite.pick_unit",
            role=t.plain(lang, f"role.{role.value}"),
            unit=place,
            page=page + 1,
            pages=pages,
        ),
        reply_markup=InlineKeyboardMarkup(rows),
    )


def _roots(tree: UnitTree) -> list[str]:
    return [code for code in tree if tree.parent(code) is None]


def _token(where: str) -> str:
    return TOP if where == TOP else unit_token(where)


def _up_of(member: Member, tree: UnitTree, where: str) -> str | None:
    """The screen above this one, if the asker may go there."""
    if where == TOP:
        return None
    if member.role == ADMIN:
        parent = tree.parent(where)
        if parent is not None:
            return parent
        return TOP if len(_roots(tree)) > 1 else None
    if where == member.unit_code:
        return None  # a supervisor's reach ends at their own unit
    return tree.parent(where)


async def _make(update: Update, context: BotContext, role: Role, unit_code: str) -> None:
    """Make the invite once (a double tap makes nothing more) and show its link."""
    query = update.callback_query
    assert query is not None and query.message is not None
    member = context.registered_member()
    t, lang = context.t, member.language
    code = new_invite_code()
    expires_at = context.services.clock.now() + INVITE_LIFETIME
    key = f"invite:{query.message.chat.id}:{query.message.message_id}"
    made = await create_invite_recorded(
        context.db,
        hash_invite_code(code),
        unit_code,
        role,
        expires_at,
        member.id,
        once_key=key,
        origin=origin_of(update),
    )
    if made is None:
        await query.answer(t.plain(lang, "invite.already"), show_alert=True)
        return
    await query.answer()
    unit = await get_unit(context.db, unit_code)
    await replace_screen(
        query,
        t.html(
            lang,
            "invite.made",
            role=t.plain(lang, f"role.{role.value}"),
            unit=unit.name if unit else unit_code,
            expires=local_time(expires_at, context.settings.timezone),
            link=invite_link(context.bot.username, code),
            code=code,
        ),
    )
