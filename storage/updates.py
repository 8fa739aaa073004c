"""Telegram updates already handled, so that a redelivery changes nothing and says nothing.

An update that changes state takes its once-key (``update:<id>``) in the same
transaction as the change, and notes that its replies are owed. Once the replies have
gone out the note is cleared, as deferred bookkeeping: if the process dies first, the
member is shown where they are at the next start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from storage.db import Database, Tx, forget_old_once_keys, update_key


class UpdateState(StrEnum):
    NEW = "new"
    CHANGED_STATE = "changed_state"  # committed, but its replies may not have gone out
    ANSWERED = "answered"


@dataclass(frozen=True)
class Origin:
    """The update a change comes from: its once-key and where its replies go."""

    update_id: int
    chat_id: int
    user_id: int


def claim_update(tx: Tx, origin: Origin | None) -> bool:
    """Take an update's once-key and note its replies as owed; False for a replay."""
    if origin is None:
        return True
    if not tx.once(update_key(origin.update_id)):
        return False
    tx.execute(
        "INSERT OR IGNORE INTO pending_replies (update_id, chat_id, user_id, taken_at)"
        " VALUES (?, ?, ?, ?)",
        (origin.update_id, origin.chat_id, origin.user_id, tx.now.isoformat()),
    )
    return True


def update_state_in(tx: Tx, update_id: int) -> UpdateState:
    if not tx.taken(update_key(update_id)):
        return UpdateState.NEW
    owed = tx.one("SELECT 1 FROM pending_replies WHERE update_id = ?", (update_id,))
    return UpdateState.CHANGED_STATE if owed else UpdateState.ANSWERED


def mark_answered(db: Database, update_id: int, now: datetime) -> None:
    """Record that an update was handled to the end, replies included.

    Deferred: it rides with the next write. Lost in a crash, it costs the member one
    reminder of where they are, never a second change.
    """
    db.defer(
        "INSERT OR IGNORE INTO once_keys (key, taken_at) VALUES (?, ?)",
        (update_key(update_id), now.isoformat()),
    )
    db.defer(
        "DELETE FROM pending_replies WHERE update_id = ?", (update_id,), tag=answered_tag(update_id)
    )


def answered_tag(update_id: int) -> str:
    """The tag of an update's answered mark while it waits to be written."""
    return f"answered:{update_id}"


async def record_answered(db: Database, update_id: int) -> None:
    """Record at once that an update was handled to the end (start-up, replays)."""

    def record(tx: Tx) -> None:
        tx.once(update_key(update_id))
        tx.execute("DELETE FROM pending_replies WHERE update_id = ?", (update_id,))

    await db.write(record)


@dataclass(frozen=True)
class InterruptedUpdate:
    update_id: int
    chat_id: int
    user_id: int


async def interrupted_updates(db: Database) -> list[InterruptedUpdate]:
    """Updates whose change a previous process committed without confirming its replies."""
    rows = await db.fetch_all(
        "SELECT update_id, chat_id, user_id FROM pending_replies ORDER BY update_id"
    )
    return [InterruptedUpdate(r["update_id"], r["chat_id"], r["user_id"]) for r in rows]


async def forget_old_updates(db: Database, older_than: timedelta = timedelta(days=7)) -> int:
    """Drop update keys Telegram can no longer redeliver (it keeps updates for 24 hours)."""
    return await db.write(lambda tx: forget_old_once_keys(tx, "update:", tx.now - older_than))
