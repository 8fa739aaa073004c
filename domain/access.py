"""Who may do what: access rules as pure functions of an actor, the unit tree and a target.

Handlers load the actor, the tree and whatever is acted on, ask ``can()``, and show the
``Deny`` reason (a message id) when refused. Nothing here reads the clock or the database:
time windows (how long a report stays editable) and status transitions (what a review may
change) are decided elsewhere; this module only says *who* may ask for them.

Scopes, as the SPEC and the team's roles give them:

- a **member** (tổ viên) touches only their own reports;
- a **leader** (tổ trưởng) or **deputy** (tổ phó) reports like a member and oversees their
  own team. A team is a unit of its own, normally a leaf of the tree, so "own team" means
  exactly the leader's ``unit_code``: not the units below it, if a deployment adds any,
  which belong to whoever supervises them;
- a **supervisor** oversees the whole subtree of the unit they are attached to, and nothing
  outside it;
- an **admin** may do everything, anywhere.

A deactivated actor, an actor with a role this version does not know, and a stranger (no
actor at all) may do nothing. Every rule fails closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import assert_never

from domain.models import Member, Unit

# Role values as stored in members.role; plain strings so that this module works whether
# or not domain.models.Role lists the team roles yet (a StrEnum member equals its value).
MEMBER = "member"
LEADER = "leader"
DEPUTY = "deputy"
SUPERVISOR = "supervisor"
ADMIN = "admin"
ROLES = frozenset({MEMBER, LEADER, DEPUTY, SUPERVISOR, ADMIN})
TEAM_LEADS = frozenset({LEADER, DEPUTY})
OVERSEERS = frozenset({SUPERVISOR, ADMIN})

# Whose role an actor may act on (invite, deactivate, set on leave). A supervisor may make
# a peer supervisor below or beside them, never an admin, who could then undo their limits;
# a deputy stands in for the leader, so does not manage the leader.
_ROLES_IN_REACH: dict[str, frozenset[str]] = {
    MEMBER: frozenset(),
    DEPUTY: frozenset({MEMBER}),
    LEADER: frozenset({MEMBER, DEPUTY}),
    SUPERVISOR: frozenset({MEMBER, LEADER, DEPUTY, SUPERVISOR}),
    ADMIN: ROLES,
}

# A verified, rejected or withdrawn report is settled: its reporter may no longer change it
# under a reviewer's verdict. "returned" (more information asked for) is open on purpose.
OPEN_REPORT_STATUSES = frozenset({"submitted", "returned"})


class Action(StrEnum):
    REPORT = "report"  # file an incident, an activity or "nothing to report"
    VIEW_REPORT = "view_report"
    EDIT_OWN_REPORT = "edit_own_report"
    WITHDRAW_OWN_REPORT = "withdraw_own_report"
    ACKNOWLEDGE_ALERT = "acknowledge_alert"
    RESOLVE_ALERT = "resolve_alert"
    REVIEW_REPORT = "review_report"  # verify, ask for more information, reject
    LIST_REPORTS = "list_reports"
    EXPORT = "export"
    INVITE = "invite"
    LIST_MEMBERS = "list_members"
    DEACTIVATE_MEMBER = "deactivate_member"
    RECEIVE_DIGEST = "receive_digest"
    RECEIVE_ALERTS = "receive_alerts"
    SET_LEAVE = "set_leave"


@dataclass(frozen=True)
class Actor:
    """Someone asking to act (or being acted on): what the rules need of a member."""

    id: int
    role: str
    unit_code: str
    active: bool

    @classmethod
    def of(cls, member: Member, *, active: bool) -> Actor:
        """Take the rules' view of a member; whether they are active must be said."""
        return cls(member.id, str(member.role), member.unit_code, active)


@dataclass(frozen=True)
class ReportRef:
    """The report an action is about: whose, which unit's, in what status."""

    member_id: int
    unit_code: str
    status: str


