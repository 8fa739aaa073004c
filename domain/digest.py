"""Digests: what a supervisor reads each morning, computed from plain data.

Storage gathers a :class:`DigestData` once per send (every report, member, rule and leave
the digests need); :func:`build_digest` turns it into one :class:`Digest` per recipient,
for the units they oversee. Both are plain, picklable values, so the work (and the chart
and spreadsheet drawn from it) runs in another process, never on the event loop.

The rules, as the issue gives them:

- a digest covers the time from the previous send of the same schedule to its own;
- hot spots: ``count`` or more incidents of one category within ``days`` days, either in
  one unit, or within ``metres`` of each other where their locations are known;
- a unit is silent when none of its members has sent a report of any kind for
  ``silent_days`` days (only units that have reporting members can be silent);
- compliance: of the deadline periods a member owed (periods due in the time covered,
  not skipped for a holiday, not while on leave), how many they met on time. The
  grading year runs from 15 November to 14 November.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.access import UnitTree
from domain.deadlines import (
    Period,
    Rule,
    Window,
    next_due,
    parse_due,
    parse_weekday,
    skipped,
    window_ending,
)
from domain.geo import EARTH_RADIUS_M, metres_between
from domain.models import Unit

GRADING_YEAR_STARTS = (11, 15)  # 15 November


# --- schedules ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestSchedule:
    """When one digest is sent: daily at a time, weekly on a day, monthly on a date."""

    period: Period
    due: time
    weekday: int | None = None
    month_day: int | None = None


_MONTH_DAY = re.compile(r"^(\d{1,2})$")


def parse_schedule(period: Period, text: str) -> DigestSchedule | None:
    """Read "07:00" (daily), "mon 07:30" (weekly) or "1 08:00" (monthly); None if bad."""
    parts = text.split()
    if period is Period.DAILY and len(parts) == 1:
        due = parse_due(parts[0])
        return DigestSchedule(period, due) if due else None
    if len(parts) != 2:
        return None
    due = parse_due(parts[1])
    if due is None:
        return None
    if period is Period.WEEKLY:
        weekday = parse_weekday(parts[0])
        return DigestSchedule(period, due, weekday=weekday) if weekday is not None else None
    match = _MONTH_DAY.match(parts[0])
    if match and 1 <= int(match.group(1)) <= 28:
        return DigestSchedule(period, due, month_day=int(match.group(1)))
    return None


def grading_year_start(moment: datetime, zone: ZoneInfo) -> datetime:
    """The start (local midnight, 15 November) of the grading year a moment falls in."""
    local = moment.astimezone(zone)
    month, day = GRADING_YEAR_STARTS
    year = local.year if (local.month, local.day) >= (month, day) else local.year - 1
    return datetime(year, month, day, tzinfo=zone).astimezone(UTC)


# --- what storage gathers -----------------------------------------------------------------


@dataclass(frozen=True)
class DigestReport:
    """One report as a digest shows it (and as its spreadsheet lists it)."""

    id: int
    kind: str  # incident, activity, nothing
    category: str | None  # catalogue code
    unit_code: str
    member_id: int
    reporter: str
    submitted_at: datetime
    occurred_at: datetime
    urgent: bool = False
    status: str = "submitted"
    alert_state: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    address: str | None = None
    description: str = ""
    people: str | None = None
    action_taken: str | None = None
    participants: int | None = None
    duration_minutes: int | None = None
    photo_count: int = 0
    reached: int | None = None  # people or households an outreach-like activity reached

    @property
    def located(self) -> bool:
        return self.latitude is not None and self.longitude is not None


@dataclass(frozen=True)
class Submission:
    """A report as compliance sees it: who, what kind, when."""

    member_id: int
    kind: str
    submitted_at: datetime


@dataclass(frozen=True)
class Person:
    """An active reporting member (member, team leader or deputy)."""

    id: int
    name: str
    unit_code: str
    joined_at: datetime | None = None  # owes only what fell due after joining


@dataclass(frozen=True)
class Leave:
    member_id: int
    first_day: date
    last_day: date


@dataclass(frozen=True)
class Thresholds:
    hot_spot_count: int = 3
    hot_spot_days: int = 7
    hot_spot_metres: float = 300.0
    silent_days: int = 7


@dataclass(frozen=True)
class DigestData:
    """Everything the digests of one send need, read in one go.

    ``reports``: the covered time's reports (withdrawn ones left out). ``incidents``: the
    incidents of the hot-spot window before ``end``. ``submissions``: every report since the
    start of the grading year (or of the covered time, if earlier), for compliance.
    ``last_report``: each unit's latest report of any kind before ``end``.
    """

    start: datetime
    end: datetime
    zone: ZoneInfo
    units: tuple[Unit, ...]
    people: tuple[Person, ...]
    reports: tuple[DigestReport, ...]
    incidents: tuple[DigestReport, ...]
    submissions: tuple[Submission, ...]
    last_report: Mapping[str, datetime]
    rules: tuple[Rule, ...]
    leave: tuple[Leave, ...] = ()
    holidays: frozenset[date] = frozenset()
    thresholds: Thresholds = field(default_factory=Thresholds)


# --- what a digest holds ------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryTotal:
    kind: str
    category: str | None
    count: int


@dataclass(frozen=True)
class Tally:
    """Deadline periods owed and met on time."""

    owed: int = 0
    met: int = 0

    @property
    def missed(self) -> int:
        return self.owed - self.met

    @property
    def rate(self) -> float | None:
        return self.met / self.owed if self.owed else None

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.owed + other.owed, self.met + other.met)


@dataclass(frozen=True)
class UnitTotal:
    """One child unit (with everything below it) in the covered time."""

    unit_code: str
    incidents: int = 0
    activities: int = 0
    nothing: int = 0
    urgent: int = 0
    deadlines: Tally = Tally()

    @property
    def reports(self) -> int:
        return self.incidents + self.activities + self.nothing


@dataclass(frozen=True)
class Rate:
    """One unit's or member's on-time rate; ``member_id`` is None for a unit."""

    unit_code: str
    member_id: int | None
    name: str
    tally: Tally


@dataclass(frozen=True)
class HotSpot:
    category: str
    unit_code: str | None  # set for a hot spot by unit; None for one by distance
    report_ids: tuple[int, ...]
    first: datetime
    last: datetime
    metres: float | None = None  # by distance: the largest distance between two of them


@dataclass(frozen=True)
class SilentUnit:
    unit_code: str
    last_report: datetime | None


@dataclass(frozen=True)
class Digest:
    """One recipient's digest: the units they oversee, for the covered time."""

    start: datetime
    end: datetime
    year_start: datetime
    roots: tuple[str, ...]
    by_category: tuple[CategoryTotal, ...]
    by_unit: tuple[UnitTotal, ...]
    urgent: tuple[DigestReport, ...]
    hot_spots: tuple[HotSpot, ...]
    silent: tuple[SilentUnit, ...]
    units_period: tuple[Rate, ...]
    members_period: tuple[Rate, ...]
    units_year: tuple[Rate, ...]
    members_year: tuple[Rate, ...]
    days: tuple[date, ...]  # every local day of the covered time, for the chart
    per_day: Mapping[str, tuple[int, ...]]  # "kind:category" → reports on each of ``days``
    reports: tuple[DigestReport, ...]  # the covered time's reports, oldest first
    deadlines: Tally = Tally()  # every period owed in the covered time, for the headline
    thresholds: Thresholds = Thresholds()

    @property
    def total(self) -> int:
        return sum(item.count for item in self.by_category)


