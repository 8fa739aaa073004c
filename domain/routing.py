"""Who is told about a report: the nearest unit up the tree with someone allowed to know."""

from __future__ import annotations

from collections.abc import Sequence

from domain.access import Action, Actor, Allow, ReportRef, UnitTree, can
from domain.models import Member


def nearest_recipients(
    tree: UnitTree, report: ReportRef, candidates: Sequence[Member], action: Action
) -> list[Member]:
    """Those of the nearest unit, from the report's up to the root, who may take the action.

    The reporter is never among them (the access rules say nobody oversees their own
    report), and a unit beside the chain is never asked: an alert goes up, not sideways.
    """
    for code in (report.unit_code, *tree.ancestors(report.unit_code)):
        allowed = [
            member
            for member in candidates
            if member.unit_code == code
            and isinstance(
                can(Actor.of(member, active=member.active), action, tree, report=report), Allow
            )
        ]
        if allowed:
            return allowed
    return []
