"""Frozen values that storage functions return; rows never leave storage/."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    MEMBER = "member"  # tổ viên
    LEADER = "leader"  # tổ trưởng: reports, and sees the team's reports
    DEPUTY = "deputy"  # tổ phó: as the leader
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class ReportStatus(StrEnum):
    """A report's review lifecycle; domain/review.py says which moves are allowed."""

    SUBMITTED = "submitted"
    RETURNED = "returned"  # asked for more information: reopened for the reporter
    VERIFIED = "verified"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class AlertState(StrEnum):
    """An urgent incident's own lifecycle, beside its review."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    parent_code: str | None


@dataclass(frozen=True)
class Member:
    id: int
    telegram_user_id: int
    chat_id: int
    full_name: str
    username: str | None
    unit_code: str
    role: Role
    language: str
    active: bool = True  # a deactivated member can do nothing more
    blocked: bool = False  # Telegram said they blocked the bot; cleared when they write


@dataclass(frozen=True)
class CatalogueItem:
    kind: str
    code: str
    name_vi: str
    name_en: str
    # The label on its button; empty in a deployment file without one (then the name).
    short_vi: str = ""
    short_en: str = ""

    def name(self, language: str) -> str:
        """The full (legal) name: summaries, alerts, exports and digests."""
        return self.name_en if language == "en" else self.name_vi

    def short(self, language: str) -> str:
        """The button label: the short label, or the full name where there is none."""
        label = self.short_en if language == "en" else self.short_vi
        return label or self.name(language)


@dataclass(frozen=True)
class Draft:
    id: int
    member_id: int
    kind: str
    step: str
    mode: str
    editing: bool
    data: Mapping[str, Any]
    report_id: int | None = None  # set when the draft reopens a submitted report


@dataclass(frozen=True)
class Photo:
    file_id: str
    file_unique_id: str
    kind: str = "photo"  # "photo", or "document" for an image sent as a file


@dataclass(frozen=True)
class NewReport:
    """What a finished form becomes; storage adds the id, member and times."""

    kind: str
    category_code: str | None
    occurred_at: datetime
    period_date: date
    latitude: float | None = None
    longitude: float | None = None
    address: str | None = None
    description: str = ""
    people: str | None = None
    action_taken: str | None = None
    urgent: bool = False
    participants: int | None = None
    duration_minutes: int | None = None
    photos: tuple[Photo, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    id: int
    kind: str
    member_id: int
    unit_code: str
    category_code: str | None
    occurred_at: datetime
    period_date: date
    submitted_at: datetime
    latitude: float | None
    longitude: float | None
    address: str | None
    description: str
    people: str | None
    action_taken: str | None
    urgent: bool
    participants: int | None
    duration_minutes: int | None
    status: ReportStatus
    alert_state: AlertState | None = None
    photos: tuple[Photo, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExportedReport:
    """One report as the CSV export shows it: its columns and names, not the answers."""

    id: int
    kind: str
    unit_code: str
    unit_name: str
    reporter_name: str
    category_code: str | None
    occurred_at: datetime
    period_date: date
    submitted_at: datetime
    latitude: float | None
    longitude: float | None
    address: str | None
    description: str
    people: str | None
    action_taken: str | None
    urgent: bool
    participants: int | None
    duration_minutes: int | None
    status: str
    photo_count: int
    reached: int | None = None  # people reached by an outreach-like activity