def series_key(kind: str, category: str | None) -> str:
    return f"{kind}:{category or ''}"


# --- computing ----------------------------------------------------------------------------


def roots_of(units: Collection[str], tree: UnitTree) -> tuple[str, ...]:
    """The top units of a set: those whose parent is outside it."""
    return tuple(sorted(code for code in units if tree.parent(code) not in units))


def build_digest(data: DigestData, units: Collection[str]) -> Digest:
    """One recipient's digest, for the units they oversee."""
    return build_digests(data, [units])[0]


def build_digests(data: DigestData, scopes: Sequence[Collection[str]]) -> list[Digest]:
    """Every recipient's digest from one read; what does not depend on who reads it (each
    member's deadlines, the unit tree) is worked out once."""
    tree = UnitTree(data.units)
    year_start = grading_year_start(data.end, data.zone)
    period = compliance(data, data.people, data.start, data.end, tree)
    year = compliance(data, data.people, year_start, data.end, tree)
    days = _days(data.start, data.end, data.zone)
    return [_digest(data, frozenset(units), tree, period, year, days) for units in scopes]


def _digest(
    data: DigestData,
    scope: frozenset[str],
    tree: UnitTree,
    period: Mapping[int, Tally],
    year: Mapping[int, Tally],
    days: tuple[date, ...],
) -> Digest:
    roots = roots_of(scope, tree)
    reports = tuple(
        sorted((r for r in data.reports if r.unit_code in scope), key=lambda r: r.submitted_at)
    )
    people = [p for p in data.people if p.unit_code in scope]
    groups = _groups(tree, roots, scope)
    incidents = [r for r in data.incidents if r.unit_code in scope]
    return Digest(
        start=data.start,
        end=data.end,
        year_start=grading_year_start(data.end, data.zone),
        roots=roots,
        by_category=_by_category(reports),
        by_unit=_by_unit(roots, reports, groups, people, period),
        urgent=tuple(r for r in reports if r.urgent),
        hot_spots=hot_spots(incidents, data.start, data.end, data.thresholds),
        silent=silent_units(people, data.last_report, data.end, data.thresholds.silent_days),
        units_period=_unit_rates(groups, people, period),
        members_period=_member_rates(people, period),
        units_year=_unit_rates(groups, people, year),
        members_year=_member_rates(people, year),
        days=days,
        per_day=_per_day(reports, days, data.zone),
        reports=reports,
        deadlines=sum((period[p.id] for p in people if p.id in period), Tally()),
        thresholds=data.thresholds,
    )


