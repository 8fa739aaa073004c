"""Update ids already handled, so that Telegram's redeliveries change nothing."""

from __future__ import annotations

from datetime import timedelta

from storage.db import Database, mark_update, utc_now


async def update_was_processed(db: Database, update_id: int) -> bool:
    row = await db.fetch_one("SELECT 1 FROM processed_updates WHERE update_id = ?", (update_id,))
    return row is not None


async def record_update(db: Database, update_id: int) -> None:
    async with db.transaction() as connection:
        await mark_update(connection, update_id)


async def forget_old_updates(db: Database, older_than: timedelta = timedelta(days=7)) -> int:
    """Drop ids Telegram can no longer redeliver (it keeps updates for 24 hours)."""
    async with db.transaction() as connection:
        cursor = await connection.execute(
            "DELETE FROM processed_updates WHERE processed_at < ?",
            ((utc_now() - older_than).isoformat(),),
        )
        return cursor.rowcount
