"""When the database cannot save an answer: the truth, nothing half done, and a retry."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from typing import Any

from telegram import Update

from botapi_sim.core import Call
from botapi_sim.driver import Harness, Person
from handlers.context import services_of
from tests.flows import draft_row, to_place_step


async def deliver_while_locked(
    harness: Harness, person: Person, text: str
) -> tuple[int, list[Call], sqlite3.Connection]:
    """Receive an update, then let another process take the write lock before it is handled.

    The inbox has the update; its own change then finds the file locked for longer than
    the bot waits. The lock is left held; the caller releases it.
    """
    services = services_of(harness.application)
    await harness.db.write(lambda tx: tx.execute("PRAGMA busy_timeout=50"))
    update_id = next(harness._update_ids)  # in sequence, as Telegram numbers them
    payload: dict[str, Any] = {"update_id": update_id, "message": person._message(text=text)}
    [handed] = await services.receiver.take([payload])
    await services.receiver.settled()  # written down, as before Telegram is told
    other = sqlite3.connect(harness.db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    before = len(harness.telegram.calls)
    update = Update.de_json(handed, harness.application.bot)
    await services.processor.submit(update, harness.application.process_update(update))
    return update_id, harness.telegram.calls[before:], other


def inbox_state(harness: Harness, update_id: int) -> str:
    with sqlite3.connect(harness.db_path) as connection:
        row = connection.execute(
            "SELECT state FROM inbox WHERE update_id = ?", (update_id,)
        ).fetchone()
    return str(row[0])


async def test_an_answer_that_could_not_be_saved_is_said_so_and_handled_later(
    harness: Harness,
) -> None:
    lan = await harness.join(501, "16702-K01")
    await to_place_step(harness)
    await lan.send("❔ Không rõ địa điểm")
    stuck, calls, other = await deliver_while_locked(harness, lan, "Cháy kho củi")
    texts = [c.text for c in calls if c.method == "sendMessage"]
    assert texts == [
        "⚠️ Chưa lưu được câu trả lời vừa rồi: máy chủ đang gặp sự cố. Bot sẽ tự thử lại; "
        "nếu một phút sau chưa thấy câu hỏi tiếp theo, xin gửi lại."
    ]
    other.execute("ROLLBACK")
    other.close()
    await harness.db.write(lambda tx: tx.execute("PRAGMA busy_timeout=5000"))
    assert draft_row(harness)[0] == "desc"  # type: ignore[index]
    assert inbox_state(harness, stuck) == "new"

    harness.elapse(timedelta(minutes=2))
    job = harness.application.job_queue.get_jobs_by_name("inbox:retry")[0]  # type: ignore[union-attr]
    seen = len(lan.calls())
    await job.run(harness.application)
    await harness.db.flush_deferred()
    assert draft_row(harness)[0] == "people"  # type: ignore[index]
    assert "Những ai liên quan" in lan.calls()[seen:][-1].text
    assert inbox_state(harness, stuck) == "done"


async def test_a_member_who_sent_it_again_is_not_answered_twice(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await to_place_step(harness)
    await lan.send("❔ Không rõ địa điểm")
    stuck, _, other = await deliver_while_locked(harness, lan, "Cháy kho củi")
    other.execute("ROLLBACK")
    other.close()
    await harness.db.write(lambda tx: tx.execute("PRAGMA busy_timeout=5000"))
    await lan.send("Cháy kho củi")  # the member, told it was not saved, sends it again
    harness.elapse(timedelta(minutes=2))
    job = harness.application.job_queue.get_jobs_by_name("inbox:retry")[0]  # type: ignore[union-attr]
    await job.run(harness.application)
    row = draft_row(harness)
    assert row[0] == "people"  # type: ignore[index]
    assert "Cháy kho củi" in str(row[3])  # type: ignore[index]
    assert inbox_state(harness, stuck) == "done"