def _groups(tree: UnitTree, roots: Sequence[str], scope: frozenset[str]) -> dict[str, str]:
    """Which row of the by-unit tables each unit counts in.

    With one root (a supervisor), the rows are its children, each with everything below
    it, and the root itself for its own members; with several (an admin), the roots.
    """
    group: dict[str, str] = {}
    if len(roots) == 1:
        group[roots[0]] = roots[0]
        for child in tree.children(roots[0]):
            for code in tree.subtree(child) & scope:
                group[code] = child
    else:
        for root in roots:
            for code in tree.subtree(root) & scope:
                group.setdefault(code, root)
    for code in scope:
        group.setdefault(code, code)
    return group


def _by_category(reports: Iterable[DigestReport]) -> tuple[CategoryTotal, ...]:
    counts = Counter((r.kind, r.category) for r in reports)
    order = {"incident": 0, "activity": 1, "nothing": 2}
    return tuple(
        CategoryTotal(kind, category, count)
        for (kind, category), count in sorted(
            counts.items(), key=lambda item: (order.get(item[0][0], 3), -item[1], item[0][1] or "")
        )
    )


def _by_unit(
    roots: Sequence[str],
    reports: Iterable[DigestReport],
    groups: Mapping[str, str],
    people: Iterable[Person],
    owed: Mapping[int, Tally],
) -> tuple[UnitTotal, ...]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for report in reports:
        row = counts[groups.get(report.unit_code, report.unit_code)]
        row[report.kind] += 1
        row["urgent"] += report.urgent
    tallies: dict[str, Tally] = defaultdict(Tally)
    for person in people:
        head = groups.get(person.unit_code, person.unit_code)
        tallies[head] = tallies[head] + owed.get(person.id, Tally())
    # Every row, but a lone root's own only when its own members did something.
    heads = sorted(
        head
        for head in set(groups.values())
        if head not in roots or len(roots) > 1 or head in counts or tallies[head].owed
    )
    return tuple(
        UnitTotal(
            head,
            incidents=counts[head]["incident"],
            activities=counts[head]["activity"],
            nothing=counts[head]["nothing"],
            urgent=counts[head]["urgent"],
            deadlines=tallies.get(head, Tally()),
        )
        for head in heads
    )


