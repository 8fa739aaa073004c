"""Update ids already handled, so that Telegram's redeliveries change nothing."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from storage.db import Database, utc_now


class UpdateState(StrEnum):
    NEW = "new"
    CHANGED_STATE = "changed_state"  # committed, but its replies may not have gone out
    ANSWERED = "answered"


async def update_state(db: Database, update_id: int) -> UpdateState:
    row = await db.fetch_one(
        "SELECT answered FROM processed_updates WHERE update_id = ?", (update_id,)
    )
    if row is None:
        return UpdateState.NEW
    return UpdateState.ANSWERED if row["answered"] else UpdateState.CHANGED_STATE


async def record_answered(db: Database, update_id: int) -> None:
    """Record that an update was handled to the end, replies included."""
    async with db.transaction() as connection:
        await connection.execute(
            "INSERT INTO processed_updates (update_id, processed_at, answered) VALUES (?, ?, 1)"
            " ON CONFLICT (update_id) DO UPDATE SET answered = 1",
            (update_id, utc_now().isoformat()),
        )


async def forget_old_updates(db: Database, older_than: timedelta = timedelta(days=7)) -> int:
    """Drop ids Telegram can no longer redeliver (it keeps updates for 24 hours)."""
    async with db.transaction() as connection:
        cursor = await connection.execute(
            "DELETE FROM processed_updates WHERE processed_at < ?",
            ((utc_now() - older_than).isoformat(),),
        )
        return cursor.rowcount
