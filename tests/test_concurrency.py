"""Updates are handled at once across chats and in order within one; a flood wait is per chat."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

from botapi_sim.driver import Harness


async def test_one_chat_is_handled_in_the_order_its_updates_came(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01")
    await lan.send("/incident")
    await lan.tap("Trộm cắp tài sản")
    await lan.tap("Vừa xảy ra")
    await lan.send("❔ Không rõ địa điểm")
    # Three answers typed fast, handed over together: each must answer the next question.
    await asyncio.gather(lan.send("Cháy kho củi"), lan.send("Ông Ba"), lan.send("/my"))
    with sqlite3.connect(harness.db_path) as connection:
        step, data = connection.execute("SELECT step, data FROM drafts").fetchone()
    answers = json.loads(data)
    assert (answers["desc"], answers["people"], step) == ("Cháy kho củi", "Ông Ba", "photos")


async def test_different_chats_are_handled_at_once(harness: Harness) -> None:
    people = [await harness.join(600 + n, "16702-K01", first_name=f"M{n}") for n in range(20)]
    await asyncio.gather(*(person.send("/incident") for person in people))
    for person in people:
        assert "Vụ việc thuộc loại nào?" in person.last_text()
    assert harness.application.bot_data["services"].processor.current_concurrent_updates == 0


async def test_a_flood_wait_for_one_chat_does_not_hold_up_another(tmp_path: Path) -> None:
    harness = Harness(tmp_path / "bot.sqlite3", rate_limit=True)
    await harness.start()
    try:
        await harness.load_demo_units()
        lan = await harness.join(501, "16702-K01")
        binh = await harness.join(502, "16702-K01", first_name="Bình")
        harness.telegram.fail_next(
            "sendMessage", 429, "Too Many Requests: retry after 2", retry_after=2, chat_id=501
        )
        await asyncio.gather(lan.send("/incident"), binh.send("/incident"))
        delivered = [c.chat_id for c in harness.telegram.of("sendMessage") if c.ok][-2:]
        # Bình's question went out while Lan's chat waited out its flood limit.
        assert delivered == [502, 501]
        assert "Vụ việc thuộc loại nào?" in lan.last_text()
    finally:
        await harness.stop()


async def test_a_very_long_flood_wait_is_not_waited_out_in_line(tmp_path: Path) -> None:
    harness = Harness(tmp_path / "bot.sqlite3", rate_limit=True)
    await harness.start()
    try:
        await harness.load_demo_units()
        lan = await harness.join(501, "16702-K01")
        binh = await harness.join(502, "16702-K01", first_name="Bình")
        harness.telegram.fail_next(
            "sendMessage", 429, "Too Many Requests: retry after 600", retry_after=600, chat_id=501
        )
        await lan.send("/incident")  # the reply fails fast instead of waiting ten minutes
        calls = await binh.send("/incident")
        assert "Vụ việc thuộc loại nào?" in calls[-1].text
    finally:
        await harness.stop()
