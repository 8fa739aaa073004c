"""Access rules (domain/access.py): the authorisation matrix, edge cases and the unit tree."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import pytest

from domain.access import (
    ADMIN,
    ALLOW,
    DEACTIVATED,
    DEPUTY,
    LEADER,
    MEMBER,
    NOT_FOR_YOUR_ROLE,
    NOT_YOUR_REPORT,
    NOT_YOUR_UNIT,
    NOT_YOURSELF,
    OWN_REPORT,
    REPORT_CLOSED,
    ROLE_OUT_OF_REACH,
    STRANGER,
    SUPERVISOR,
    UNKNOWN_ROLE,
    UNKNOWN_UNIT,
    Action,
    Actor,
    Allow,
    Decision,
    Deny,
    ReportRef,
    UnitTree,
    can,
    invitable_roles,
    visible_units,
)
from domain.models import Member, Role, Unit

# Nghệ An (40) → Phường Vinh Phú (16702) → a hamlet → two teams, one with a group of its
# own below it; and another ward (16681) with a hamlet, to be "elsewhere".
PROVINCE = "40"
WARD = "16702"
HAMLET = "16702-X01"
TEAM = "16702-X01-T1"
TEAM_GROUP = "16702-X01-T1-G1"
OTHER_TEAM = "16702-X01-T2"
OTHER_WARD = "16681"
OTHER_HAMLET = "16681-X01"
TREE = UnitTree(
    [
        Unit(PROVINCE, "Tỉnh Nghệ An", None),
        Unit(WARD, "Phường Vinh Phú", PROVINCE),
        Unit(HAMLET, "Khối 1", WARD),
        Unit(TEAM, "Tổ 1", HAMLET),
        Unit(TEAM_GROUP, "Nhóm 1", TEAM),
        Unit(OTHER_TEAM, "Tổ 2", HAMLET),
        Unit(OTHER_WARD, "Phường Thành Vinh", PROVINCE),
        Unit(OTHER_HAMLET, "Khối 5", OTHER_WARD),
    ]
)

# Every kind of actor the matrix asks about. The deactivated actor is a supervisor of the
# ward, who would otherwise be allowed almost everything: deactivation must beat the role.
ACTORS: dict[str, Actor | None] = {
    "member": Actor(1, MEMBER, TEAM, True),
    "leader": Actor(2, LEADER, TEAM, True),
    "deputy": Actor(3, DEPUTY, TEAM, True),
    "supervisor_of_unit": Actor(4, SUPERVISOR, TEAM, True),
    "supervisor_of_ancestor": Actor(5, SUPERVISOR, WARD, True),
    "supervisor_elsewhere": Actor(6, SUPERVISOR, OTHER_WARD, True),
    "admin": Actor(7, ADMIN, PROVINCE, True),
    "deactivated": Actor(8, SUPERVISOR, WARD, False),
    "stranger": None,
}
KINDS = tuple(ACTORS)

# A team-mate of the member, leader and deputy, and a report they filed.
TEAMMATE = Actor(99, MEMBER, TEAM, True)
TEAMMATE_REPORT = ReportRef(TEAMMATE.id, TEAM, "submitted")

# What each action is asked about in the matrix.
CONTEXT: dict[Action, dict[str, Any]] = {
    Action.REPORT: {},
    Action.VIEW_REPORT: {"report": TEAMMATE_REPORT},
    Action.EDIT_OWN_REPORT: {"report": TEAMMATE_REPORT},
    Action.WITHDRAW_OWN_REPORT: {"report": TEAMMATE_REPORT},
    Action.ACKNOWLEDGE_ALERT: {"report": TEAMMATE_REPORT},
    Action.RESOLVE_ALERT: {"report": TEAMMATE_REPORT},
    Action.REVIEW_REPORT: {"report": TEAMMATE_REPORT},
    Action.LIST_REPORTS: {"target_unit": TEAM},
    Action.EXPORT: {"target_unit": TEAM},
    Action.INVITE: {"target_role": MEMBER, "target_unit": TEAM},
    Action.LIST_MEMBERS: {"target_unit": TEAM},
    Action.DEACTIVATE_MEMBER: {"target": TEAMMATE},
    Action.RECEIVE_DIGEST: {"target_unit": TEAM},
    Action.RECEIVE_ALERTS: {"report": TEAMMATE_REPORT},
    Action.SET_LEAVE: {"target": TEAMMATE},
}

A = ALLOW
ROLE = NOT_FOR_YOUR_ROLE
NYR = NOT_YOUR_REPORT
NYU = NOT_YOUR_UNIT
REFUSED = (DEACTIVATED, STRANGER)

# Columns: member, leader, deputy, supervisor of the unit, of an ancestor, elsewhere, admin,
# deactivated, stranger.
MATRIX: dict[Action, tuple[Decision, ...]] = {
    Action.REPORT:              (A,    A,    A,    A, A, A,   A, *REFUSED),
    Action.VIEW_REPORT:         (NYR,  A,    A,    A, A, NYU, A, *REFUSED),
    Action.EDIT_OWN_REPORT:     (NYR,  NYR,  NYR,  NYR, NYR, NYR, NYR, *REFUSED),
    Action.WITHDRAW_OWN_REPORT: (NYR,  NYR,  NYR,  NYR, NYR, NYR, NYR, *REFUSED),
    Action.ACKNOWLEDGE_ALERT:   (ROLE, ROLE, ROLE, A, A, NYU, A, *REFUSED),
    Action.RESOLVE_ALERT:       (ROLE, ROLE, ROLE, A, A, NYU, A, *REFUSED),
    Action.REVIEW_REPORT:       (ROLE, A,    A,    A, A, NYU, A, *REFUSED),
    Action.LIST_REPORTS:        (ROLE, A,    A,    A, A, NYU, A, *REFUSED),
    Action.EXPORT:              (ROLE, ROLE, ROLE, A, A, NYU, A, *REFUSED),
    Action.INVITE:              (ROLE, ROLE, ROLE, A, A, NYU, A, *REFUSED),
    Action.LIST_MEMBERS:        (ROLE, A,    A,    A, A, NYU, A, *REFUSED),
    Action.DEACTIVATE_MEMBER:   (ROLE, ROLE, ROLE, A, A, NYU, A, *REFUSED),
    Action.RECEIVE_DIGEST:      (ROLE, ROLE, ROLE, A, A, NYU, A, *REFUSED),
    Action.RECEIVE_ALERTS:      (ROLE, ROLE, ROLE, A, A, NYU, A, *REFUSED),
    Action.SET_LEAVE:           (ROLE, A,    A,    A, A, NYU, A, *REFUSED),
}  # fmt: skip

MATRIX_CASES = [
    (action, kind, expected)
    for action, row in MATRIX.items()
    for kind, expected in zip(KINDS, row, strict=True)
]


def test_the_matrix_covers_every_action() -> None:
    assert set(MATRIX) == set(Action)
    assert set(CONTEXT) == set(Action)


@pytest.mark.parametrize(
    ("action", "kind", "expected"),
    MATRIX_CASES,
    ids=[f"{action}-{kind}" for action, kind, _ in MATRIX_CASES],
)
def test_authorisation_matrix(action: Action, kind: str, expected: Decision) -> None:
    assert can(ACTORS[kind], action, TREE, **CONTEXT[action]) == expected


# --- own reports --------------------------------------------------------------------

OWN_CASES = [
    (action, kind)
    for action in (Action.VIEW_REPORT, Action.EDIT_OWN_REPORT, Action.WITHDRAW_OWN_REPORT)
    for kind in KINDS
]


@pytest.mark.parametrize(("action", "kind"), OWN_CASES, ids=[f"{a}-{k}" for a, k in OWN_CASES])
def test_everyone_active_may_view_edit_and_withdraw_their_own_report(
    action: Action, kind: str
) -> None:
    actor = ACTORS[kind]
    own = ReportRef(actor.id if actor else 0, actor.unit_code if actor else TEAM, "submitted")
    expected = {"deactivated": DEACTIVATED, "stranger": STRANGER}.get(kind, ALLOW)
    assert can(actor, action, TREE, report=own) == expected


def test_own_report_filed_in_a_unit_one_has_since_left_is_still_own() -> None:
    moved = ReportRef(1, OTHER_HAMLET, "submitted")
    assert can(ACTORS["member"], Action.VIEW_REPORT, TREE, report=moved) == ALLOW
    assert can(ACTORS["member"], Action.EDIT_OWN_REPORT, TREE, report=moved) == ALLOW


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("submitted", ALLOW),
        ("returned", ALLOW),  # more information asked for: the member must be able to answer
        ("verified", REPORT_CLOSED),
        ("rejected", REPORT_CLOSED),
        ("withdrawn", REPORT_CLOSED),
        ("a status this version does not know", REPORT_CLOSED),
    ],
)
@pytest.mark.parametrize("action", [Action.EDIT_OWN_REPORT, Action.WITHDRAW_OWN_REPORT])
def test_a_settled_report_cannot_be_changed_by_its_reporter(
    action: Action, status: str, expected: Decision
) -> None:
    own = ReportRef(1, TEAM, status)
    assert can(ACTORS["member"], action, TREE, report=own) == expected


def test_an_admin_edits_only_their_own_reports_too() -> None:
    assert can(ACTORS["admin"], Action.EDIT_OWN_REPORT, TREE, report=TEAMMATE_REPORT) == NYR


OVERSIGHT_OF_OWN = [
    (Action.REVIEW_REPORT, "leader", OWN_REPORT),
    (Action.REVIEW_REPORT, "deputy", OWN_REPORT),
    (Action.REVIEW_REPORT, "supervisor_of_ancestor", OWN_REPORT),
    (Action.REVIEW_REPORT, "admin", OWN_REPORT),
    (Action.REVIEW_REPORT, "member", ROLE),
    (Action.ACKNOWLEDGE_ALERT, "supervisor_of_unit", OWN_REPORT),
    (Action.ACKNOWLEDGE_ALERT, "admin", OWN_REPORT),
    (Action.ACKNOWLEDGE_ALERT, "leader", ROLE),
    (Action.RESOLVE_ALERT, "supervisor_of_ancestor", OWN_REPORT),
    (Action.RECEIVE_ALERTS, "supervisor_of_ancestor", OWN_REPORT),
    (Action.RECEIVE_ALERTS, "admin", OWN_REPORT),
]


@pytest.mark.parametrize(
    ("action", "kind", "expected"),
    OVERSIGHT_OF_OWN,
    ids=[f"{a}-{k}" for a, k, _ in OVERSIGHT_OF_OWN],
)
def test_nobody_oversees_their_own_report(action: Action, kind: str, expected: Decision) -> None:
    actor = ACTORS[kind]
    assert actor is not None
    own = ReportRef(actor.id, actor.unit_code, "submitted")
    assert can(actor, action, TREE, report=own) == expected


# --- scopes -------------------------------------------------------------------------

SCOPE_CASES = [
    # A team is its own unit, not a subtree: not the group below it, not the next team.
    ("leader", TEAM_GROUP, NYU),
    ("leader", OTHER_TEAM, NYU),
    ("deputy", HAMLET, NYU),
    # A supervisor sees down, never up or sideways.
    ("supervisor_of_unit", TEAM_GROUP, A),
    ("supervisor_of_unit", HAMLET, NYU),
    ("supervisor_of_unit", OTHER_TEAM, NYU),
    ("supervisor_of_ancestor", TEAM_GROUP, A),
    ("supervisor_of_ancestor", OTHER_TEAM, A),
    ("supervisor_of_ancestor", WARD, A),
    ("supervisor_of_ancestor", PROVINCE, NYU),
    ("supervisor_of_ancestor", OTHER_HAMLET, NYU),
    ("supervisor_elsewhere", OTHER_HAMLET, A),
    ("admin", OTHER_HAMLET, A),
    # A report whose unit has left the tree: only an admin still reaches it.
    ("supervisor_of_ancestor", "16702-GONE", NYU),
    ("leader", "16702-GONE", NYU),
    ("admin", "16702-GONE", A),
]


@pytest.mark.parametrize(("kind", "unit", "expected"), SCOPE_CASES)
@pytest.mark.parametrize("action", [Action.VIEW_REPORT, Action.REVIEW_REPORT])
def test_who_reaches_a_teammates_report_in_each_unit(
    action: Action, kind: str, unit: str, expected: Decision
) -> None:
    report = ReportRef(TEAMMATE.id, unit, "submitted")
    assert can(ACTORS[kind], action, TREE, report=report) == expected


def test_a_province_supervisor_reaches_the_deepest_team() -> None:
    provincial = Actor(20, SUPERVISOR, PROVINCE, True)
    deep = ReportRef(TEAMMATE.id, TEAM_GROUP, "submitted")
    assert can(provincial, Action.ACKNOWLEDGE_ALERT, TREE, report=deep) == ALLOW
    assert can(provincial, Action.EXPORT, TREE, target_unit=TEAM_GROUP) == ALLOW


def test_a_supervisor_attached_to_a_unit_no_longer_in_the_tree_reaches_nothing() -> None:
    orphan = Actor(21, SUPERVISOR, "16702-GONE", True)
    assert visible_units(orphan, TREE) == frozenset()
    assert can(orphan, Action.VIEW_REPORT, TREE, report=TEAMMATE_REPORT) == NYU
    assert can(orphan, Action.EXPORT, TREE, target_unit=TEAM) == NYU
    assert can(orphan, Action.INVITE, TREE, target_role=MEMBER, target_unit=TEAM) == NYU


@pytest.mark.parametrize(
    ("kind", "action", "expected"),
    [
        ("supervisor_elsewhere", Action.LIST_REPORTS, A),
        ("supervisor_elsewhere", Action.EXPORT, A),
        ("supervisor_elsewhere", Action.RECEIVE_DIGEST, A),
        ("supervisor_elsewhere", Action.RECEIVE_ALERTS, A),
        ("leader", Action.LIST_REPORTS, A),
        ("deputy", Action.LIST_MEMBERS, A),
        ("leader", Action.EXPORT, ROLE),
        ("leader", Action.RECEIVE_DIGEST, ROLE),
        ("leader", Action.RECEIVE_ALERTS, ROLE),
        ("member", Action.LIST_REPORTS, ROLE),
        ("member", Action.LIST_MEMBERS, ROLE),
        ("member", Action.RECEIVE_DIGEST, ROLE),
        ("admin", Action.EXPORT, A),
        ("deactivated", Action.RECEIVE_DIGEST, DEACTIVATED),
        ("stranger", Action.LIST_REPORTS, STRANGER),
    ],
)
def test_without_a_target_unit_the_actors_own_scope_is_meant(
    kind: str, action: Action, expected: Decision
) -> None:
    assert can(ACTORS[kind], action, TREE) == expected


@pytest.mark.parametrize(
    "action",
    [Action.LIST_REPORTS, Action.LIST_MEMBERS, Action.EXPORT, Action.RECEIVE_DIGEST],
)
def test_a_unit_that_does_not_exist_is_refused_even_to_an_admin(action: Action) -> None:
    assert can(ACTORS["admin"], action, TREE, target_unit="NOWHERE") == UNKNOWN_UNIT


# --- invites ------------------------------------------------------------------------

INVITE_CASES = [
    ("supervisor_of_ancestor", MEMBER, TEAM, A),
    ("supervisor_of_ancestor", LEADER, TEAM, A),
    ("supervisor_of_ancestor", DEPUTY, OTHER_TEAM, A),
    ("supervisor_of_ancestor", SUPERVISOR, HAMLET, A),
    ("supervisor_of_ancestor", SUPERVISOR, WARD, A),  # a peer at their own unit
    ("supervisor_of_ancestor", ADMIN, WARD, ROLE_OUT_OF_REACH),
    ("supervisor_of_ancestor", ADMIN, TEAM, ROLE_OUT_OF_REACH),
    ("supervisor_of_ancestor", MEMBER, PROVINCE, NYU),
    ("supervisor_of_ancestor", SUPERVISOR, PROVINCE, NYU),
    ("supervisor_of_ancestor", MEMBER, OTHER_HAMLET, NYU),
    ("supervisor_of_ancestor", MEMBER, "NOWHERE", UNKNOWN_UNIT),
    ("supervisor_of_ancestor", "commander", TEAM, UNKNOWN_ROLE),
    ("supervisor_of_unit", MEMBER, TEAM_GROUP, A),
    ("supervisor_of_unit", MEMBER, HAMLET, NYU),
    ("admin", ADMIN, PROVINCE, A),
    ("admin", SUPERVISOR, OTHER_WARD, A),
    ("admin", MEMBER, "NOWHERE", UNKNOWN_UNIT),
    ("admin", "commander", TEAM, UNKNOWN_ROLE),
    ("leader", MEMBER, TEAM, ROLE),
    ("deputy", MEMBER, TEAM, ROLE),
    ("member", MEMBER, TEAM, ROLE),
    ("deactivated", MEMBER, TEAM, DEACTIVATED),
    ("stranger", MEMBER, TEAM, STRANGER),
]


@pytest.mark.parametrize(("kind", "role", "unit", "expected"), INVITE_CASES)
def test_who_may_invite_whom_where(kind: str, role: str, unit: str, expected: Decision) -> None:
    decision = can(ACTORS[kind], Action.INVITE, TREE, target_role=role, target_unit=unit)
    assert decision == expected


@pytest.mark.parametrize(
    ("kind", "roles"),
    [
        ("member", frozenset()),
        ("leader", frozenset()),
        ("deputy", frozenset()),
        ("supervisor_of_unit", frozenset({MEMBER, LEADER, DEPUTY, SUPERVISOR})),
        ("admin", frozenset({MEMBER, LEADER, DEPUTY, SUPERVISOR, ADMIN})),
        ("deactivated", frozenset()),
        ("stranger", frozenset()),
    ],
)
def test_invitable_roles(kind: str, roles: frozenset[str]) -> None:
    assert invitable_roles(ACTORS[kind]) == roles


# --- deactivating and leave ---------------------------------------------------------

MANAGE_CASES = [
    (Action.DEACTIVATE_MEMBER, "supervisor_of_ancestor", Actor(30, SUPERVISOR, HAMLET, True), A),
    (Action.DEACTIVATE_MEMBER, "supervisor_of_ancestor", Actor(31, LEADER, TEAM, True), A),
    (Action.DEACTIVATE_MEMBER, "supervisor_of_ancestor", Actor(32, ADMIN, TEAM, True),
     ROLE_OUT_OF_REACH),
    (Action.DEACTIVATE_MEMBER, "supervisor_of_unit", Actor(33, SUPERVISOR, WARD, True), NYU),
    (Action.DEACTIVATE_MEMBER, "supervisor_of_ancestor", Actor(5, SUPERVISOR, WARD, True),
     NOT_YOURSELF),
    (Action.DEACTIVATE_MEMBER, "admin", Actor(7, ADMIN, PROVINCE, True), NOT_YOURSELF),
    (Action.DEACTIVATE_MEMBER, "admin", Actor(34, ADMIN, OTHER_WARD, True), A),
    (Action.DEACTIVATE_MEMBER, "admin", Actor(35, "commander", TEAM, True), A),
    (Action.DEACTIVATE_MEMBER, "leader", Actor(36, MEMBER, TEAM, True), ROLE),
    (Action.SET_LEAVE, "leader", Actor(40, DEPUTY, TEAM, True), A),
    (Action.SET_LEAVE, "leader", Actor(41, LEADER, TEAM, True), ROLE_OUT_OF_REACH),
    (Action.SET_LEAVE, "deputy", Actor(2, LEADER, TEAM, True), ROLE_OUT_OF_REACH),
    (Action.SET_LEAVE, "deputy", Actor(42, DEPUTY, TEAM, True), ROLE_OUT_OF_REACH),
    (Action.SET_LEAVE, "leader", Actor(43, SUPERVISOR, TEAM, True), ROLE_OUT_OF_REACH),
    (Action.SET_LEAVE, "leader", Actor(44, MEMBER, OTHER_TEAM, True), NYU),
    (Action.SET_LEAVE, "leader", Actor(45, MEMBER, TEAM_GROUP, True), NYU),
    (Action.SET_LEAVE, "leader", Actor(2, LEADER, TEAM, True), NOT_YOURSELF),
    (Action.SET_LEAVE, "member", Actor(1, MEMBER, TEAM, True), ROLE),
    (Action.SET_LEAVE, "supervisor_of_ancestor", Actor(2, LEADER, TEAM, True), A),
    (Action.SET_LEAVE, "supervisor_elsewhere", Actor(2, LEADER, TEAM, True), NYU),
]  # fmt: skip


@pytest.mark.parametrize(
    ("action", "kind", "target", "expected"),
    MANAGE_CASES,
    ids=[f"{a}-{k}-{t.role}-{t.id}" for a, k, t, _ in MANAGE_CASES],
)
def test_who_may_deactivate_or_grant_leave_to_whom(
    action: Action, kind: str, target: Actor, expected: Decision
) -> None:
    assert can(ACTORS[kind], action, TREE, target=target) == expected


# --- actors and arguments -----------------------------------------------------------


@pytest.mark.parametrize("action", list(Action))
def test_an_unknown_role_may_do_nothing(action: Action) -> None:
    pretender = Actor(50, "commander", PROVINCE, True)
    assert can(pretender, action, TREE, **CONTEXT[action]) == UNKNOWN_ROLE


def test_an_actor_is_taken_from_a_member_with_its_role_enum() -> None:
    member = Member(9, 1009, 1009, "Nguyễn Văn An", None, WARD, Role.SUPERVISOR, "vi")
    actor = Actor.of(member, active=True)
    assert actor == Actor(9, SUPERVISOR, WARD, True)
    assert can(actor, Action.REVIEW_REPORT, TREE, report=TEAMMATE_REPORT) == ALLOW
    assert can(Actor.of(member, active=False), Action.REPORT, TREE) == DEACTIVATED


MISSING_ARGUMENTS: list[tuple[Action, Mapping[str, Any]]] = [
    (Action.VIEW_REPORT, {}),
    (Action.EDIT_OWN_REPORT, {"target_unit": TEAM}),
    (Action.WITHDRAW_OWN_REPORT, {}),
    (Action.ACKNOWLEDGE_ALERT, {}),
    (Action.RESOLVE_ALERT, {}),
    (Action.REVIEW_REPORT, {"target": TEAMMATE}),
    (Action.INVITE, {}),
    (Action.INVITE, {"target_role": MEMBER}),
    (Action.INVITE, {"target_unit": TEAM}),
    (Action.DEACTIVATE_MEMBER, {}),
    (Action.SET_LEAVE, {"report": TEAMMATE_REPORT}),
]


@pytest.mark.parametrize(("action", "arguments"), MISSING_ARGUMENTS)
@pytest.mark.parametrize("kind", ["admin", "stranger"])
def test_a_handler_that_passes_too_little_fails_loudly(
    action: Action, arguments: Mapping[str, Any], kind: str
) -> None:
    with pytest.raises(ValueError, match=str(action)):
        can(ACTORS[kind], action, TREE, **arguments)


def test_decisions_are_allow_or_a_deny_with_a_message_id() -> None:
    for action, kind, _ in MATRIX_CASES:
        decision = can(ACTORS[kind], action, TREE, **CONTEXT[action])
        assert isinstance(decision, Allow) or (
            isinstance(decision, Deny) and decision.reason.startswith("access.")
        )


@pytest.mark.parametrize(
    ("kind", "units"),
    [
        ("member", frozenset()),
        ("leader", frozenset({TEAM})),
        ("deputy", frozenset({TEAM})),
        ("supervisor_of_unit", frozenset({TEAM, TEAM_GROUP})),
        ("supervisor_of_ancestor", frozenset({WARD, HAMLET, TEAM, TEAM_GROUP, OTHER_TEAM})),
        ("supervisor_elsewhere", frozenset({OTHER_WARD, OTHER_HAMLET})),
        ("admin", TREE.codes),
        ("deactivated", frozenset()),
        ("stranger", frozenset()),
    ],
)
def test_visible_units(kind: str, units: frozenset[str]) -> None:
    assert visible_units(ACTORS[kind], TREE) == units


# --- the unit tree ------------------------------------------------------------------

T = TypeVar("T")


def finishes(work: Callable[[], T], seconds: float = 5.0) -> T:
    """Run work in a thread, failing (instead of hanging the run) if it loops forever."""
    results: list[T] = []
    thread = threading.Thread(target=lambda: results.append(work()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the walk did not finish: a cycle loops forever"
    return results[0]


def test_tree_links() -> None:
    assert TREE.parent(TEAM) == HAMLET
    assert TREE.parent(PROVINCE) is None
    assert set(TREE.children(HAMLET)) == {TEAM, OTHER_TEAM}
    assert TREE.children(TEAM_GROUP) == ()
    assert TREE.ancestors(TEAM_GROUP) == (TEAM, HAMLET, WARD, PROVINCE)
    assert TREE.ancestors(PROVINCE) == ()
    assert TREE.depth(PROVINCE) == 0
    assert TREE.depth(TEAM_GROUP) == 4
    assert TREE.subtree(HAMLET) == {HAMLET, TEAM, TEAM_GROUP, OTHER_TEAM}
    assert TREE.subtree(TEAM_GROUP) == {TEAM_GROUP}
    assert TREE.subtree(PROVINCE) == TREE.codes
    assert len(TREE) == 8
    assert set(TREE) == TREE.codes


@pytest.mark.parametrize(
    ("code", "root", "expected"),
    [
        (TEAM, TEAM, True),
        (TEAM_GROUP, PROVINCE, True),
        (TEAM, WARD, True),
        (WARD, TEAM, False),
        (OTHER_TEAM, TEAM, False),
        (OTHER_HAMLET, WARD, False),
        ("NOWHERE", PROVINCE, False),
        (TEAM, "NOWHERE", False),
        ("NOWHERE", "NOWHERE", False),
    ],
)
def test_is_within(code: str, root: str, expected: bool) -> None:
    assert TREE.is_within(code, root) is expected


def test_unknown_codes_have_nothing_around_them() -> None:
    assert "NOWHERE" not in TREE
    assert TREE.parent("NOWHERE") is None
    assert TREE.children("NOWHERE") == ()
    assert TREE.ancestors("NOWHERE") == ()
    assert TREE.depth("NOWHERE") is None
    assert TREE.subtree("NOWHERE") == frozenset()


def test_a_missing_parent_makes_a_root_that_reaches_nowhere() -> None:
    tree = UnitTree([Unit("A", "a", "GONE"), Unit("B", "b", "A")])
    assert tree.parent("A") is None
    assert tree.ancestors("B") == ("A",)
    assert tree.depth("A") == 0
    assert tree.subtree("GONE") == frozenset()
    assert not tree.is_within("A", "GONE")


def test_a_deep_tree_is_walked_without_recursion() -> None:
    levels = 20_000  # far past Python's recursion limit
    units = [Unit("L0", "level 0", None)]
    units += [Unit(f"L{i}", f"level {i}", f"L{i - 1}") for i in range(1, levels)]
    tree = UnitTree(units)
    leaf = f"L{levels - 1}"
    assert tree.depth(leaf) == levels - 1
    assert tree.ancestors(leaf)[0] == f"L{levels - 2}"
    assert tree.ancestors(leaf)[-1] == "L0"
    assert tree.is_within(leaf, "L0")
    assert not tree.is_within("L0", leaf)
    assert len(tree.subtree("L0")) == levels
    assert tree.subtree(leaf) == {leaf}


def test_a_cycle_ends_every_walk() -> None:
    # A → B → C → A, with D hanging below A.
    tree = UnitTree(
        [Unit("A", "a", "B"), Unit("B", "b", "C"), Unit("C", "c", "A"), Unit("D", "d", "A")]
    )
    assert finishes(lambda: tree.ancestors("A")) == ("B", "C")
    assert finishes(lambda: tree.ancestors("D")) == ("A", "B", "C")
    assert finishes(lambda: tree.depth("C")) == 2
    assert finishes(lambda: tree.subtree("B")) == {"A", "B", "C", "D"}
    assert finishes(lambda: tree.is_within("D", "C"))
    assert not finishes(lambda: tree.is_within("A", "D"))
    assert not finishes(lambda: tree.is_within("A", "NOWHERE"))
    assert not finishes(lambda: tree.is_within("NOWHERE", "A"))


def test_a_unit_that_is_its_own_parent_is_a_root() -> None:
    tree = UnitTree([Unit("S", "s", "S"), Unit("T", "t", "S")])
    assert finishes(lambda: tree.ancestors("S")) == ()
    assert finishes(lambda: tree.depth("S")) == 0
    assert tree.parent("S") is None
    assert finishes(lambda: tree.subtree("S")) == {"S", "T"}
    assert finishes(lambda: tree.ancestors("T")) == ("S",)


def test_a_cycle_does_not_stop_a_supervisor_check() -> None:
    tree = UnitTree([Unit("A", "a", "B"), Unit("B", "b", "A")])
    supervisor = Actor(60, SUPERVISOR, "A", True)
    report = ReportRef(61, "B", "submitted")
    assert finishes(lambda: can(supervisor, Action.VIEW_REPORT, tree, report=report)) == ALLOW
    assert finishes(lambda: can(supervisor, Action.EXPORT, tree, target_unit="ELSEWHERE")) == (
        UNKNOWN_UNIT
    )


def test_a_unit_listed_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        UnitTree([Unit("A", "a", None), Unit("A", "a again", None)])
