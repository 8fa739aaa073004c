"""Joining: /start with an invite code makes a Telegram user a member.

A newcomer is answered in their Telegram app's language when the bot speaks it (English
for "en", "en-GB", …), and that becomes their language; anyone else gets the deployment's.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Update

from domain.access import UnitTree
from domain.invites import hash_invite_code, looks_like_invite_code
from domain.levels import commune_of
from domain.models import Unit
from handlers.context import BotContext, origin_of
from presentation.i18n import language_for
from presentation.keyboards import main_keyboard
from storage.members import Joiner, JoinOutcome, redeem_invite
from storage.units import unit_chain

_REFUSALS = {
    JoinOutcome.UNKNOWN: "join.unknown",
    JoinOutcome.USED: "join.used",
    JoinOutcome.EXPIRED: "join.expired",
}


async def start(update: Update, context: BotContext) -> None:
    """Redeem the invite in /start <code>, or greet a member who is back."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    t, member = context.t, context.member
    code = context.args[0] if context.args else ""
    # Not yet a member: the language their Telegram app is set to, if the bot speaks it.
    language = language_for(user.language_code, context.settings.language)

    if member is not None:
        await message.reply_text(
            t.html(member.language, "join.welcome_back", name=member.full_name),
            reply_markup=main_keyboard(t, member.language, member.role),
        )
        return
    if not code:
        await message.reply_text(t.html(language, "access.refused"))
        return
    if not looks_like_invite_code(code):
        await message.reply_text(t.html(language, "join.unknown"))
        return

    joiner = Joiner(
        telegram_user_id=user.id,
        chat_id=message.chat_id,
        full_name=user.full_name,
        username=user.username,
        language=language,
    )
    result = await redeem_invite(context.db, hash_invite_code(code), joiner, origin_of(update))
    if result.outcome in _REFUSALS:
        await message.reply_text(t.html(language, _REFUSALS[result.outcome]))
        return
    joined = result.member
    if joined is None:  # a replay of a join already answered
        return
    chain = await unit_chain(context.db, joined.unit_code)
    await message.reply_text(
        t.html(
            joined.language,
            "join.welcome",
            name=joined.full_name,
            unit=team_and_commune(chain) or joined.unit_code,
            role=t.html(joined.language, f"role.{joined.role.value}"),
        ),
        reply_markup=main_keyboard(t, joined.language, joined.role),
    )


def team_and_commune(chain: Sequence[Unit]) -> str:
    """The unit's name, the units between it and its commune, and the commune's:
    "Tổ 1, Khối 1 – Phường Vinh Phú".

    ``chain`` is the unit and its ancestors, nearest first (storage.units.unit_chain). The
    commune is found by domain/levels.py's rule; a unit that is itself the commune, or is
    above the communes, is named alone. An unknown unit (empty chain) has no name ("").
    """
    if not chain:
        return ""
    unit = chain[0]
    # A cycle in a hand-edited tree makes the chain repeat itself: each unit once.
    links = {link.code: link for link in reversed(chain)}
    names = {code: link.name for code, link in links.items()}
    commune = commune_of(UnitTree(links.values()), names, unit.code)
    if commune is None or commune == unit.code:
        return unit.name
    # The unit, then each one it sits in below the commune (a team's hamlet), nearest first.
    within = [unit.name]
    seen = {unit.code}
    for link in chain[1:]:
        if link.code == commune or link.code in seen:
            break
        seen.add(link.code)
        within.append(link.name)
    return f"{', '.join(within)} – {names[commune]}"
