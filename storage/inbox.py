"""The inbox: updates written down as they arrive, before Telegram is told they arrived."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from storage.db import Database, Tx


class InboxState(StrEnum):
    NEW = "new"  # received, not yet handled to the end
    DONE = "done"
    SET_ASIDE = "set_aside"  # could not be read; kept for an admin, never handled


def _chat_of(payload: dict[str, Any]) -> int | None:
    for kind in ("message", "edited_message", "callback_query", "my_chat_member"):
        content = payload.get(kind)
        if isinstance(content, dict):
            if kind == "callback_query":
                content = content.get("message") or {}
            chat = content.get("chat") if isinstance(content, dict) else None
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return int(chat["id"])
    return None


async def record_arrivals(
    db: Database, payloads: Sequence[dict[str, Any]], set_aside: dict[int, str]
) -> None:
    """Write a batch of updates down in one transaction; those in ``set_aside`` as such."""

    def write(tx: Tx) -> None:
        for payload in payloads:
            update_id = int(payload["update_id"])
            reason = set_aside.get(update_id)
            tx.execute(
                "INSERT OR IGNORE INTO inbox"
                " (update_id, chat_id, payload, received_at, state, last_error)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    update_id,
                    _chat_of(payload),
                    json.dumps(payload),
                    tx.now.isoformat(),
                    InboxState.SET_ASIDE.value if reason else InboxState.NEW.value,
                    reason,
                ),
            )

    # A receipt needs to survive the process, which it does without an fsync of its own:
    # the change each update then makes is committed in full, and takes it to disk too.
    await db.write(write, until_power_loss=True)


async def set_aside(db: Database, update_id: int, reason: str) -> None:
    """Keep an update that cannot be read out of the way, with why (never its content)."""
    await db.write(
        lambda tx: tx.execute(
            "UPDATE inbox SET state = 'set_aside', last_error = ? WHERE update_id = ?",
            (reason[:500], update_id),
        )
    )


def mark_done(db: Database, update_id: int) -> None:
    """Record that an update was handled to the end (deferred bookkeeping: it rides along)."""
    db.defer("UPDATE inbox SET state = 'done' WHERE update_id = ? AND state = 'new'", (update_id,))


async def unfinished(db: Database) -> list[tuple[int, dict[str, Any]]]:
    """Updates received and never handled to the end, oldest first."""
    rows = await db.fetch_all(
        "SELECT update_id, payload FROM inbox WHERE state = 'new' ORDER BY update_id"
    )
    return [(row["update_id"], json.loads(row["payload"])) for row in rows]


async def forget_handled(db: Database, before: datetime) -> int:
    """Drop handled updates Telegram can no longer send again; they hold members' words."""
    return await db.write(
        lambda tx: (
            tx.execute(
                "DELETE FROM inbox WHERE state <> 'new' AND received_at < ?", (before.isoformat(),)
            ).rowcount
        )
    )


@dataclass(frozen=True)
class Stalled:
    """An update left unfinished (its change could not be saved), and whether the member
    has sent anything since, which makes handling it again wrong."""

    update_id: int
    payload: dict[str, Any]
    superseded: bool


async def stalled(db: Database, received_before: datetime) -> list[Stalled]:
    """Unfinished updates received before a moment, oldest first."""
    rows = await db.fetch_all(
        "SELECT i.update_id, i.payload, EXISTS ("
        "   SELECT 1 FROM inbox later WHERE later.chat_id = i.chat_id"
        "   AND later.update_id > i.update_id) AS superseded"
        " FROM inbox i WHERE i.state = 'new' AND i.received_at < ? ORDER BY i.update_id",
        (received_before.isoformat(),),
    )
    return [
        Stalled(row["update_id"], json.loads(row["payload"]), bool(row["superseded"]))
        for row in rows
    ]


async def close_superseded(db: Database, update_id: int) -> None:
    """An unfinished update the member has since moved past: never handle it again."""
    await db.write(
        lambda tx: tx.execute(
            "UPDATE inbox SET state = 'done', last_error = 'superseded' WHERE update_id = ?",
            (update_id,),
        )
    )


async def superseded(db: Database, update_id: int) -> bool:
    """Whether the member has sent anything after this update."""
    row = await db.fetch_one(
        "SELECT EXISTS (SELECT 1 FROM inbox later JOIN inbox i ON later.chat_id = i.chat_id"
        " WHERE i.update_id = ? AND later.update_id > i.update_id) AS later",
        (update_id,),
    )
    return bool(row and row["later"])
