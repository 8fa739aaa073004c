"""The outbox: proactive messages committed before they are sent, marked sent after."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.outbox import (
    Attachment,
    Button,
    CallbackButton,
    Document,
    LinkButton,
    Location,
    MadeFile,
    OutboxItem,
    Payload,
    Photos,
)
from storage.db import Database, Tx


@dataclass(frozen=True)
class OutboxRow:
    id: int
    item: OutboxItem
    attempts: int
    created_at: datetime


def _button(button: Button) -> dict[str, str]:
    if isinstance(button, LinkButton):
        return {"text": button.text, "url": button.url}
    return {"text": button.text, "data": button.data}


def _attachment(attachment: Attachment) -> dict[str, Any]:
    match attachment:
        case Location(latitude, longitude):
            return {"location": [latitude, longitude]}
        case Photos(file_ids):
            return {"photos": list(file_ids)}
        case Document(file_id):
            return {"document": file_id}
    raise TypeError(attachment)  # pragma: no cover


def encode_payload(payload: Payload) -> str:
    encoded: dict[str, Any] = {
        "text": payload.text,
        "buttons": [[_button(b) for b in row] for row in payload.buttons],
        "attachments": [_attachment(a) for a in payload.attachments],
    }
    if payload.file is not None:
        made = payload.file
        encoded["file"] = {"id": made.file_id, "name": made.filename, "photo": made.photo}
    if payload.replaces is not None:
        encoded["replaces"] = payload.replaces
    if payload.reply_to is not None:
        encoded["reply_to"] = payload.reply_to
    return json.dumps(encoded, ensure_ascii=False)


def decode_payload(raw: str) -> Payload | None:
    data = json.loads(raw)
    if "text" not in data:
        return None  # carried over from an older version: rendered when sent
    attachments: list[Attachment] = []
    for entry in data.get("attachments", ()):
        if "location" in entry:
            attachments.append(Location(*entry["location"]))
        elif "photos" in entry:
            attachments.append(Photos(tuple(entry["photos"])))
        elif "document" in entry:
            attachments.append(Document(entry["document"]))
    buttons = tuple(
        tuple(
            LinkButton(b["text"], b["url"]) if "url" in b else CallbackButton(b["text"], b["data"])
            for b in row
        )
        for row in data.get("buttons", ())
    )
    made = data.get("file")
    file = MadeFile(made["id"], made["name"], made["photo"]) if made else None
    return Payload(
        data["text"], buttons, tuple(attachments), file, data.get("replaces"),
        data.get("reply_to"),
    )  # fmt: skip


def enqueue_in(tx: Tx, items: Sequence[OutboxItem]) -> int:
    """Add messages to the outbox in the caller's transaction; returns how many were new."""
    added = 0
    for item in items:
        cursor = tx.execute(
            "INSERT OR IGNORE INTO outbox (key, purpose, recipient_id, chat_id, report_id,"
            " payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                item.key,
                item.purpose,
                item.recipient_id,
                item.chat_id,
                item.report_id,
                encode_payload(item.payload) if item.payload else '{"legacy": true}',
                tx.now.isoformat(),
                tx.now.isoformat(),
            ),
        )
        added += cursor.rowcount
    return added


async def enqueue(db: Database, items: Sequence[OutboxItem]) -> int:
    return await db.write(lambda tx: enqueue_in(tx, items))


def _row(row: sqlite3.Row) -> OutboxRow:
    item = OutboxItem(
        key=row["key"],
        purpose=row["purpose"],
        chat_id=row["chat_id"],
        payload=decode_payload(row["payload"]),
        recipient_id=row["recipient_id"],
        report_id=row["report_id"],
    )
    return OutboxRow(row["id"], item, row["attempts"], datetime.fromisoformat(row["created_at"]))


_COLUMNS = "id, key, purpose, recipient_id, chat_id, report_id, payload, attempts, created_at"


async def due_messages(
    db: Database,
    until: datetime | None = None,
    *,
    report_id: int | None = None,
    also: Sequence[int] = (),
    horizon: datetime | None = None,
    waiting: Sequence[int] = (),
    limit: int = 200,
) -> list[OutboxRow]:
    """Pending messages, oldest first: those due by ``until``, or all of one report's.

    ``waiting``: rows whose wait this process measures on the monotonic clock; of them,
    only those in ``also`` are due, whatever the wall clock says. For the others:
    ``horizon``: a row due later than this can only have been scheduled before the wall
    clock was set back (no wait is that long), so it is due now.
    """
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM outbox WHERE status = 'pending'"
        " AND (:until IS NULL OR id IN (SELECT value FROM json_each(:also))"
        "      OR (id NOT IN (SELECT value FROM json_each(:waiting))"
        "          AND (next_attempt_at <= :until OR next_attempt_at > :horizon)))"
        " AND (:report IS NULL OR report_id = :report) ORDER BY id LIMIT :limit",
        {
            "until": until.isoformat() if until else None,
            "report": report_id,
            "limit": limit,
            "also": json.dumps(list(also)),
            "horizon": horizon.isoformat() if horizon else "9999",
            "waiting": json.dumps(list(waiting)),
        },
    )
    return [_row(row) for row in rows]


async def mark_sent(db: Database, outbox_id: int, message_id: int | None) -> None:
    await db.write(
        lambda tx: tx.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?, message_id = ?,"
            " attempts = attempts + 1, attempting_at = NULL WHERE id = ?",
            (tx.now.isoformat(), message_id, outbox_id),
        )
    )


