"""Possible duplicates: recent open incidents, and the links members make to them."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.duplicates import LOOKBACK, Candidate
from storage.db import Database, Tx


async def recent_open_incidents(
    db: Database, category: str | None, now: datetime
) -> list[Candidate]:
    """Incidents of a category from the last day that are still open (not rejected, not
    withdrawn, their alert not resolved)."""
    rows = await db.fetch_all(
        "SELECT id, unit_code, category_code, submitted_at, latitude, longitude, description"
        " FROM reports WHERE kind = 'incident' AND category_code IS ? AND submitted_at >= ?"
        " AND status NOT IN ('rejected', 'withdrawn')"
        " AND coalesce(alert_state, '') <> 'resolved' ORDER BY id DESC LIMIT 500",
        (category, (now - LOOKBACK).astimezone(UTC).isoformat()),
    )
    return [
        Candidate(
            row["id"], row["unit_code"], row["category_code"],
            datetime.fromisoformat(row["submitted_at"]), row["latitude"], row["longitude"],
            row["description"],
        )
        for row in rows
    ]  # fmt: skip


async def link_report(db: Database, report_id: int, same_as: int, member_id: int) -> None:
    """Record that a report is the same incident as an earlier one (once)."""

    def link(tx: Tx) -> None:
        tx.execute(
            "INSERT OR IGNORE INTO report_links (report_id, same_as, linked_by, at)"
            " VALUES (?, ?, ?, ?)",
            (report_id, same_as, member_id, tx.now.isoformat()),
        )

    await db.write(link)
