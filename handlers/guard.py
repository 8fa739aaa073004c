"""Every handler asks the access rules (domain/access.py) before it acts, through here."""

from __future__ import annotations

from telegram import Update

from domain.access import Action, Actor, Allow, ReportRef, UnitTree, can
from handlers.context import BotContext

# Actions that are about the asker alone need no unit tree to be decided.
_NO_TREE = UnitTree()


async def permit(
    update: Update,
    context: BotContext,
    action: Action,
    *,
    tree: UnitTree = _NO_TREE,
    report: ReportRef | None = None,
    target: Actor | None = None,
    target_unit: str | None = None,
    target_role: str | None = None,
) -> bool:
    """Whether the sender may take the action; if not, they are told why, once."""
    member = context.member
    actor = Actor.of(member, active=member.active) if member is not None else None
    decision = can(
        actor,
        action,
        tree,
        report=report,
        target=target,
        target_unit=target_unit,
        target_role=target_role,
    )
    if isinstance(decision, Allow):
        return True
    text = context.t.plain(context.language, decision.reason)
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(context.t.html(context.language, decision.reason))
    return False
