"""Drafts: the member's report in progress, the source of truth for where they are."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from domain.flow import Change
from domain.models import Draft
from storage.db import Database, Tx, update_key
from storage.updates import Origin, claim_update

_COLUMNS = "id, member_id, report_id, kind, step, mode, editing, data"


def _draft(row: sqlite3.Row) -> Draft:
    return Draft(
        id=row["id"],
        member_id=row["member_id"],
        kind=row["kind"],
        step=row["step"],
        mode=row["mode"],
        editing=bool(row["editing"]),
        data=json.loads(row["data"]),
        report_id=row["report_id"],
    )


def draft_in(tx: Tx, member_id: int) -> Draft | None:
    """The draft the member is working on: the one they touched last."""
    row = tx.one(
        f"SELECT {_COLUMNS} FROM drafts WHERE member_id = ? ORDER BY updated_at DESC, id DESC",
        (member_id,),
    )
    return _draft(row) if row else None


async def draft_for(db: Database, member_id: int) -> Draft | None:
    return await db.read(lambda tx: draft_in(tx, member_id))


async def start_draft(
    db: Database,
    member_id: int,
    kind: str,
    first_step: str,
    origin: Origin | None,
    data: Mapping[str, Any] | None = None,
    replacing: int | None = None,
) -> Draft | None:
    """Replace the member's new-report draft with a fresh one, with ``data`` answered
    already if given; None if the update is a replay. ``replacing``: a draft the member
    chose to discard for this one (a sent report reopened, say), dropped in the same
    transaction, so that a failure keeps both or neither."""

    def start(tx: Tx) -> Draft | None:
        if not claim_update(tx, origin):
            return None
        now = tx.now.isoformat()
        if replacing is not None:
            tx.execute("DELETE FROM drafts WHERE id = ? AND member_id = ?", (replacing, member_id))
        tx.execute("DELETE FROM drafts WHERE member_id = ? AND report_id IS NULL", (member_id,))
        answers = dict(data or {})
        cursor = tx.execute(
            "INSERT INTO drafts (member_id, kind, step, data, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (member_id, kind, first_step, json.dumps(answers, ensure_ascii=False), now, now),
        )
        return Draft(cursor.lastrowid or 0, member_id, kind, first_step, "", False, answers)

    return await db.write(start)


class SaveOutcome(StrEnum):
    SAVED = "saved"
    STALE = "stale"
    REPLAYED = "replayed"


async def save_draft_step(
    db: Database, draft: Draft, change: Change, origin: Origin | None
) -> tuple[SaveOutcome, Draft]:
    """Store a change if the draft is still where the caller saw it; returns the draft now."""

    def save(tx: Tx) -> tuple[SaveOutcome, Draft]:
        if origin is not None and tx.taken(update_key(origin.update_id)):
            return SaveOutcome.REPLAYED, draft
        # Compare-and-set: a double tap or a stale button finds the draft moved on.
        cursor = tx.execute(
            "UPDATE drafts SET data = ?, step = ?, mode = ?, editing = ?, updated_at = ?"
            " WHERE id = ? AND step = ? AND mode = ? AND editing = ?",
            (
                json.dumps(change.data, ensure_ascii=False),
                change.step,
                change.mode,
                int(change.editing),
                tx.now.isoformat(),
                draft.id,
                draft.step,
                draft.mode,
                int(draft.editing),
            ),
        )
        if cursor.rowcount != 1:
            return SaveOutcome.STALE, draft
        claim_update(tx, origin)
        saved = Draft(
            draft.id, draft.member_id, draft.kind, change.step, change.mode, change.editing,
            change.data, draft.report_id,
        )  # fmt: skip
        return SaveOutcome.SAVED, saved

    return await db.write(save)


async def discard_draft(db: Database, member_id: int, draft_id: int | None = None) -> bool:
    """Delete the member's current draft (or the given one); False if there was none."""

    def discard(tx: Tx) -> bool:
        target = draft_id
        if target is None:
            current = draft_in(tx, member_id)
            if current is None:
                return False
            target = current.id
        cursor = tx.execute(
            "DELETE FROM drafts WHERE id = ? AND member_id = ?", (target, member_id)
        )
        return cursor.rowcount > 0

    return await db.write(discard)


async def draft_under(db: Database, member_id: int, draft_id: int) -> Draft | None:
    """The member's other open draft, if one is open under this one: a new report begun
    while a sent one was reopened, or the other way round."""

    def read(tx: Tx) -> Draft | None:
        row = tx.one(
            f"SELECT {_COLUMNS} FROM drafts WHERE member_id = ? AND id <> ?"
            " ORDER BY updated_at DESC, id DESC",
            (member_id, draft_id),
        )
        return _draft(row) if row else None

    return await db.read(read)
