"""Urgent alerts close the loop: acknowledged once, resolved, escalated up the tree only."""

from __future__ import annotations

import asyncio
import html
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from botapi_sim.core import Message
from botapi_sim.driver import Harness, Person
from domain.access import Actor, UnitTree
from domain.alerts import chat_link, may_resolve, parse_interval
from domain.catalogue import default_catalogue
from domain.fields import telegram_length
from domain.forms import MAX_PHOTOS
from domain.models import Member, Role, Unit
from domain.settings import SettingsError, load_settings
from presentation.callbacks import AcknowledgeAlert, ResolveAlert
from presentation.i18n import LOCALES_DIR, Html, Translator, load_catalogue, placeholders
from presentation.render import FormRenderer
from tests.flows import submit_urgent

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
ACK = "Tiếp nhận"
RESOLVE = "Đã xử lý"


def run_job(harness: Harness, name: str) -> Any:
    jobs = harness.application.job_queue.get_jobs_by_name(name)  # type: ignore[union-attr]
    assert len(jobs) == 1, name
    return jobs[0].run(harness.application)


def alert_copy(person: Person, number: int = 1) -> Message:
    """The person's copy of report N's urgent alert, as it now reads."""
    found = [m for m in person.messages() if f"KHẨN CẤP: Vụ việc số {number}" in m.text]
    assert len(found) == 1, [m.text for m in person.messages()]
    return found[0]


def labels(message: Message) -> list[str]:
    return [text for text, _ in message.inline_buttons()]


def urls(message: Message) -> list[str]:
    markup = message.json.get("reply_markup") or {}
    return [b["url"] for row in markup.get("inline_keyboard", []) for b in row if "url" in b]


def alert_texts(person: Person) -> list[str]:
    return [m.text for m in person.messages() if "KHẨN CẤP" in m.text]


