"""Who is told about a report: the nearest unit up the tree with someone allowed to know.

Nobody is ever left out: when no unit up the tree has anyone who may receive an urgent
alert, or none of them can be reached, the deployment's admins are.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from domain.access import ADMIN, Action, ReportRef, UnitTree, allowed
from domain.models import Member


def nearest_recipients(
    tree: UnitTree,
    report: ReportRef,
    candidates: Sequence[Member],
    action: Action,
    tried: Collection[int] = (),
) -> list[Member]:
    """Those of the nearest unit, from the report's up to the root, who may take the action.

    Members in ``tried`` are passed over, so that after a whole level could not be
    reached the next level up is chosen. The reporter is never among them (the access
    rules say nobody oversees their own report), and a unit beside the chain is never
    asked: an alert goes up, not sideways.
    """
    for code in (report.unit_code, *tree.ancestors(report.unit_code)):
        permitted = [
            member
            for member in candidates
            if member.unit_code == code
            and member.id not in tried
            and allowed(member, action, tree, report=report)
        ]
        if permitted:
            return permitted
    return []


def alert_recipients(
    tree: UnitTree, report: ReportRef, candidates: Sequence[Member], tried: Collection[int] = ()
) -> list[Member]:
    """Who gets an urgent alert: the nearest level up, or else every admin not yet tried."""
    found = nearest_recipients(tree, report, candidates, Action.RECEIVE_ALERTS, tried)
    if found:
        return found
    return [
        member
        for member in candidates
        if member.role == ADMIN
        and member.id not in tried
        and allowed(member, Action.RECEIVE_ALERTS, tree, report=report)
    ]


def next_escalation(
    tree: UnitTree, report: ReportRef, candidates: Sequence[Member], reached: Collection[str]
) -> tuple[str, list[Member]] | None:
    """The next level up an unacknowledged alert goes to: (unit code, its recipients).

    ``reached`` holds the units of everyone the alert was already meant for. The next
    level is the nearest unit strictly above the highest of them on the report's own
    chain (its unit, then its ancestors) with anyone allowed to receive it: never a unit
    beside the chain, never the same level twice. None when the chain is used up, or when
    the alert never reached anyone on it (the admins' fallback, or nobody at all: that is
    for ``alert_recipients`` to retry, not for escalation).
    """
    chain = (report.unit_code, *tree.ancestors(report.unit_code))
    levels = [index for index, code in enumerate(chain) if code in reached]
    if not levels:
        return None
    for code in chain[max(levels) + 1 :]:
        permitted = [
            member
            for member in candidates
            if member.unit_code == code
            and allowed(member, Action.RECEIVE_ALERTS, tree, report=report)
        ]
        if permitted:
            return code, permitted
    return None
