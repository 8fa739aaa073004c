"""Possible duplicates: before an incident is submitted, the member is shown open incidents
of the same category nearby or in the same unit from the last day, and may link theirs."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from botapi_sim.driver import Harness, Person
from domain.models import Role
from tests.flows import submit_urgent, walk_incident

ASKED = "🔎 Có thể vụ việc này đã được báo"


async def theft(person: Person) -> None:
    """A theft up to the summary, at the place walk_incident gives, then Submit."""
    await walk_incident(person)
    await person.tap("Gửi báo cáo")


def links(harness: Harness) -> list[tuple[int, int]]:
    with sqlite3.connect(harness.db_path) as connection:
        return connection.execute("SELECT report_id, same_as FROM report_links").fetchall()


def report_count(harness: Harness) -> int:
    with sqlite3.connect(harness.db_path) as connection:
        [(count,)] = connection.execute("SELECT count(*) FROM reports").fetchall()
    return int(count)


async def test_a_second_witness_links_their_report_to_the_first(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01", first_name="Lan")
    binh = await harness.join(502, "16702-K01", first_name="Bình")
    await theft(lan)
    assert ASKED not in lan.last_text()  # nothing to compare with yet
    harness.elapse(timedelta(minutes=20))
    await theft(binh)
    asked = binh.last_text()
    assert asked.startswith(ASKED + " (Trộm cắp tài sản):\n• Số 1, ")
    assert "cách khoảng 10 m" in asked and "Lan" not in asked  # no names, no descriptions
    assert report_count(harness) == 1  # not yet submitted
    menu, data = binh.find_button("Cùng vụ việc số 1")
    await binh.tap_data(data, menu)
    await binh.tap_data(data, menu)  # a double tap
    assert "Báo cáo đã được gắn với vụ việc số 1." in binh.last_text()
    assert report_count(harness) == 2 and links(harness) == [(2, 1)]


async def test_a_different_incident_is_submitted_unlinked(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01", first_name="Lan")
    binh = await harness.join(502, "16702-K01", first_name="Bình")
    await theft(lan)
    await theft(binh)
    await binh.tap("Vụ việc khác, gửi báo cáo")
    assert "số 2" in binh.last_text()
    assert report_count(harness) == 2 and links(harness) == []


async def test_within_300_m_counts_across_units_but_not_a_day_later(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01", first_name="Lan")
    xuan = await harness.join(601, "17464-X01", first_name="Xuân")
    await theft(lan)
    await theft(xuan)  # another commune, the same spot: asked
    assert xuan.last_text().startswith(ASKED)
    await xuan.tap("Vụ việc khác, gửi báo cáo")
    harness.elapse(timedelta(hours=25))
    await theft(lan)  # a day later: both are too old to be the same incident
    assert ASKED not in lan.last_text() and report_count(harness) == 3


async def test_a_forged_link_to_a_report_not_offered_is_refused(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01", first_name="Lan")
    binh = await harness.join(502, "16702-K01", first_name="Bình")
    await theft(lan)
    await theft(binh)
    menu, data = binh.find_button("Cùng vụ việc số 1")
    calls = await binh.tap_data(data.replace(":1", ":99"), menu)
    assert binh.popups(calls) and report_count(harness) == 1 and links(harness) == []
    await binh.tap_data(data, menu)  # the real button still works
    assert links(harness) == [(2, 1)]


async def test_an_urgent_incident_is_never_held_up_by_the_question(harness: Harness) -> None:
    await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01", first_name="Lan")
    binh = await harness.join(502, "16702-K01", first_name="Bình")
    await submit_urgent(lan)
    await submit_urgent(binh)
    assert ASKED not in binh.last_text() and "số 2" in binh.last_text()
