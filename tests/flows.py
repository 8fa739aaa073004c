"""Walk-throughs and database peeks that several test modules share.

Not a test module: tests import from here, never from each other.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from botapi_sim.driver import Harness, Person


@dataclass
class AppUser(Person):
    """A Telegram user whose app is set to a language (Telegram's ``language_code``)."""

    language_code: str | None = None

    def _user(self) -> dict[str, Any]:
        user = super()._user()
        if self.language_code:
            user["language_code"] = self.language_code
        return user


async def walk_incident(lan: Person, description: str = "Mất xe máy trước nhà số 5") -> None:
    """Answer every incident question with a plausible value, up to the summary."""
    await lan.send("/incident")
    await lan.tap("Trộm cắp tài sản")
    await lan.tap("Vừa xảy ra")
    await lan.send_location(18.6796, 105.6813)
    await lan.send(description)
    await lan.tap("Bỏ qua")  # people
    await lan.send_photo("photo-1")
    await lan.tap("Xong")
    await lan.tap("Đã chuyển Công an")
    await lan.tap("Không khẩn cấp")


async def submit_urgent(lan: Person, description: str = "Cháy nhà dân") -> None:
    """File an urgent fire report with a place and two photos, from /incident to Submit."""
    await lan.send("/incident")
    await lan.tap("Cháy, nổ")
    await lan.tap("Vừa xảy ra")
    await lan.send_location(18.6796, 105.6813)
    await lan.send(description)
    await lan.tap("Bỏ qua")
    await lan.send_photo("fire-1")
    await lan.send_photo("fire-2")
    await lan.tap("Xong")
    await lan.tap("Cần theo dõi")
    await lan.tap("🚨 Khẩn cấp")
    await lan.tap("Gửi báo cáo")


async def to_place_step(harness: Harness) -> None:
    """Take member 501, already joined, to the question of where an incident happened."""
    lan = harness.user(501)
    await lan.send("/incident")
    await lan.tap("Trộm cắp tài sản")
    await lan.tap("Vừa xảy ra")


def deliveries(harness: Harness) -> list[tuple[int, str, int]]:
    """Each urgent alert: (recipient's Telegram id, status, attempts), oldest first."""
    with sqlite3.connect(harness.db_path) as connection:
        return connection.execute(
            "SELECT m.telegram_user_id, o.status, o.attempts FROM outbox o"
            " JOIN members m ON m.id = o.recipient_id WHERE o.purpose = 'alert' ORDER BY o.id"
        ).fetchall()


def draft_row(harness: Harness) -> tuple[object, ...] | None:
    """The only draft: (step, mode, editing, data), or None."""
    with sqlite3.connect(harness.db_path) as connection:
        row: tuple[object, ...] | None = connection.execute(
            "SELECT step, mode, editing, data FROM drafts"
        ).fetchone()
        return row


async def crash_after_commit(harness: Harness, update_id: int) -> None:
    """Restart as after a process killed after committing an update, before replying.

    The change and its once-key are in; the note that its replies are owed is still there
    (a clean stop would have cleared it).
    """
    await harness.stop()
    with sqlite3.connect(harness.db_path) as connection:
        connection.execute(
            "INSERT OR IGNORE INTO pending_replies (update_id, chat_id, user_id, taken_at)"
            " VALUES (?, 501, 501, '2026-11-26T03:00:00+00:00')",
            (update_id,),
        )
    await harness.start()