@dataclass(frozen=True)
class Allow:
    """Go ahead."""


@dataclass(frozen=True)
class Deny:
    """Refuse, with a message id that says why."""

    reason: str


Decision = Allow | Deny
ALLOW = Allow()

STRANGER = Deny("access.stranger")
DEACTIVATED = Deny("access.deactivated")
UNKNOWN_ROLE = Deny("access.unknown_role")
NOT_FOR_YOUR_ROLE = Deny("access.not_for_your_role")
NOT_YOUR_REPORT = Deny("access.not_your_report")
NOT_YOUR_UNIT = Deny("access.not_your_unit")
UNKNOWN_UNIT = Deny("access.unknown_unit")
ROLE_OUT_OF_REACH = Deny("access.role_out_of_reach")
OWN_REPORT = Deny("access.own_report")
NOT_YOURSELF = Deny("access.not_yourself")
REPORT_CLOSED = Deny("access.report_closed")


class UnitTree:
    """The unit tree as parent links, safe against unknown codes and cycles."""

    __slots__ = ("_children", "_parents")

    def __init__(self, units: Iterable[Unit] = ()) -> None:
        parents: dict[str, str | None] = {}
        for unit in units:
            if unit.code in parents:
                raise ValueError(f"unit {unit.code!r} is listed twice")
            parents[unit.code] = unit.parent_code
        children: dict[str, list[str]] = {}
        for code, parent in parents.items():
            # A parent missing from the tree makes its child a root here: the import refuses
            # such files, and a stale row must not let anyone reach through it.
            if parent is not None and parent in parents and parent != code:
                children.setdefault(parent, []).append(code)
        self._parents = parents
        self._children = {code: tuple(kids) for code, kids in children.items()}

    def __contains__(self, code: object) -> bool:
        return code in self._parents

    def __iter__(self) -> Iterator[str]:
        return iter(self._parents)

    def __len__(self) -> int:
        return len(self._parents)

    @property
    def codes(self) -> frozenset[str]:
        """Every unit's code."""
        return frozenset(self._parents)

    def parent(self, code: str) -> str | None:
        """Return the unit's parent; None for a root, an unknown unit, or a parent not known."""
        parent = self._parents.get(code)
        if parent is None or parent == code or parent not in self._parents:
            return None
        return parent

    def children(self, code: str) -> tuple[str, ...]:
        """Return the units directly below this one."""
        return self._children.get(code, ())

    def ancestors(self, code: str) -> tuple[str, ...]:
        """Return the units above this one, nearest first; () for a root or an unknown code.

        The CSV import refuses cycles, but a tree read back from a hand-edited database
        might hold one: the walk stops at the first unit it has already seen.
        """
        if code not in self._parents:
            return ()
        seen = {code}
        chain: list[str] = []
        current = self.parent(code)
        while current is not None and current not in seen:
            seen.add(current)
            chain.append(current)
            current = self.parent(current)
        return tuple(chain)

    def depth(self, code: str) -> int | None:
        """Return how many units are above this one (0 for a root), or None if unknown."""
        return len(self.ancestors(code)) if code in self._parents else None

    def subtree(self, code: str) -> frozenset[str]:
        """Return the unit and every unit below it; empty for an unknown code."""
        if code not in self._parents:
            return frozenset()
        found = {code}
        # Iterative, so a tree of any depth cannot hit the recursion limit; `found` ends
        # the walk on a cycle.
        pending = [code]
        while pending:
            for child in self._children.get(pending.pop(), ()):
                if child not in found:
                    found.add(child)
                    pending.append(child)
        return frozenset(found)

    def is_within(self, code: str, root: str) -> bool:
        """Say whether a unit is the root itself or below it; False if either is unknown."""
        if code not in self._parents or root not in self._parents:
            return False
        return code == root or root in self.ancestors(code)


