"""A supervisor who types under an alert instead of tapping ("Đã nhận, đang cử người
xuống") is offered the alerts still waiting for someone, as buttons: the complaint that
opened issue 8 was "Chọn một nút bên dưới"."""

from __future__ import annotations

import sqlite3

from botapi_sim.driver import Harness
from domain.models import Role
from tests.flows import submit_urgent


async def test_typing_under_an_alert_offers_to_take_it(harness: Harness) -> None:
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01", first_name="Lan")
    await submit_urgent(lan)
    await hung.send("Đã nhận, đang cử người xuống")
    assert hung.last_text().startswith("🚨 Có vụ việc khẩn chưa ai tiếp nhận.")
    await hung.tap("Tiếp nhận vụ việc số 1")
    with sqlite3.connect(harness.db_path) as connection:
        [(state,)] = connection.execute("SELECT alert_state FROM reports WHERE id = 1").fetchall()
    assert state == "acknowledged"
    assert any("đã được Hùng Nguyễn" in c.text for c in lan.calls() if c.method == "sendMessage")
    # Once taken, typing points to the menu instead.
    await hung.send("ok")
    assert hung.last_text().startswith("Đồng chí chọn một việc trong menu bên dưới")


async def test_a_member_typing_is_pointed_to_the_menu(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01", first_name="Lan")
    await lan.send("xin chào")
    assert lan.last_text() == "Đồng chí muốn báo gì? Chọn một nút bên dưới."