def _days(start: datetime, end: datetime, zone: ZoneInfo) -> tuple[date, ...]:
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    return tuple(first + timedelta(days=n) for n in range((last - first).days + 1))


def _per_day(
    reports: Iterable[DigestReport], days: Sequence[date], zone: ZoneInfo
) -> dict[str, tuple[int, ...]]:
    index = {day: n for n, day in enumerate(days)}
    series: dict[str, list[int]] = {}
    for report in reports:
        row = series.setdefault(series_key(report.kind, report.category), [0] * len(days))
        position = index.get(report.submitted_at.astimezone(zone).date())
        if position is not None:
            row[position] += 1
    return {key: tuple(values) for key, values in sorted(series.items())}


# --- hot spots ----------------------------------------------------------------------------

_LONG_AGO = datetime.min.replace(tzinfo=UTC)


def distance_m(a: DigestReport, b: DigestReport) -> float:
    """Great-circle distance between two located reports, in metres."""
    assert a.latitude is not None and a.longitude is not None
    assert b.latitude is not None and b.longitude is not None
    return metres_between(a.latitude, a.longitude, b.latitude, b.longitude)


def hot_spots(
    incidents: Iterable[DigestReport], start: datetime, end: datetime, thresholds: Thresholds
) -> tuple[HotSpot, ...]:
    """Hot spots among the incidents from ``hot_spot_days`` before ``start`` to ``end``.

    By unit: ``hot_spot_count`` or more of one category in one unit within
    ``hot_spot_days`` (the busiest such stretch is shown). By distance: as many of one
    category within that many days of each other, every two of them within
    ``hot_spot_metres``, wherever their units are; groups do not overlap, and one already
    shown as a unit's hot spot is not shown again.
    """
    span = timedelta(days=thresholds.hot_spot_days)
    recent = sorted(
        (r for r in incidents if r.kind == "incident" and start - span <= r.submitted_at < end),
        key=lambda r: (r.submitted_at, r.id),
    )
    found: list[HotSpot] = []
    by_unit: dict[tuple[str, str], list[DigestReport]] = defaultdict(list)
    for report in recent:
        by_unit[(report.unit_code, report.category or "")].append(report)
    for (unit, category), group in sorted(by_unit.items()):
        busiest = _busiest_stretch(group, span)
        if len(busiest) >= thresholds.hot_spot_count:
            found.append(_spot(category, unit, busiest))
    shown = [set(spot.report_ids) for spot in found]
    by_category: dict[str, list[DigestReport]] = defaultdict(list)
    for report in recent:
        if report.located:
            by_category[report.category or ""].append(report)
    for category, located in sorted(by_category.items()):
        for group in _clusters(
            located, thresholds.hot_spot_metres, thresholds.hot_spot_count, span
        ):
            ids = {r.id for r in group}
            if any(ids <= earlier for earlier in shown):
                continue
            shown.append(ids)
            spread = _spread(group, thresholds.hot_spot_metres)
            found.append(_spot(category, None, group, spread))
    return tuple(found)


def _busiest_stretch(ordered: Sequence[DigestReport], span: timedelta) -> Sequence[DigestReport]:
    """The most reports (in time order) within ``span`` of the first of them."""
    best: Sequence[DigestReport] = ()
    first = 0
    for last, report in enumerate(ordered):
        while report.submitted_at - ordered[first].submitted_at > span:
            first += 1
        if last + 1 - first > len(best):
            best = ordered[first : last + 1]
    return best