def allowed(
    member: Member,
    action: Action,
    tree: UnitTree,
    *,
    report: ReportRef | None = None,
    target: Member | None = None,
) -> bool:
    """``can``, as a yes or no, for a member as they stand (deactivated or not), about a
    report or another member as they stand."""
    decision = can(
        Actor.of(member, active=member.active),
        action,
        tree,
        report=report,
        target=Actor.of(target, active=target.active) if target is not None else None,
    )
    return isinstance(decision, Allow)


def invitable_roles(actor: Actor | None) -> frozenset[str]:
    """Return the roles the actor may hand out in an invite."""
    if actor is None or not actor.active or actor.role not in OVERSEERS:
        return frozenset()
    return _ROLES_IN_REACH[actor.role]


def visible_units(actor: Actor | None, tree: UnitTree) -> frozenset[str]:
    """Return the units whose every report the actor may see.

    A member sees none (only their own reports, whichever unit they were filed in);
    a leader or deputy sees their team; a supervisor their subtree; an admin every unit.
    """
    if actor is None or not actor.active:
        return frozenset()
    if actor.role == ADMIN:
        return tree.codes
    if actor.role == SUPERVISOR:
        return tree.subtree(actor.unit_code)
    if actor.role in TEAM_LEADS:
        return frozenset({actor.unit_code})
    return frozenset()


def can(
    actor: Actor | None,
    action: Action,
    tree: UnitTree,
    *,
    report: ReportRef | None = None,
    target_unit: str | None = None,
    target_role: str | None = None,
    target: Actor | None = None,
) -> Decision:
    """Decide whether the actor may take the action on what it names.

    What an action needs is checked before the actor, so that a handler passing too
    little fails in every test (ValueError) rather than quietly refusing someone:
    the report actions need ``report``; invite needs ``target_role`` and ``target_unit``;
    deactivate and set_leave need ``target``. ``target_unit`` is optional for listing,
    export and digests (None: the actor's own scope), ``report`` for receive_alerts.
    """
    _require_arguments(action, report, target_unit, target_role, target)
    if actor is None:
        return STRANGER
    if not actor.active:
        return DEACTIVATED
    if actor.role not in ROLES:
        return UNKNOWN_ROLE

    match action:
        case Action.REPORT:
            return ALLOW
        case Action.VIEW_REPORT:
            assert report is not None
            if report.member_id == actor.id:
                return ALLOW
            if actor.role == MEMBER:
                return NOT_YOUR_REPORT
            return _within_reach(actor, report.unit_code, tree)
        case Action.EDIT_OWN_REPORT | Action.WITHDRAW_OWN_REPORT:
            # Own means own for admins too: changing someone's words is not an edit of theirs.
            assert report is not None
            if report.member_id != actor.id:
                return NOT_YOUR_REPORT
            return ALLOW if report.status in OPEN_REPORT_STATUSES else REPORT_CLOSED
        case Action.ACKNOWLEDGE_ALERT | Action.RESOLVE_ALERT:
            assert report is not None
            return _oversee_report(actor, report, tree, OVERSEERS)
        case Action.REVIEW_REPORT:
            assert report is not None
            return _oversee_report(actor, report, tree, TEAM_LEADS | OVERSEERS)
        case Action.RECEIVE_ALERTS:
            if report is None:
                return ALLOW if actor.role in OVERSEERS else NOT_FOR_YOUR_ROLE
            return _oversee_report(actor, report, tree, OVERSEERS)
        case Action.LIST_REPORTS | Action.LIST_MEMBERS:
            return _oversee_unit(actor, target_unit, tree, TEAM_LEADS | OVERSEERS)
        case Action.EXPORT | Action.RECEIVE_DIGEST:
            return _oversee_unit(actor, target_unit, tree, OVERSEERS)
        case Action.INVITE:
            assert target_role is not None and target_unit is not None
            return _invite(actor, target_role, target_unit, tree)
        case Action.DEACTIVATE_MEMBER:
            assert target is not None
            return _manage(actor, target, tree, OVERSEERS)
        case Action.SET_LEAVE:
            assert target is not None
            return _manage(actor, target, tree, TEAM_LEADS | OVERSEERS)
        case _:
            assert_never(action)


