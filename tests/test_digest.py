"""A digest's numbers, checked against a small week worked out by hand.

The commune X has three teams. Every member owes one report a day by 20:00 (any kind).
The daily digest of 07:00 on 27/11 covers 07:00 26/11 to 07:00 27/11:

- Team 1: An files a theft on 26/11 08:00 (and one on 25/11, and fights on 22/11 and
  23/11 near the market); Bình files a theft on 24/11 and "nothing" on 26/11 at 21:00,
  after that day's deadline.
- Team 2: Chi files an urgent fight near the market on 26/11 09:00, and a patrol at 19:00.
- Team 3: Dũng last reported on 15/11: silent for more than seven days.

Hot spots: three thefts in Team 1 within seven days (by unit); three fights within 300 m
of each other across Teams 1 and 2 (by distance). Compliance for the day: An and Chi met
the 26/11 deadline, Bình and Dũng did not: 2 of 4.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.deadlines import Period, ReportKind, Rule
from domain.digest import (
    DigestData,
    DigestReport,
    DigestSchedule,
    Leave,
    Person,
    Submission,
    Tally,
    Thresholds,
    build_digest,
    grading_year_start,
    hot_spots,
    parse_schedule,
    silent_units,
)
from domain.models import Unit

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
UNITS = (
    Unit("P", "Tỉnh", None),
    Unit("X", "Xã X", "P"),
    Unit("T1", "Tổ 1", "X"),
    Unit("T2", "Tổ 2", "X"),
    Unit("T3", "Tổ 3", "X"),
    Unit("Y", "Xã Y", "P"),
)
PEOPLE = (
    Person(1, "An", "T1"),
    Person(2, "Bình", "T1"),
    Person(3, "Chi", "T2"),
    Person(4, "Dũng", "T3"),
)
MARKET = (18.7000, 105.6000)
# 0.001° of latitude is about 111 m.
NEAR_MARKET = [(MARKET[0] + 0.001 * n, MARKET[1]) for n in range(3)]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE).astimezone(UTC)


def report(
    number: int,
    member: int,
    unit: str,
    when: str,
    kind: str = "incident",
    category: str | None = None,
    place: tuple[float, float] | None = None,
    urgent: bool = False,
) -> DigestReport:
    return DigestReport(
        id=number,
        kind=kind,
        category=category,
        unit_code=unit,
        member_id=member,
        reporter=PEOPLE[member - 1].name,
        submitted_at=at(when),
        occurred_at=at(when),
        urgent=urgent,
        alert_state="acknowledged" if urgent else None,
        latitude=place[0] if place else None,
        longitude=place[1] if place else None,
    )


EVERY_REPORT = (
    report(1, 4, "T3", "2026-11-15T10:00", "activity", "PATROL"),
    report(2, 1, "T1", "2026-11-22T10:00", category="FIGHT", place=NEAR_MARKET[1]),
    report(3, 1, "T1", "2026-11-23T10:00", category="FIGHT", place=NEAR_MARKET[2]),
    report(4, 2, "T1", "2026-11-24T10:00", category="THEFT", place=(18.9, 105.7)),
    report(5, 1, "T1", "2026-11-25T10:00", category="THEFT", place=(18.8009, 105.7)),
    report(6, 1, "T1", "2026-11-26T08:00", category="THEFT", place=(18.8, 105.7)),
    report(7, 3, "T2", "2026-11-26T09:00", category="FIGHT", place=NEAR_MARKET[0], urgent=True),
    report(8, 3, "T2", "2026-11-26T19:00", "activity", "PATROL"),
    report(9, 2, "T1", "2026-11-26T21:00", "nothing"),
)
START, END = at("2026-11-26T07:00"), at("2026-11-27T07:00")
RULE = Rule(1, "X", ReportKind.ANY, Period.DAILY, time(20, 0), since=at("2026-11-01T00:00"))


def data(**changes: object) -> DigestData:
    values: dict[str, object] = {
        "start": START,
        "end": END,
        "zone": ZONE,
        "units": UNITS,
        "people": PEOPLE,
        "reports": tuple(r for r in EVERY_REPORT if START <= r.submitted_at < END),
        "incidents": tuple(r for r in EVERY_REPORT if r.kind == "incident"),
        "submissions": tuple(
            Submission(r.member_id, r.kind, r.submitted_at) for r in EVERY_REPORT
        ),
        "last_report": {"T1": at("2026-11-26T21:00"), "T2": at("2026-11-26T19:00"),
                        "T3": at("2026-11-15T10:00")},
        "rules": (RULE,),
        # Bình is on leave on 20 and 21 November; 20 November is a (made-up) holiday.
        "leave": (Leave(2, date(2026, 11, 20), date(2026, 11, 21)),),
        "holidays": frozenset({date(2026, 11, 20)}),
        "thresholds": Thresholds(),
    }  # fmt: skip
    values.update(changes)
    return DigestData(**values)  # type: ignore[arg-type]


def test_totals_by_category_and_by_team() -> None:
    digest = build_digest(data(), {"X", "T1", "T2", "T3"})
    assert digest.roots == ("X",)
    assert digest.total == 4
    assert [(c.kind, c.category, c.count) for c in digest.by_category] == [
        ("incident", "FIGHT", 1),
        ("incident", "THEFT", 1),
        ("activity", "PATROL", 1),
        ("nothing", None, 1),
    ]
    rows = {u.unit_code: u for u in digest.by_unit}
    assert set(rows) == {"T1", "T2", "T3"}  # the commune itself has no members
    assert (rows["T1"].incidents, rows["T1"].activities, rows["T1"].nothing) == (1, 0, 1)
    assert (rows["T2"].incidents, rows["T2"].activities, rows["T2"].urgent) == (1, 1, 1)
    assert rows["T3"].reports == 0
    # Overdue counts, as higher levels see them: owed and met per team.
    assert rows["T1"].deadlines == Tally(2, 1)
    assert rows["T2"].deadlines == Tally(1, 1)
    assert rows["T3"].deadlines == Tally(1, 0)
    assert [r.id for r in digest.urgent] == [7]
    assert digest.urgent[0].alert_state == "acknowledged"


def test_hot_spots_by_unit_and_by_distance() -> None:
    digest = build_digest(data(), {"X", "T1", "T2", "T3"})
    by_unit = [s for s in digest.hot_spots if s.unit_code is not None]
    by_distance = [s for s in digest.hot_spots if s.unit_code is None]
    assert [(s.category, s.unit_code, s.report_ids) for s in by_unit] == [
        ("THEFT", "T1", (4, 5, 6))
    ]
    assert [(s.category, s.report_ids) for s in by_distance] == [("FIGHT", (2, 3, 7))]
    # Two of them are 0.002° of latitude apart: about 222 m.
    assert by_distance[0].metres == pytest.approx(222.4, abs=1)


def test_hot_spot_thresholds_are_settings() -> None:
    incidents = data().incidents
    # At 200 m, the fights at the ends of the three (222 m apart) are no longer one group.
    assert [
        s.category for s in hot_spots(incidents, END, END, Thresholds(hot_spot_metres=200))
    ] == ["THEFT"]
    # Within three days, the thefts of 24/11 to 26/11 still count; the fights do not.
    spots = hot_spots(incidents, END, END, Thresholds(hot_spot_days=3))
    assert [(s.category, s.report_ids) for s in spots] == [("THEFT", (4, 5, 6))]
    assert hot_spots(incidents, END, END, Thresholds(hot_spot_count=4)) == ()


def test_a_team_silent_for_seven_days() -> None:
    digest = build_digest(data(), {"X", "T1", "T2", "T3"})
    assert [(s.unit_code, s.last_report) for s in digest.silent] == [("T3", at("2026-11-15T10:00"))]
    # With a ten-day setting, eleven days and twenty hours of silence still count.
    assert [s.unit_code for s in silent_units(PEOPLE, data().last_report, END, 11)] == ["T3"]
    assert silent_units(PEOPLE, data().last_report, END, 12) == ()


def test_compliance_for_the_period_ranked() -> None:
    digest = build_digest(data(), {"X", "T1", "T2", "T3"})
    assert digest.deadlines == Tally(4, 2)
    assert [(r.unit_code, r.tally) for r in digest.units_period] == [
        ("T2", Tally(1, 1)),
        ("T1", Tally(2, 1)),
        ("T3", Tally(1, 0)),
    ]
    assert [(r.name, r.tally) for r in digest.members_period] == [
        ("An", Tally(1, 1)),
        ("Chi", Tally(1, 1)),
        ("Bình", Tally(1, 0)),
        ("Dũng", Tally(1, 0)),
    ]


def test_compliance_for_the_grading_year() -> None:
    """Deadlines due 15/11 to 26/11: 12 days, less the holiday of 20/11; Bình's leave on
    21/11 takes one more of his. An met 22, 23, 25 and 26/11; Bình 24/11; Chi 26/11;
    Dũng 15/11."""
    digest = build_digest(data(), {"X", "T1", "T2", "T3"})
    assert digest.year_start == at("2026-11-15T00:00")
    assert {r.name: r.tally for r in digest.members_year} == {
        "An": Tally(11, 4),
        "Bình": Tally(10, 1),
        "Chi": Tally(11, 1),
        "Dũng": Tally(11, 1),
    }
    assert [(r.unit_code, r.tally) for r in digest.units_year] == [
        ("T1", Tally(21, 5)),
        ("T2", Tally(11, 1)),
        ("T3", Tally(11, 1)),
    ]


def test_a_team_leader_digest_is_only_their_team() -> None:
    digest = build_digest(data(), {"T2"})
    assert digest.roots == ("T2",)
    assert digest.total == 2
    assert [r.id for r in digest.reports] == [7, 8]
    assert digest.hot_spots == ()  # the fight cluster needs Team 1's reports
    assert [u.unit_code for u in digest.by_unit] == ["T2"]


def test_an_admin_forest_has_a_row_per_top_unit() -> None:
    digest = build_digest(data(), {u.code for u in UNITS})
    assert digest.roots == ("P",)
    assert [u.unit_code for u in digest.by_unit] == ["X", "Y"]
    assert digest.by_unit[0].reports == 4 and digest.by_unit[1].reports == 0


def test_a_rule_removed_or_added_counts_only_while_in_force() -> None:
    removed = Rule(
        1, "X", ReportKind.ANY, Period.DAILY, time(20, 0),
        since=at("2026-11-01T00:00"), until=at("2026-11-26T12:00"),
    )  # fmt: skip
    assert build_digest(data(rules=(removed,)), {"X"} | {"T1", "T2", "T3"}).deadlines == Tally()
    added = Rule(1, "X", ReportKind.ANY, Period.DAILY, time(20, 0), since=at("2026-11-26T20:00"))
    assert build_digest(data(rules=(added,)), {"X", "T1", "T2", "T3"}).deadlines == Tally()


def test_reports_per_day_for_the_chart() -> None:
    since = at("2026-11-20T07:30")
    week = data(
        start=since,
        end=at("2026-11-27T07:30"),
        reports=tuple(r for r in EVERY_REPORT if r.submitted_at >= since),
    )
    digest = build_digest(week, {"X", "T1", "T2", "T3"})
    assert digest.days[0] == date(2026, 11, 20) and digest.days[-1] == date(2026, 11, 27)
    assert digest.per_day["incident:THEFT"] == (0, 0, 0, 0, 1, 1, 1, 0)
    assert digest.per_day["incident:FIGHT"] == (0, 0, 1, 1, 0, 0, 1, 0)
    assert sum(sum(v) for v in digest.per_day.values()) == digest.total == 8


@pytest.mark.parametrize(
    ("period", "text", "expected"),
    [
        (Period.DAILY, "07:00", DigestSchedule(Period.DAILY, time(7, 0))),
        (Period.WEEKLY, "mon 07:30", DigestSchedule(Period.WEEKLY, time(7, 30), weekday=0)),
        (Period.WEEKLY, "T6 17:00", DigestSchedule(Period.WEEKLY, time(17, 0), weekday=4)),
        (Period.MONTHLY, "1 08:00", DigestSchedule(Period.MONTHLY, time(8, 0), month_day=1)),
        (Period.DAILY, "7h", None),
        (Period.WEEKLY, "07:30", None),
        (Period.MONTHLY, "31 08:00", None),
        (Period.MONTHLY, "mon 08:00", None),
    ],
)
def test_schedules_as_settings_give_them(
    period: Period, text: str, expected: DigestSchedule | None
) -> None:
    assert parse_schedule(period, text) == expected


def test_the_grading_year_starts_on_15_november() -> None:
    assert grading_year_start(at("2026-11-14T23:59"), ZONE) == at("2025-11-15T00:00")
    assert grading_year_start(at("2026-11-15T00:00"), ZONE) == at("2026-11-15T00:00")
    assert grading_year_start(at("2027-03-01T12:00"), ZONE) == at("2026-11-15T00:00")
    assert grading_year_start(at("2026-11-15T00:00") - timedelta(seconds=1), ZONE) == at(
        "2025-11-15T00:00"
    )


def located(
    number: int, north_m: float, east_m: float, when: str = "2026-11-26T10:00"
) -> DigestReport:
    """An incident this many metres north and east of the market, each in a unit of its
    own (so that only distance can make a hot spot of them)."""
    latitude = MARKET[0] + north_m / 111_195
    longitude = MARKET[1] + east_m / (111_195 * 0.9473)  # cos(18.7°)
    return report(number, 1, f"U{number}", when, category="FIGHT", place=(latitude, longitude))


def test_a_group_within_reach_is_found_past_a_nearer_decoy() -> None:
    """Three incidents 280 m from each other, each with a decoy 30 m further out: the
    three are one hot spot, though each one's nearest neighbour is its decoy."""
    corners = [(0.0, 0.0), (0.0, 280.0), (242.5, 140.0)]
    outward = [(-21.2, -21.2), (-21.2, 21.2), (30.0, 0.0)]
    incidents = [located(n + 1, y, x) for n, (y, x) in enumerate(corners)]
    incidents += [
        located(n + 11, y + dy, x + dx)
        for n, ((y, x), (dy, dx)) in enumerate(zip(corners, outward, strict=True))
    ]
    [spot] = hot_spots(incidents, END, END, Thresholds(hot_spot_count=3))
    assert spot.report_ids == (1, 2, 3) and spot.unit_code is None


