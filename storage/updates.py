"""Update ids already handled, so that Telegram's redeliveries change nothing."""

from __future__ import annotations

from dataclasses import dataclass
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
        await connection.execute("DELETE FROM inflight_updates WHERE update_id = ?", (update_id,))


@dataclass(frozen=True)
class InterruptedUpdate:
    update_id: int
    chat_id: int
    user_id: int
    changed_state: bool  # committed something before the process died


async def note_inflight(db: Database, update_id: int, chat_id: int, user_id: int) -> None:
    """Remember that an update is being handled, until record_answered clears it."""
    async with db.transaction() as connection:
        await connection.execute(
            "INSERT OR IGNORE INTO inflight_updates (update_id, chat_id, user_id, received_at)"
            " VALUES (?, ?, ?, ?)",
            (update_id, chat_id, user_id, utc_now().isoformat()),
        )


async def interrupted_updates(db: Database) -> list[InterruptedUpdate]:
    """Updates a previous process started handling and never finished."""
    rows = await db.fetch_all(
        "SELECT i.update_id, i.chat_id, i.user_id, p.update_id IS NOT NULL AS changed"
        " FROM inflight_updates i LEFT JOIN processed_updates p USING (update_id)"
        " ORDER BY i.update_id"
    )
    return [
        InterruptedUpdate(r["update_id"], r["chat_id"], r["user_id"], bool(r["changed"]))
        for r in rows
    ]


async def settle_interrupted(db: Database, update_id: int) -> None:
    """Forget an interrupted update once its member has been shown where they are.

    If it had changed state, its redelivery must now stay silent; if it had not, it is
    left unrecorded so that a redelivery is still handled.
    """
    async with db.transaction() as connection:
        await connection.execute(
            "UPDATE processed_updates SET answered = 1 WHERE update_id = ?", (update_id,)
        )
        await connection.execute("DELETE FROM inflight_updates WHERE update_id = ?", (update_id,))


async def forget_old_updates(db: Database, older_than: timedelta = timedelta(days=7)) -> int:
    """Drop ids Telegram can no longer redeliver (it keeps updates for 24 hours)."""
    async with db.transaction() as connection:
        cursor = await connection.execute(
            "DELETE FROM processed_updates WHERE processed_at < ?",
            ((utc_now() - older_than).isoformat(),),
        )
        return cursor.rowcount
