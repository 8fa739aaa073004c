"""The members of some units with the day each last reported: what /members lists."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from domain.models import Member
from storage.db import Database
from storage.members import MEMBER_COLUMNS, member_from_row


@dataclass(frozen=True)
class RosterEntry:
    member: Member
    last_report: datetime | None  # when their latest report (not withdrawn) was submitted


# One index lookup per member on reports_member(member_id, submitted_at).
_ROSTER = (
    f"SELECT {MEMBER_COLUMNS},"
    " (SELECT max(r.submitted_at) FROM reports r"
    "  WHERE r.member_id = members.id AND r.status <> 'withdrawn') AS last_report"
    " FROM members WHERE active = 1 AND unit_code IN (SELECT value FROM json_each(?))"
    " ORDER BY unit_code, full_name, id"
)


async def roster(db: Database, unit_codes: Collection[str]) -> list[RosterEntry]:
    """Every active member of these units, by unit then name, with their last report."""
    rows = await db.fetch_all(_ROSTER, (json.dumps(sorted(unit_codes)),))
    return [
        RosterEntry(
            member_from_row(row),
            datetime.fromisoformat(row["last_report"]) if row["last_report"] else None,
        )
        for row in rows
    ]