def _clusters(
    located: Sequence[DigestReport], metres: float, count: int, span: timedelta
) -> list[list[DigestReport]]:
    """Groups of ``count`` or more reports, every two within ``metres`` and ``span``.

    First, on a grid of cells ``metres / √2`` wide (any two reports in one cell are within
    reach), each cell's busiest stretches in time are groups. Then what is left, now
    sparse, is searched across cells: repeatedly, the report with the most neighbours left
    is a centre, its neighbours join (those sharing the most neighbours with the others
    first) while they stay within reach of everyone taken, and a big enough group is kept.
    Groups never overlap; a crowded area costs a sort, not a comparison of every pair.
    """
    if len(located) < count:
        return []
    latitude = math.radians(sum(r.latitude or 0.0 for r in located) / len(located))
    side = metres / math.sqrt(2)

    def cell(report: DigestReport) -> tuple[int, int]:
        assert report.latitude is not None and report.longitude is not None
        x = math.radians(report.longitude) * EARTH_RADIUS_M * math.cos(latitude)
        y = math.radians(report.latitude) * EARTH_RADIUS_M
        return math.floor(x / side), math.floor(y / side)

    cells: dict[tuple[int, int], list[DigestReport]] = defaultdict(list)
    for report in sorted(located, key=lambda r: (r.submitted_at, r.id)):
        cells[cell(report)].append(report)
    groups: list[list[DigestReport]] = []
    left: list[DigestReport] = []
    for members in cells.values():
        while len(members) >= count:
            busiest = _busiest_stretch(members, span)
            if len(busiest) < count:
                break
            groups.append(list(busiest))
            taken = {r.id for r in busiest}
            members = [r for r in members if r.id not in taken]
        left += members
    return groups + _sparse_clusters(left, cell, metres, count, span)


def _sparse_clusters(
    located: Sequence[DigestReport],
    cell: Callable[[DigestReport], tuple[int, int]],
    metres: float,
    count: int,
    span: timedelta,
) -> list[list[DigestReport]]:
    """Groups across cells, among reports no cell had enough of (so few neighbours each)."""
    cells: dict[tuple[int, int], list[int]] = defaultdict(list)
    for index, report in enumerate(located):
        cells[cell(report)].append(index)
    near: list[set[int]] = [set() for _ in located]
    for (cx, cy), members in cells.items():
        for dx in (-2, -1, 0, 1, 2):  # a cell is metres/√2 wide: reach spans two of them
            for dy in (-2, -1, 0, 1, 2):
                for i in members:
                    for j in cells.get((cx + dx, cy + dy), ()):
                        if i < j and _close(located[i], located[j], metres, span):
                            near[i].add(j)
                            near[j].add(i)
    pool = {i for i in range(len(located)) if len(near[i]) + 1 >= count}
    groups: list[list[DigestReport]] = []
    while pool:
        centre = max(pool, key=lambda i: (len(near[i] & pool), -located[i].id))
        candidates = near[centre] & pool
        if len(candidates) + 1 < count:
            break  # no report has enough neighbours left
        order = sorted(
            candidates,
            key=lambda j: (-len(near[j] & candidates), distance_m(located[centre], located[j]),
                           located[j].id),
        )  # fmt: skip
        taken = [centre]
        for j in order:
            if all(j in near[k] for k in taken):
                taken.append(j)
        if len(taken) >= count:
            groups.append([located[i] for i in taken])
            pool -= set(taken)
        else:
            pool.discard(centre)
    return groups


def _spread(group: Sequence[DigestReport], metres: float) -> float:
    """How far apart a group's reports are at most: its bounding box's diagonal (every two
    are within ``metres`` already, so no more than that)."""
    south = min(r.latitude or 0.0 for r in group)
    north = max(r.latitude or 0.0 for r in group)
    west = min(r.longitude or 0.0 for r in group)
    east = max(r.longitude or 0.0 for r in group)
    corner = replace(group[0], latitude=south, longitude=west)
    other = replace(group[0], latitude=north, longitude=east)
    return min(distance_m(corner, other), metres)


def _close(a: DigestReport, b: DigestReport, metres: float, span: timedelta) -> bool:
    return abs(a.submitted_at - b.submitted_at) <= span and distance_m(a, b) <= metres


def _spot(
    category: str, unit: str | None, group: Sequence[DigestReport], metres: float | None = None
) -> HotSpot:
    times = [r.submitted_at for r in group]
    ids = tuple(sorted(r.id for r in group))
    return HotSpot(category, unit, ids, min(times), max(times), metres)