async def mark_failed(db: Database, outbox_id: int, error: str, retry_at: datetime | None) -> None:
    """Count a failed attempt: try again at ``retry_at``, or give up when it is None."""
    retry = retry_at.isoformat() if retry_at else None
    await db.write(
        lambda tx: tx.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, attempting_at = NULL,"
            " status = CASE WHEN ? IS NULL THEN 'failed' ELSE 'pending' END,"
            " next_attempt_at = coalesce(?, next_attempt_at) WHERE id = ?",
            (error[:500], retry, retry, outbox_id),
        )
    )


async def mark_attempting(db: Database, outbox_id: int) -> None:
    """Note that a message is being handed to Telegram (see settle_interrupted)."""
    # A kill is what this guards against, and a commit without fsync survives a kill.
    await db.write(
        lambda tx: tx.execute(
            "UPDATE outbox SET attempting_at = ? WHERE id = ?", (tx.now.isoformat(), outbox_id)
        ),
        until_power_loss=True,
    )


async def settle_interrupted(db: Database, resend: Callable[[str], bool]) -> tuple[int, int]:
    """At start-up: messages a dead process was handing to Telegram may have arrived.

    Those whose purpose prefers a duplicate to a loss (``resend(purpose)``) are sent
    again; the others are given up. Returns (resent, given up).
    """

    def settle(tx: Tx) -> tuple[int, int]:
        rows = tx.all(
            "SELECT id, purpose FROM outbox WHERE status = 'pending' AND attempting_at IS NOT NULL"
        )
        again = [row["id"] for row in rows if resend(row["purpose"])]
        dropped = [row["id"] for row in rows if not resend(row["purpose"])]
        tx.executemany("UPDATE outbox SET attempting_at = NULL WHERE id = ?", [(i,) for i in again])
        tx.executemany(
            "UPDATE outbox SET status = 'failed', attempting_at = NULL, last_error ="
            " 'interrupted: the bot stopped while sending it; it may have arrived' WHERE id = ?",
            [(i,) for i in dropped],
        )
        return len(again), len(dropped)

    return await db.write(settle)


async def outbox_status(db: Database, report_id: int, purpose: str) -> dict[str, int]:
    """How many of one report's messages of a purpose are pending, sent and failed."""
    rows = await db.fetch_all(
        "SELECT status, count(*) AS n FROM outbox WHERE report_id = ? AND purpose = ?"
        " GROUP BY status",
        (report_id, purpose),
    )
    return {row["status"]: row["n"] for row in rows}


async def message_state(db: Database, key: str) -> tuple[str | None, int | None]:
    """An outbox message's status (pending, sent, failed; None if there is none) and,
    once sent, its Telegram message id."""
    row = await db.fetch_one("SELECT status, message_id FROM outbox WHERE key = ?", (key,))
    if row is None:
        return None, None
    return row["status"], row["message_id"]


async def sent_message_id(db: Database, key: str) -> int | None:
    """The Telegram message id of an outbox message that was sent; None if it was not."""
    row = await db.fetch_one(
        "SELECT message_id FROM outbox WHERE key = ? AND status = 'sent'", (key,)
    )
    return int(row["message_id"]) if row and row["message_id"] is not None else None


async def alert_recipient_ids(db: Database, report_id: int) -> list[int]:
    """Everyone a report's urgent alert was already meant for, whatever came of it."""
    rows = await db.fetch_all(
        "SELECT recipient_id FROM outbox WHERE report_id = ? AND purpose = 'alert'"
        " AND recipient_id IS NOT NULL",
        (report_id,),
    )
    return [row["recipient_id"] for row in rows]


def store_file(tx: Tx, filename: str, content: bytes) -> int:
    """Keep a file the bot made until the outbox has sent it; returns its id."""
    cursor = tx.execute(
        "INSERT INTO made_files (filename, content, created_at) VALUES (?, ?, ?)",
        (filename, content, tx.now.isoformat()),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def made_file(db: Database, file_id: int) -> bytes | None:
    row = await db.fetch_one("SELECT content FROM made_files WHERE id = ?", (file_id,))
    return bytes(row["content"]) if row else None


async def forget_made_files(db: Database, older_than: datetime) -> int:
    """Drop made files no pending message needs any more (sent, or given up)."""
    return await db.write(
        lambda tx: (
            tx.execute(
                "DELETE FROM made_files WHERE created_at < ? AND id NOT IN ("
                " SELECT json_extract(payload, '$.file.id') FROM outbox"
                " WHERE status = 'pending' AND json_extract(payload, '$.file.id') IS NOT NULL)",
                (older_than.isoformat(),),
            ).rowcount
        )
    )


async def mark_blocked(db: Database, chat_id: int) -> int:
    """A chat blocked the bot: mark its member, and give up the messages waiting for it
    (an urgent alert excepted: its failure is handled one by one, to go a level up)."""

    def mark(tx: Tx) -> int:
        tx.execute(
            "UPDATE members SET blocked_at = ? WHERE chat_id = ? AND blocked_at IS NULL",
            (tx.now.isoformat(), chat_id),
        )
        return tx.execute(
            "UPDATE outbox SET status = 'failed', last_error = 'the recipient blocked the bot'"
            " WHERE chat_id = ? AND status = 'pending' AND purpose <> 'alert'",
            (chat_id,),
        ).rowcount

    return await db.write(mark)
