"""Possible duplicates: an incident someone may already have reported.

Before a member submits an incident, open incidents of the same category from the last
day, in the same unit or within a short distance, are shown; the member may say theirs is
the same one. Theirs is then linked to it, never dropped: two witnesses are two reports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.geo import metres_between

# How far back, and how near, an incident counts as possibly the same.
LOOKBACK = timedelta(hours=24)
NEAR_METRES = 300.0
# At most this many are offered, nearest first.
SHOWN = 3


@dataclass(frozen=True)
class Candidate:
    """An open incident that may be the one being reported."""

    report_id: int
    unit_code: str
    category: str | None
    submitted_at: datetime
    latitude: float | None
    longitude: float | None
    description: str


@dataclass(frozen=True)
class Reporting:
    """The incident about to be submitted."""

    unit_code: str
    category: str | None
    latitude: float | None
    longitude: float | None


def distance(new: Reporting, old: Candidate) -> float | None:
    """Metres between them, when both places are known."""
    if None in (new.latitude, new.longitude, old.latitude, old.longitude):
        return None
    assert new.latitude is not None and new.longitude is not None
    assert old.latitude is not None and old.longitude is not None
    return metres_between(new.latitude, new.longitude, old.latitude, old.longitude)


def possible_duplicates(new: Reporting, recent: list[Candidate], now: datetime) -> list[Candidate]:
    """Of the recent open incidents, those of the same category in the same unit or
    within NEAR_METRES, from the last LOOKBACK: nearest first, then newest."""
    found = []
    for old in recent:
        if old.category != new.category or now - old.submitted_at > LOOKBACK:
            continue
        metres = distance(new, old)
        if old.unit_code == new.unit_code or (metres is not None and metres <= NEAR_METRES):
            found.append((metres if metres is not None else math.inf, -old.report_id, old))
    return [old for *_, old in sorted(found, key=lambda item: (item[0], item[1]))][:SHOWN]