# --- silent units -------------------------------------------------------------------------


def silent_units(
    people: Iterable[Person], last_report: Mapping[str, datetime], end: datetime, days: int
) -> tuple[SilentUnit, ...]:
    """Units with no report of any kind in the ``days`` before end, though they have had
    reporting members all that time (a team that joined yesterday is not silent)."""
    since = end - timedelta(days=days)
    first_joined: dict[str, datetime] = {}
    for person in people:
        joined = person.joined_at or _LONG_AGO
        first_joined[person.unit_code] = min(joined, first_joined.get(person.unit_code, joined))
    return tuple(
        SilentUnit(code, last_report.get(code))
        for code, joined in sorted(first_joined.items())
        if joined <= since and (last_report.get(code) or _LONG_AGO) < since
    )


# --- compliance ---------------------------------------------------------------------------


def compliance(
    data: DigestData,
    people: Sequence[Person],
    start: datetime,
    end: datetime,
    tree: UnitTree,
) -> dict[int, Tally]:
    """Each member's deadline periods due in (start, end], and how many they met on time.

    A period counts when it was not skipped for a holiday, the rule was in force at its due
    time, and the member was not on leave that day. A member met it with enough reports of
    the rule's kind submitted within it.
    """
    times: dict[tuple[int, str], list[datetime]] = defaultdict(list)
    for submission in data.submissions:
        times[(submission.member_id, submission.kind)].append(submission.submitted_at)
    for moments in times.values():
        moments.sort()
    away: dict[int, list[Leave]] = defaultdict(list)
    for leave in data.leave:
        away[leave.member_id].append(leave)
    tallies: dict[int, Tally] = {}
    for rule in data.rules:
        covered = tree.subtree(rule.unit_code)
        members = [p for p in people if p.unit_code in covered]
        if not members:
            continue
        kinds = (
            ("incident", "activity", "nothing") if rule.kind.value == "any" else (rule.kind.value,)
        )
        for window in _windows(rule, start, end, data.zone):
            if skipped(window, data.holidays):
                continue
            if rule.since is not None and rule.since >= window.due:
                continue
            if rule.until is not None and rule.until <= window.due:
                continue
            for person in members:
                if person.joined_at is not None and person.joined_at >= window.due:
                    continue  # not yet a member when it was due
                if any(a.first_day <= window.due_day <= a.last_day for a in away[person.id]):
                    continue
                done = sum(
                    bisect.bisect_left(times[(person.id, kind)], window.due)
                    - bisect.bisect_left(times[(person.id, kind)], window.start)
                    for kind in kinds
                )
                earlier = tallies.get(person.id, Tally())
                tallies[person.id] = earlier + Tally(1, int(done >= rule.needed))
    return tallies


def _windows(rule: Rule, start: datetime, end: datetime, zone: ZoneInfo) -> Iterator[Window]:
    """Every period of a rule whose due moment is in (start, end]."""
    due = next_due(rule, start, zone)
    while due <= end:
        yield window_ending(rule, due, zone)
        due = next_due(rule, due, zone)


def _member_rates(people: Iterable[Person], tallies: Mapping[int, Tally]) -> tuple[Rate, ...]:
    rates = [Rate(p.unit_code, p.id, p.name, tallies[p.id]) for p in people if p.id in tallies]
    return tuple(sorted(rates, key=_rank))


def _unit_rates(
    groups: Mapping[str, str],
    people: Iterable[Person],
    tallies: Mapping[int, Tally],
) -> tuple[Rate, ...]:
    by_head: dict[str, Tally] = defaultdict(Tally)
    for person in people:
        if person.id in tallies:
            head = groups.get(person.unit_code, person.unit_code)
            by_head[head] = by_head[head] + tallies[person.id]
    rates = [Rate(code, None, code, tally) for code, tally in by_head.items() if tally.owed]
    return tuple(sorted(rates, key=_rank))


def _rank(rate: Rate) -> tuple[float, int, str]:
    """Best first: the highest on-time rate, then the most periods owed, then by name."""
    return (-(rate.tally.rate or 0.0), -rate.tally.owed, rate.name)