def query(harness: Harness, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(harness.db_path) as connection:
        return connection.execute(sql, params).fetchall()


def events(harness: Harness, report_id: int = 1) -> list[tuple[str, int | None, str | None]]:
    """A report's events after its submission: (event, actor's Telegram id, detail)."""
    return [
        (event, user, detail)
        for event, user, detail in query(
            harness,
            "SELECT e.event, m.telegram_user_id, e.detail FROM report_events e"
            " LEFT JOIN members m ON m.id = e.actor_id WHERE e.report_id = ? ORDER BY e.id",
            report_id,
        )
        if event != "submitted"
    ]


def alert_state(harness: Harness, report_id: int = 1) -> str:
    [(state,)] = query(harness, "SELECT alert_state FROM reports WHERE id = ?", report_id)
    return str(state)


def notices(person: Person) -> list[str]:
    return [m.text for m in person.messages() if "đồng chí báo đã được" in m.text]


def no_problems(harness: Harness) -> None:
    assert harness.telegram.problems == []


# --- acknowledge ---------------------------------------------------------------------


async def test_the_first_to_acknowledge_takes_it_and_everyone_is_told(harness: Harness) -> None:
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    ha = await harness.join(901, "16702", Role.SUPERVISOR, "Hà")
    lan = await harness.join(501, "16702-K01")
    await submit_urgent(lan)
    for supervisor in (hung, ha):
        assert ACK in " ".join(labels(alert_copy(supervisor)))
    harness.now += timedelta(minutes=3)

    calls = await hung.tap(ACK)

    assert "Đồng chí đã tiếp nhận vụ việc số 1" in hung.popups(calls)[0]
    assert alert_state(harness) == "acknowledged"
    assert events(harness) == [("acknowledged", 900, None)]
    mine, theirs = alert_copy(hung), alert_copy(ha)
    for copy in (mine, theirs):
        assert copy.edited
        assert "Cháy nhà dân" in copy.text  # the alert itself is still there
        assert "Hùng Nguyễn (Phường Vinh Phú) đã tiếp nhận lúc 10:03 26/11/2026" in copy.text
        assert not any(ACK in label for label in labels(copy))
    assert any(RESOLVE in label for label in labels(mine))
    assert not any(RESOLVE in label for label in labels(theirs))  # a peer does not close it
    [notice] = notices(lan)
    assert "Vụ việc số 1 đồng chí báo đã được Hùng Nguyễn (Phường Vinh Phú) tiếp nhận" in notice
    no_problems(harness)


async def test_a_double_tap_acknowledges_once(harness: Harness) -> None:
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01")
    await submit_urgent(lan)
    message, data = hung.find_button(ACK)

    await hung.tap_data(data, message)
    again = await hung.tap_data(data, message)  # the same screen, tapped twice

    assert "Đồng chí đã tiếp nhận vụ việc số 1 rồi" in hung.popups(again)[0]
    assert events(harness) == [("acknowledged", 900, None)]
    assert len(notices(lan)) == 1
    assert query(harness, "SELECT count(*) FROM outbox WHERE purpose = 'alert_update'") == [(1,)]
    assert any(RESOLVE in label for label in labels(alert_copy(hung)))
    no_problems(harness)


async def test_two_supervisors_at_once_one_takes_it_the_other_is_told_who(
    harness: Harness,
) -> None:
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    ha = await harness.join(901, "16702", Role.SUPERVISOR, "Hà")
    lan = await harness.join(501, "16702-K01")
    await submit_urgent(lan)
    screens = [person.find_button(ACK) for person in (hung, ha)]

    hung_calls, ha_calls = await asyncio.gather(
        *(p.tap_data(data, message) for p, (message, data) in zip((hung, ha), screens, strict=True))
    )

    [(event, winner, _)] = events(harness)
    assert event == "acknowledged" and winner in (900, 901)
    loser = ha if winner == 900 else hung
    name = "Hùng" if winner == 900 else "Hà"
    # Both taps are handled at once: each one's calls include the other's.
    [popup] = {
        str(c.params["text"])
        for c in (*hung_calls, *ha_calls)
        if c.method == "answerCallbackQuery"
        and str(c.params["callback_query_id"]).startswith(f"q{loser.user_id}-")
    }
    assert f"đã được đồng chí {name} Nguyễn tiếp nhận" in popup
    for person in (hung, ha):
        assert f"{name} Nguyễn (Phường Vinh Phú) đã tiếp nhận" in alert_copy(person).text
    assert len(notices(lan)) == 1


async def test_a_late_tap_on_a_copy_not_yet_edited_says_who_has_it(harness: Harness) -> None:
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    ha = await harness.join(901, "16702", Role.SUPERVISOR, "Hà")
    lan = await harness.join(501, "16702-K01")
    await submit_urgent(lan)
    old_screen = ha.find_button(ACK)
    await hung.tap(ACK)

    calls = await ha.tap_data(old_screen[1], old_screen[0])

    [popup] = ha.popups(calls)
    assert "Vụ việc số 1 đã được đồng chí Hùng Nguyễn tiếp nhận lúc 10:00" in popup
    assert events(harness) == [("acknowledged", 900, None)]


async def test_a_copy_sent_after_the_acknowledgement_already_says_who_took_it(
    harness: Harness,
) -> None:
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    ha = await harness.join(901, "16702", Role.SUPERVISOR, "Hà")
    lan = await harness.join(501, "16702-K01")
    harness.telegram.fail_next("sendMessage", 502, "Bad Gateway", chat_id=901)
    await submit_urgent(lan)
    assert alert_texts(ha) == []
    await hung.tap(ACK)

    harness.elapse(timedelta(seconds=10))
    await run_job(harness, "outbox:drain")

    copy = alert_copy(ha)
    assert "Hùng Nguyễn (Phường Vinh Phú) đã tiếp nhận" in copy.text
    assert not any(ACK in label for label in labels(copy))
    await run_job(harness, "outbox:drain")
    assert len(alert_texts(ha)) == 1


# --- resolve -------------------------------------------------------------------------


async def test_resolving_tells_the_reporter_and_every_copy(harness: Harness) -> None:
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    ha = await harness.join(901, "16702", Role.SUPERVISOR, "Hà")
    lan = await harness.join(501, "16702-K01")
    await submit_urgent(lan)
    await hung.tap(ACK)
    harness.now += timedelta(minutes=40)

    calls = await hung.tap(RESOLVE)

    assert "vụ việc số 1 đã xử lý xong" in hung.popups(calls)[0]
    assert alert_state(harness) == "resolved"
    assert events(harness) == [("acknowledged", 900, None), ("resolved", 900, None)]
    for person in (hung, ha):
        copy = alert_copy(person)
        assert "Hùng Nguyễn đã xử lý xong lúc 10:40 26/11/2026" in copy.text
        assert "đã tiếp nhận lúc 10:00" in copy.text
        assert labels(copy) == ["💬 Nhắn cho người báo"]  # only the chat link is left
    acknowledged, resolved = notices(lan)
    assert "tiếp nhận" in acknowledged
    assert "Vụ việc số 1 đồng chí báo đã được Hùng Nguyễn xử lý xong lúc 10:40" in resolved
    again = await hung.tap_data(ResolveAlert(1).pack())
    assert "đã được đồng chí Hùng Nguyễn xử lý xong" in hung.popups(again)[0]
    assert len(notices(lan)) == 2
    no_problems(harness)


async def test_only_the_acknowledger_or_those_above_may_resolve(harness: Harness) -> None:
    province = await harness.join(800, "40", Role.SUPERVISOR, "Tỉnh")
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    ha = await harness.join(901, "16702", Role.SUPERVISOR, "Hà")
    lan = await harness.join(501, "16702-K01")
    await submit_urgent(lan)
    early = await hung.tap_data(ResolveAlert(1).pack())
    assert "chưa có ai tiếp nhận" in hung.popups(early)[0]
    await hung.tap(ACK)

    peer = await ha.tap_data(ResolveAlert(1).pack())
    assert "Chỉ đồng chí Hùng Nguyễn (người tiếp nhận)" in ha.popups(peer)[0]
    assert alert_state(harness) == "acknowledged"

    await province.tap_data(ResolveAlert(1).pack())  # above the acknowledger: allowed
    assert alert_state(harness) == "resolved"
    assert events(harness)[-1] == ("resolved", 800, None)
    assert "đã được Tỉnh Nguyễn xử lý xong" in notices(lan)[-1]


# --- who may not --------------------------------------------------------------------


async def test_a_forged_button_from_another_commune_changes_nothing(harness: Harness) -> None:
    await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    other = await harness.join(903, "17464", Role.SUPERVISOR, "Diễn")
    teammate = await harness.join(502, "16702-K01", first_name="Minh")
    lan = await harness.join(501, "16702-K01")
    await submit_urgent(lan)
    before = len(harness.telegram.calls)

    for person, data in (
        (other, AcknowledgeAlert(1).pack()),
        (other, ResolveAlert(1).pack()),
        (teammate, AcknowledgeAlert(1).pack()),
        (lan, AcknowledgeAlert(1).pack()),  # the reporter, a member
        (other, AcknowledgeAlert(99).pack()),  # no such report
        (other, "aa:1:2"),  # not the bot's data at all
    ):
        calls = await person.tap_data(data)
        assert [c.method for c in calls] == ["answerCallbackQuery"], data
        assert person.popups(calls)[0]

    assert (
        "ngoài phạm vi đồng chí phụ trách"
        in other.popups(await other.tap_data(AcknowledgeAlert(1).pack()))[0]
    )
    assert alert_state(harness) == "open"
    assert events(harness) == []
    assert all(c.method == "answerCallbackQuery" for c in harness.telegram.calls[before:])


async def test_a_supervisor_cannot_acknowledge_their_own_report(harness: Harness) -> None:
    province = await harness.join(800, "40", Role.SUPERVISOR, "Tỉnh")
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    await submit_urgent(hung)
    calls = await hung.tap_data(AcknowledgeAlert(1).pack())
    assert hung.popups(calls)[0]
    assert alert_state(harness) == "open"
    await province.tap(ACK)
    assert events(harness) == [("acknowledged", 800, None)]


# --- escalation ----------------------------------------------------------------------


async def test_an_unacknowledged_alert_goes_one_level_up_once(harness: Harness) -> None:
    province = await harness.join(800, "40", Role.SUPERVISOR, "Tỉnh")
    await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    sibling = await harness.join(903, "17464", Role.SUPERVISOR, "Diễn")
    lan = await harness.join(501, "16702-K01")
    await submit_urgent(lan)

    harness.elapse(timedelta(minutes=14))
    await run_job(harness, "alerts:escalate")
    assert alert_texts(province) == []

    harness.elapse(timedelta(minutes=1))
    await run_job(harness, "alerts:escalate")
    [text] = alert_texts(province)
    assert text.startswith("⏫ Chuyển lên cấp trên: chưa có ai tiếp nhận sau 15 phút.")
    assert "Cháy nhà dân" in text
    assert ACK in " ".join(labels(alert_copy(province)))
    assert events(harness) == [("escalated", None, "40")]

    await run_job(harness, "alerts:escalate")
    harness.elapse(timedelta(minutes=30))
    await run_job(harness, "alerts:escalate")  # the root is reached: nowhere further
    assert len(alert_texts(province)) == 1
    assert events(harness) == [("escalated", None, "40")]
    assert alert_texts(sibling) == []  # never sideways to another commune


async def test_escalation_climbs_one_level_at_a_time(harness: Harness) -> None:
    province = await harness.join(800, "40", Role.SUPERVISOR, "Tỉnh")
    ward = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    block = await harness.join(910, "16702-K01", Role.SUPERVISOR, "Khối")
    other_block = await harness.join(911, "16702-K02", Role.SUPERVISOR, "Khối Hai")
    lan = await harness.join(501, "16702-K01")
    await submit_urgent(lan)
    assert len(alert_texts(block)) == 1 and alert_texts(ward) == []

    harness.elapse(timedelta(minutes=15))
    await run_job(harness, "alerts:escalate")
    assert len(alert_texts(ward)) == 1
    assert alert_texts(province) == []  # the next level only

    harness.elapse(timedelta(minutes=10))
    await run_job(harness, "alerts:escalate")
    assert alert_texts(province) == []  # 15 minutes from the last escalation, not 25
    harness.elapse(timedelta(minutes=5))
    await run_job(harness, "alerts:escalate")
    [text] = alert_texts(province)
    assert "sau 30 phút" in text
    assert events(harness) == [("escalated", None, "16702"), ("escalated", None, "40")]
    assert alert_texts(other_block) == []

    # Whoever takes it at the top, every level's copy says so and escalation is over.
    await province.tap(ACK)
    for person in (block, ward, province):
        assert "Tỉnh Nguyễn (Tỉnh Nghệ An) đã tiếp nhận" in alert_copy(person).text
    assert len(notices(lan)) == 1


async def test_no_escalation_once_acknowledged(harness: Harness) -> None:
    province = await harness.join(800, "40", Role.SUPERVISOR, "Tỉnh")
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01")
    await submit_urgent(lan)
    harness.elapse(timedelta(minutes=14))
    await hung.tap(ACK)
    harness.elapse(timedelta(hours=2))
    await run_job(harness, "alerts:escalate")
    await run_job(harness, "outbox:drain")
    assert alert_texts(province) == []
    assert events(harness) == [("acknowledged", 900, None)]


async def test_the_wait_is_a_setting(tmp_path: Path) -> None:
    harness = Harness(tmp_path / "bot.sqlite3", settings={"escalate_after": timedelta(minutes=5)})
    await harness.start()
    try:
        await harness.load_demo_units()
        province = await harness.join(800, "40", Role.SUPERVISOR, "Tỉnh")
        await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
        await submit_urgent(await harness.join(501, "16702-K01"))
        harness.elapse(timedelta(minutes=5))
        await run_job(harness, "alerts:escalate")
        assert "sau 5 phút" in alert_texts(province)[0]
    finally:
        await harness.stop()


def test_bot_escalate_after_reads_minutes_hours_and_seconds() -> None:
    assert load_settings({}, None, require_token=False).escalate_after == timedelta(minutes=15)
    for text, expected in (
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("1h30m", timedelta(minutes=90)),
        ("90s", timedelta(seconds=90)),
        ("20", timedelta(minutes=20)),
        (" 2H ", timedelta(hours=2)),
    ):
        assert parse_interval(text) == expected, text
        settings = load_settings({"BOT_ESCALATE_AFTER": text}, None, require_token=False)
        assert settings.escalate_after == expected


@pytest.mark.parametrize("value", ["0", "10s", "25h", "15 phút", "m", "1.5h", "-5m", "h30"])
def test_a_bad_bot_escalate_after_is_refused_by_name(value: str) -> None:
    with pytest.raises(SettingsError, match="BOT_ESCALATE_AFTER"):
        load_settings({"BOT_ESCALATE_AFTER": value}, None, require_token=False)


# --- the reporter's chat, restarts, the rules ---------------------------------------


async def test_an_alert_opens_the_reporters_chat_in_one_tap(harness: Harness) -> None:
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01")
    await submit_urgent(lan)
    assert urls(alert_copy(hung)) == ["tg://user?id=501"]

    # With a username, a t.me link: it opens the chat whatever the privacy settings.
    query(harness, "UPDATE members SET username = 'lan_nguyen' WHERE telegram_user_id = 501")
    await submit_urgent(lan, "Cháy kho")
    assert urls(alert_copy(hung, 2)) == ["https://t.me/lan_nguyen"]


async def test_a_link_refused_for_privacy_is_left_out_not_the_alert(harness: Harness) -> None:
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01")
    harness.telegram.fail_next(
        "sendMessage", 400, "Bad Request: BUTTON_USER_PRIVACY_RESTRICTED", chat_id=900
    )
    await submit_urgent(lan)
    assert "Đã báo ngay cho 1 cán bộ phụ trách" in lan.last_text()
    copy = alert_copy(hung)
    assert urls(copy) == [] and labels(copy) == ["✅ Tiếp nhận"]
    await hung.tap(ACK)  # and it can still be taken on
    assert alert_state(harness) == "acknowledged"


async def test_a_restart_between_the_alert_and_the_tap_changes_nothing(
    harness: Harness,
) -> None:
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    ha = await harness.join(901, "16702", Role.SUPERVISOR, "Hà")
    lan = await harness.join(501, "16702-K01")
    await submit_urgent(lan)
    await harness.restart()

    await hung.tap(ACK)

    assert alert_state(harness) == "acknowledged"
    assert "Hùng Nguyễn (Phường Vinh Phú) đã tiếp nhận" in alert_copy(ha).text
    assert len(notices(lan)) == 1
    await harness.restart()
    await run_job(harness, "outbox:drain")
    assert len(notices(lan)) == 1


async def test_edits_a_crash_left_queued_are_made_after_the_restart(harness: Harness) -> None:
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    ha = await harness.join(901, "16702", Role.SUPERVISOR, "Hà")
    lan = await harness.join(501, "16702-K01")
    await submit_urgent(lan)
    # Telegram fails the edit of Hà's copy and the reporter's notice: they wait.
    harness.telegram.fail_next("editMessageText", 502, "Bad Gateway", chat_id=901)
    harness.telegram.fail_next("sendMessage", 502, "Bad Gateway", chat_id=501)
    await hung.tap(ACK)
    assert "đã tiếp nhận" not in alert_copy(ha).text and notices(lan) == []

    await harness.restart()
    harness.elapse(timedelta(seconds=30))
    await run_job(harness, "outbox:drain")

    assert "Hùng Nguyễn (Phường Vinh Phú) đã tiếp nhận" in alert_copy(ha).text
    assert len(notices(lan)) == 1


def test_who_may_resolve() -> None:
    tree = UnitTree(
        [Unit("40", "P", None), Unit("1", "W", "40"), Unit("1a", "B", "1"), Unit("2", "V", "40")]
    )
    taker = Actor(1, "supervisor", "1", True)
    assert may_resolve(taker, taker, tree)
    assert may_resolve(Actor(2, "supervisor", "40", True), taker, tree)  # above
    assert may_resolve(Actor(3, "admin", "2", True), taker, tree)
    assert not may_resolve(Actor(4, "supervisor", "1", True), taker, tree)  # a peer
    assert not may_resolve(Actor(5, "supervisor", "1a", True), taker, tree)  # below
    assert not may_resolve(Actor(6, "supervisor", "2", True), taker, tree)  # beside
    assert not may_resolve(Actor(7, "admin", "40", False), taker, tree)  # deactivated
    assert not may_resolve(taker, None, tree)


def test_chat_link_prefers_the_username() -> None:
    lan = Member(1, 501, 501, "Lan", None, "1", Role.MEMBER, "vi")
    assert chat_link(lan) == "tg://user?id=501"
    named = Member(1, 501, 501, "Lan", "lan_nguyen", "1", Role.MEMBER, "vi")
    assert chat_link(named) == "https://t.me/lan_nguyen"


@pytest.mark.parametrize("language", ["vi", "en"])
def test_pop_ups_fit_telegrams_200_characters(language: str) -> None:
    translator = Translator.load("vi")
    catalogue = load_catalogue(LOCALES_DIR / language / "LC_MESSAGES" / "messages.po")
    keys = (
        "alert.acknowledged", "alert.already_yours", "alert.taken_by", "alert.not_acknowledged",
        "alert.resolve_not_yours", "alert.resolved", "alert.already_resolved",
    )  # fmt: skip
    for key in keys:
        template = catalogue[key]
        # Names are cut to 40 characters in a pop-up (handlers/alert_actions.py).
        values = {
            name: "Ư" * 40 if name == "name" else "23:59 31/12/2026"
            for name in placeholders(template)
        }
        assert len(translator.plain(language, key, **values)) <= 200, key


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_longest_escalated_and_resolved_alert_fits_one_message(language: str) -> None:
    translator = Translator.load("vi")
    catalogues = {kind: default_catalogue(kind) for kind in ("incident", "activity")}
    renderer = FormRenderer(translator, language, ZONE, catalogues)
    longest = max(catalogues["incident"], key=lambda item: len(item.name(language)))
    data = {
        "cat": longest.code,
        "when": "2026-11-26T09:30:00+07:00",
        "place": {"address": "&" * 300},
        "desc": "<😀>" * 250,
        "people": "&" * 300,
        "photos": [[f"f{i}", f"u{i}"] for i in range(MAX_PHOTOS)],
        "action": "follow_up",
        "urgent": True,
    }
    moment = datetime(2026, 11, 26, 2, 30, tzinfo=UTC)
    name = "Ư" * 129  # Telegram's first and last names: 64 characters each
    reporter = Member(1, 501, 501, name, None, "16702-K01", Role.MEMBER, language)
    unit = Unit("16702-K01", "Ổ" * 200, None)
    alert = renderer.alert(123456, "incident", data, reporter, unit, moment, timedelta(hours=23))
    progress = renderer.alert_progress((reporter, unit, moment), (reporter, moment))
    text = Html(f"{alert}\n\n{progress}")
    shown = re.sub(r"<[^>]*>", "", text)
    assert telegram_length(html.unescape(shown)) <= 4096
    assert "23 giờ" in text or "23 h" in text