def test_a_crowded_area_makes_a_few_separate_hot_spots_not_hundreds() -> None:
    crowd = [located(n, (n % 30) * 30.0, (n // 30) * 30.0) for n in range(1, 901)]
    spots = hot_spots(crowd, END, END, Thresholds())
    ids = [i for spot in spots if spot.unit_code is None for i in spot.report_ids]
    assert len(ids) == len(set(ids))  # no incident is in two of them
    assert 0 < len(spots) < 100


def test_incidents_far_apart_in_time_are_not_one_hot_spot() -> None:
    spread = [located(1, 0, 0, "2026-11-02T10:00"), located(2, 0, 10, "2026-11-12T10:00"),
              located(3, 0, 20, "2026-11-26T10:00")]  # fmt: skip
    month = Thresholds(hot_spot_days=7)
    assert hot_spots(spread, at("2026-11-01T08:00"), at("2026-12-01T08:00"), month) == ()


def test_a_monthly_digest_shows_a_hot_spot_from_its_first_week() -> None:
    early = [located(n, 0, 10 * n, f"2026-11-0{n + 1}T10:00") for n in (1, 2, 3)]
    [spot] = hot_spots(early, at("2026-11-01T08:00"), at("2026-12-01T08:00"), Thresholds())
    assert spot.report_ids == (1, 2, 3)


def test_a_new_member_owes_only_what_fell_due_after_joining() -> None:
    joined = tuple(
        Person(p.id, p.name, p.unit_code, at("2026-11-24T12:00") if p.id == 4 else None)
        for p in PEOPLE
    )
    digest = build_digest(data(people=joined), {"X", "T1", "T2", "T3"})
    # Dũng joined on 24/11: he owes 24, 25 and 26/11, and met none.
    assert {r.name: r.tally for r in digest.members_year}["Dũng"] == Tally(3, 0)
    # Nor is his team silent before it has had seven days to report.
    assert digest.silent == ()


def test_a_weekly_digest_across_15_november_counts_the_new_grading_year_only() -> None:
    week = data(start=at("2026-11-09T07:30"), end=at("2026-11-16T07:30"), reports=())
    digest = build_digest(week, {"X", "T1", "T2", "T3"})
    assert digest.year_start == at("2026-11-15T00:00")
    # Only 15/11 20:00 is due in the new year so far; Dũng met it.
    assert {r.name: r.tally for r in digest.members_year} == {
        "An": Tally(1, 0), "Bình": Tally(1, 0), "Chi": Tally(1, 0), "Dũng": Tally(1, 1),
    }  # fmt: skip
