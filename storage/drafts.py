"""Drafts: the member's report in progress, the source of truth for where they are."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from domain.models import Draft
from storage.db import Database, fetch_one_in, mark_update, update_seen, utc_now

_COLUMNS = "id, member_id, kind, step, mode, editing, data"


def _draft(row: sqlite3.Row) -> Draft:
    return Draft(
        id=row["id"],
        member_id=row["member_id"],
        kind=row["kind"],
        step=row["step"],
        mode=row["mode"],
        editing=bool(row["editing"]),
        data=json.loads(row["data"]),
    )


async def draft_for(db: Database, member_id: int) -> Draft | None:
    row = await db.fetch_one(f"SELECT {_COLUMNS} FROM drafts WHERE member_id = ?", (member_id,))
    return _draft(row) if row else None


async def start_draft(
    db: Database, member_id: int, kind: str, first_step: str, update_id: int | None
) -> Draft | None:
    """Replace any draft of the member with a fresh one; None if the update is a replay."""
    async with db.transaction() as connection:
        if not await mark_update(connection, update_id):
            return None
        now = utc_now().isoformat()
        await connection.execute("DELETE FROM drafts WHERE member_id = ?", (member_id,))
        await connection.execute(
            "INSERT INTO drafts (member_id, kind, step, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (member_id, kind, first_step, now, now),
        )
        row = await fetch_one_in(
            connection, f"SELECT {_COLUMNS} FROM drafts WHERE member_id = ?", (member_id,)
        )
        assert row is not None
        return _draft(row)


class SaveOutcome(StrEnum):
    SAVED = "saved"
    STALE = "stale"
    REPLAYED = "replayed"


async def save_draft_step(
    db: Database,
    draft: Draft,
    *,
    data: Mapping[str, Any],
    step: str,
    mode: str = "",
    editing: bool = False,
    update_id: int | None,
) -> SaveOutcome:
    """Store an answer and the next step, if the draft is still where the caller saw it."""
    async with db.transaction() as connection:
        if await update_seen(connection, update_id):
            return SaveOutcome.REPLAYED
        cursor = await connection.execute(
            "UPDATE drafts SET data = ?, step = ?, mode = ?, editing = ?, updated_at = ?"
            " WHERE id = ? AND step = ? AND mode = ? AND editing = ?",
            (
                json.dumps(data, ensure_ascii=False),
                step,
                mode,
                int(editing),
                utc_now().isoformat(),
                draft.id,
                draft.step,
                draft.mode,
                int(draft.editing),
            ),
        )
        if cursor.rowcount != 1:
            return SaveOutcome.STALE
        await mark_update(connection, update_id)
    return SaveOutcome.SAVED


async def discard_draft(db: Database, member_id: int) -> bool:
    """Delete the member's draft; False if there was none."""
    async with db.transaction() as connection:
        cursor = await connection.execute("DELETE FROM drafts WHERE member_id = ?", (member_id,))
        return cursor.rowcount > 0