_NEEDS_REPORT = frozenset(
    {
        Action.VIEW_REPORT,
        Action.EDIT_OWN_REPORT,
        Action.WITHDRAW_OWN_REPORT,
        Action.ACKNOWLEDGE_ALERT,
        Action.RESOLVE_ALERT,
        Action.REVIEW_REPORT,
    }
)
_NEEDS_TARGET = frozenset({Action.DEACTIVATE_MEMBER, Action.SET_LEAVE})


def _require_arguments(
    action: Action,
    report: ReportRef | None,
    target_unit: str | None,
    target_role: str | None,
    target: Actor | None,
) -> None:
    if action in _NEEDS_REPORT and report is None:
        raise ValueError(f"{action} needs report=")
    if action in _NEEDS_TARGET and target is None:
        raise ValueError(f"{action} needs target=")
    if action is Action.INVITE and (target_role is None or target_unit is None):
        raise ValueError(f"{action} needs target_role= and target_unit=")


def _within_reach(actor: Actor, unit_code: str, tree: UnitTree) -> Decision:
    """Allow if the unit is in what the actor oversees: team, subtree, or everything."""
    if actor.role == ADMIN:
        return ALLOW
    if actor.role == SUPERVISOR:
        return ALLOW if tree.is_within(unit_code, actor.unit_code) else NOT_YOUR_UNIT
    if actor.role in TEAM_LEADS:
        return ALLOW if unit_code == actor.unit_code else NOT_YOUR_UNIT
    return NOT_FOR_YOUR_ROLE


def _oversee_report(
    actor: Actor, report: ReportRef, tree: UnitTree, roles: frozenset[str]
) -> Decision:
    if actor.role not in roles:
        return NOT_FOR_YOUR_ROLE
    # Oversight is a second pair of eyes: verifying or acknowledging one's own report
    # would tell everyone else it had been seen when it had not.
    if report.member_id == actor.id:
        return OWN_REPORT
    return _within_reach(actor, report.unit_code, tree)


def _oversee_unit(
    actor: Actor, target_unit: str | None, tree: UnitTree, roles: frozenset[str]
) -> Decision:
    if actor.role not in roles:
        return NOT_FOR_YOUR_ROLE
    if target_unit is None:
        return ALLOW  # the actor's own scope, whatever it holds
    if target_unit not in tree:
        return UNKNOWN_UNIT
    return _within_reach(actor, target_unit, tree)


def _invite(actor: Actor, target_role: str, target_unit: str, tree: UnitTree) -> Decision:
    if actor.role not in OVERSEERS:
        return NOT_FOR_YOUR_ROLE
    if target_role not in ROLES:
        return UNKNOWN_ROLE
    if target_unit not in tree:
        return UNKNOWN_UNIT  # an invite into a unit that does not exist could never be used
    if target_role not in _ROLES_IN_REACH[actor.role]:
        return ROLE_OUT_OF_REACH
    return _within_reach(actor, target_unit, tree)


def _manage(actor: Actor, target: Actor, tree: UnitTree, roles: frozenset[str]) -> Decision:
    if actor.role not in roles:
        return NOT_FOR_YOUR_ROLE
    # Nobody deactivates themselves (the last admin would lock everyone out) or grants
    # themselves leave (that is for whoever answers for their reporting).
    if target.id == actor.id:
        return NOT_YOURSELF
    # An admin may still deactivate someone whose role this version does not know.
    if actor.role != ADMIN and target.role not in _ROLES_IN_REACH[actor.role]:
        return ROLE_OUT_OF_REACH
    return _within_reach(actor, target.unit_code, tree)
