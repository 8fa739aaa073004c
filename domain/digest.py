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
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
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
    tree = UnitTree(data.units)
    scope = frozenset(units)
    roots = roots_of(scope, tree)
    reports = tuple(
        sorted((r for r in data.reports if r.unit_code in scope), key=lambda r: r.submitted_at)
    )
    people = [p for p in data.people if p.unit_code in scope]
    year_start = min(grading_year_start(data.end, data.zone), data.start)
    period = compliance(data, people, data.start, data.end, tree)
    year = compliance(data, people, year_start, data.end, tree)
    groups = _groups(tree, roots, scope)
    days = _days(data.start, data.end, data.zone)
    return Digest(
        start=data.start,
        end=data.end,
        year_start=year_start,
        roots=roots,
        by_category=_by_category(reports),
        by_unit=_by_unit(roots, reports, groups, people, period),
        urgent=tuple(r for r in reports if r.urgent),
        hot_spots=hot_spots(
            [r for r in data.incidents if r.unit_code in scope], data.end, data.thresholds
        ),
        silent=silent_units(people, data.last_report, data.end, data.thresholds.silent_days),
        units_period=_unit_rates(groups, people, period),
        members_period=_member_rates(people, period),
        units_year=_unit_rates(groups, people, year),
        members_year=_member_rates(people, year),
        days=days,
        per_day=_per_day(reports, days, data.zone),
        reports=reports,
        deadlines=sum(period.values(), Tally()),
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

_EARTH_RADIUS_M = 6_371_000.0


def distance_m(a: DigestReport, b: DigestReport) -> float:
    """Great-circle distance between two located reports, in metres."""
    assert a.latitude is not None and a.longitude is not None
    assert b.latitude is not None and b.longitude is not None
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat, dlon = lat2 - lat1, math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def hot_spots(
    incidents: Iterable[DigestReport], end: datetime, thresholds: Thresholds
) -> tuple[HotSpot, ...]:
    """Hot spots among the incidents of the ``hot_spot_days`` before ``end``.

    By unit: ``hot_spot_count`` or more of one category in one unit. By distance: as many
    of one category, every two of them within ``hot_spot_metres``, wherever their units
    are; a group already shown as a unit's hot spot is not shown again.
    """
    since = end - timedelta(days=thresholds.hot_spot_days)
    recent = [r for r in incidents if r.kind == "incident" and since <= r.submitted_at < end]
    found: list[HotSpot] = []
    by_unit: dict[tuple[str, str], list[DigestReport]] = defaultdict(list)
    for report in recent:
        by_unit[(report.unit_code, report.category or "")].append(report)
    for (unit, category), group in sorted(by_unit.items()):
        if len(group) >= thresholds.hot_spot_count:
            found.append(_spot(category, unit, group))
    shown = [set(spot.report_ids) for spot in found]
    by_category: dict[str, list[DigestReport]] = defaultdict(list)
    for report in recent:
        if report.located:
            by_category[report.category or ""].append(report)
    for category, located in sorted(by_category.items()):
        for group in _clusters(located, thresholds.hot_spot_metres, thresholds.hot_spot_count):
            ids = {r.id for r in group}
            if any(ids <= earlier for earlier in shown):
                continue
            shown.append(ids)
            spread = max(distance_m(a, b) for a in group for b in group)
            found.append(_spot(category, None, group, spread))
    return tuple(found)


def _clusters(
    located: Sequence[DigestReport], metres: float, count: int
) -> list[list[DigestReport]]:
    """Groups of ``count`` or more reports, every two within ``metres`` of each other.

    Each report is taken as a centre in turn; its neighbours are added nearest first while
    they stay within reach of everyone taken. A group inside a larger one is dropped.
    """
    groups: list[list[DigestReport]] = []
    for centre in sorted(located, key=lambda r: r.id):
        near = sorted(
            (r for r in located if r.id != centre.id and distance_m(centre, r) <= metres),
            key=lambda r: (distance_m(centre, r), r.id),
        )
        group = [centre]
        for candidate in near:
            if all(distance_m(candidate, taken) <= metres for taken in group):
                group.append(candidate)
        if len(group) >= count:
            groups.append(group)
    sets = [frozenset(r.id for r in group) for group in groups]
    kept: list[list[DigestReport]] = []
    seen: set[frozenset[int]] = set()
    for group, ids in sorted(zip(groups, sets, strict=True), key=lambda g: -len(g[1])):
        if ids in seen or any(ids < other for other in sets):
            continue
        seen.add(ids)
        kept.append(sorted(group, key=lambda r: r.id))
    return kept


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
    """Units with reporting members and no report of any kind in the ``days`` before end."""
    since = end - timedelta(days=days)
    staffed = sorted({person.unit_code for person in people})
    return tuple(
        SilentUnit(code, last_report.get(code))
        for code in staffed
        if (last_report.get(code) or datetime.min.replace(tzinfo=UTC)) < since
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
