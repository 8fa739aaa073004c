"""The outbox: committed before sent, sent once, retried by purpose, paced, and restartable."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from botapi_sim.driver import Harness
from domain.models import Role
from domain.outbox import (
    ALERT_POLICY,
    DEFAULT_POLICY,
    CallbackButton,
    Failure,
    LinkButton,
    Location,
    OutboxItem,
    Payload,
    Photos,
    next_attempt,
)
from handlers.context import services_of
from handlers.outbox import Pacer, classify
from storage.outbox import decode_payload, encode_payload, enqueue

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


# --- the retry policy ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "failure", "attempts", "age", "expected"),
    [
        (ALERT_POLICY, Failure.PERMANENT, 1, timedelta(0), None),
        (DEFAULT_POLICY, Failure.PERMANENT, 1, timedelta(0), None),
        # A timed-out alert may have arrived: sent again, a duplicate is the lesser harm.
        (ALERT_POLICY, Failure.TIMEOUT, 1, timedelta(0), timedelta(seconds=10)),
        # A timed-out reminder is not sent again: a duplicate is worse than a miss.
        (DEFAULT_POLICY, Failure.TIMEOUT, 1, timedelta(0), None),
        (ALERT_POLICY, Failure.TRANSIENT, 1, timedelta(0), timedelta(seconds=10)),
        (ALERT_POLICY, Failure.TRANSIENT, 2, timedelta(0), timedelta(seconds=30)),
        (ALERT_POLICY, Failure.TRANSIENT, 9, timedelta(0), timedelta(minutes=1)),
        (DEFAULT_POLICY, Failure.TRANSIENT, 1, timedelta(0), timedelta(seconds=30)),
        # An alert keeps trying through a day of outage, then gives up.
        (ALERT_POLICY, Failure.TRANSIENT, 999, timedelta(hours=23), timedelta(minutes=1)),
        (ALERT_POLICY, Failure.TRANSIENT, 999, timedelta(days=1), None),
        (DEFAULT_POLICY, Failure.TRANSIENT, 50, timedelta(hours=6), None),
        # A clock set back (negative age) neither gives up early nor breaks the sum.
        (ALERT_POLICY, Failure.TRANSIENT, 1, -timedelta(days=1), timedelta(seconds=10)),
    ],
)
def test_next_attempt_follows_the_purpose_policy(
    policy: object, failure: Failure, attempts: int, age: timedelta, expected: timedelta | None
) -> None:
    now = T0 + age
    retry = next_attempt(policy, failure, attempts, T0, now)  # type: ignore[arg-type]
    assert retry == (None if expected is None else now + expected)


def test_a_flood_answer_is_retried_after_telegrams_retry_after() -> None:
    retry = next_attempt(ALERT_POLICY, Failure.FLOOD, 1, T0, T0, timedelta(seconds=37))
    assert retry == T0 + timedelta(seconds=37)


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (Forbidden("Forbidden: bot was blocked by the user"), Failure.PERMANENT),
        (BadRequest("Bad Request: chat not found"), Failure.PERMANENT),
        (RetryAfter(timedelta(seconds=5)), Failure.FLOOD),
        (TimedOut(), Failure.TIMEOUT),
        (NetworkError("Bad Gateway"), Failure.TRANSIENT),
    ],
)
def test_telegram_errors_are_classified_for_retrying(error: Exception, failure: Failure) -> None:
    assert classify(error)[0] is failure  # type: ignore[arg-type]


def test_a_flood_error_carries_its_wait() -> None:
    assert classify(RetryAfter(timedelta(seconds=5))) == (Failure.FLOOD, timedelta(seconds=5))


# --- pacing ----------------------------------------------------------------------------


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def waits(pacer: Pacer, chats: list[int], within: float | None = None) -> list[float | None]:
    """Each reservation's wait, rounded; None where it was refused."""
    found = [pacer.reserve(chat, within=within) for chat in chats]
    return [None if wait is None else round(wait, 3) for wait in found]


def test_one_chat_gets_one_message_a_second() -> None:
    pacer = Pacer(per_second=20, per_chat=1.0, monotonic=Ticks())
    assert waits(pacer, [7, 7, 7]) == [0.0, 1.0, 2.0]


def test_one_chat_waiting_its_second_does_not_hold_the_others_back() -> None:
    """A digest of three messages to each of 25 chats: about a second per message of a
    chat, not a second per message of all of them."""
    pacer = Pacer(per_second=20, per_chat=1.0, monotonic=Ticks())
    found = waits(pacer, [chat for chat in range(25) for _ in range(3)])
    assert max(w for w in found if w is not None) < 6
    assert waits(pacer, [100, 100, 100]) == [3.75, 4.75, 5.75]


def test_a_turn_beyond_the_horizon_is_left_for_later_and_not_reserved() -> None:
    pacer = Pacer(per_second=20, per_chat=1.0, monotonic=Ticks())
    assert waits(pacer, [7, 7, 7, 7], within=1.5) == [0.0, 1.0, None, None]
    assert waits(pacer, [8], within=1.5) == [0.1]


def test_many_chats_share_the_overall_rate() -> None:
    pacer = Pacer(per_second=20, per_chat=1.0, monotonic=Ticks())
    assert waits(pacer, [0, 1, 2, 3]) == [0.0, 0.05, 0.1, 0.15]


def test_a_follow_up_keeps_to_the_overall_rate_only() -> None:
    pacer = Pacer(per_second=20, per_chat=1.0, monotonic=Ticks())
    assert pacer.reserve(7) == 0.0
    assert pacer.reserve(7, follow_up=True) == pytest.approx(0.05)
    assert pacer.reserve(7) == pytest.approx(1.0)


def test_time_moving_on_frees_the_chat_again() -> None:
    ticks = Ticks()
    pacer = Pacer(per_second=20, per_chat=1.0, monotonic=ticks)
    pacer.reserve(7)
    ticks.now += 5
    assert pacer.reserve(7) == 0.0


# --- the payload's stored form ---------------------------------------------------------


def test_a_payload_survives_storage_whole() -> None:
    payload = Payload(
        "<b>Số 5</b> &amp; ngõ 3",
        buttons=((CallbackButton("✅ Tiếp nhận", "ak:5"), LinkButton("Nhắn", "tg://user?id=5")),),
        attachments=(Location(18.67, 105.69), Photos(("a", "b"))),
    )
    assert decode_payload(encode_payload(payload)) == payload


# --- the drain, through the real Application --------------------------------------------


def outbox_rows(harness: Harness) -> list[tuple[str, str, int]]:
    with sqlite3.connect(harness.db_path) as connection:
        return connection.execute("SELECT key, status, attempts FROM outbox ORDER BY id").fetchall()


async def drain(harness: Harness) -> int:
    services = services_of(harness.application)
    return await services.outbox.drain(harness.application.bot)


def note(key: str, chat_id: int, text: str = "Nhắc việc") -> OutboxItem:
    return OutboxItem(key=key, purpose="note", chat_id=chat_id, payload=Payload(text))


async def test_a_message_is_sent_once_however_often_it_is_produced(harness: Harness) -> None:
    await harness.join(501, "16702-K01")
    assert await enqueue(harness.db, [note("note:1", 501)]) == 1
    assert await enqueue(harness.db, [note("note:1", 501, "again")]) == 0
    assert await drain(harness) == 1
    assert await drain(harness) == 0
    texts = [c.text for c in harness.telegram.sent_to(501) if c.params.get("text") == "Nhắc việc"]
    assert texts == ["Nhắc việc"]
    assert outbox_rows(harness) == [("note:1", "sent", 1)]


async def test_a_429_is_waited_out_and_nothing_goes_early(harness: Harness) -> None:
    await harness.join(501, "16702-K01")
    harness.telegram.fail_next(
        "sendMessage", 429, "Too Many Requests: retry after 30", retry_after=30, chat_id=501
    )
    await enqueue(harness.db, [note("note:flood", 501)])
    assert await drain(harness) == 0
    harness.elapse(timedelta(seconds=29))
    assert await drain(harness) == 0
    assert outbox_rows(harness) == [("note:flood", "pending", 1)]
    harness.elapse(timedelta(seconds=1))
    assert await drain(harness) == 1
    assert outbox_rows(harness) == [("note:flood", "sent", 2)]


async def test_one_blocked_recipient_does_not_stop_the_others(harness: Harness) -> None:
    await harness.join(501, "16702-K01")
    await harness.join(502, "16702-K01", first_name="Bình")
    harness.telegram.fail_next(
        "sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=501
    )
    await enqueue(harness.db, [note("note:a", 501), note("note:b", 502)])
    assert await drain(harness) == 1
    harness.elapse(timedelta(hours=1))
    assert await drain(harness) == 0
    assert outbox_rows(harness) == [("note:a", "failed", 1), ("note:b", "sent", 1)]


async def test_a_restart_sends_what_is_left_and_nothing_twice(harness: Harness) -> None:
    await harness.join(501, "16702-K01")
    await harness.join(502, "16702-K01", first_name="Bình")
    await enqueue(harness.db, [note("note:a", 501)])
    await drain(harness)
    # Then, as if the process died with a second message committed and not yet sent:
    await enqueue(harness.db, [note("note:b", 502)])
    await harness.restart()
    job = harness.application.job_queue.get_jobs_by_name("outbox:drain")[0]  # type: ignore[union-attr]
    await job.run(harness.application)
    sent = [c.chat_id for c in harness.telegram.of("sendMessage") if c.text == "Nhắc việc"]
    assert sent == [501, 502]
    assert outbox_rows(harness) == [("note:a", "sent", 1), ("note:b", "sent", 1)]


async def test_five_restarts_leave_one_drain_job(harness: Harness) -> None:
    for _ in range(5):
        await harness.restart()
    jobs = harness.application.job_queue.jobs()  # type: ignore[union-attr]
    names = [job.name for job in jobs]
    assert names.count("outbox:drain") == 1
    assert len(names) == len(set(names))


async def test_an_alert_queued_by_the_old_version_is_rendered_and_sent(harness: Harness) -> None:
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01")
    await lan.send("/nothing")
    # A row as migration 0002 carries over a pending alert: no rendered text.
    with sqlite3.connect(harness.db_path) as connection:
        connection.execute(
            "UPDATE reports SET kind = 'incident', urgent = 1, category_code = 'FIRE_EXPLOSION',"
            " description = 'Cháy kho', data = ? WHERE id = 1",
            (
                '{"cat": "FIRE_EXPLOSION", "when": "2026-11-26T09:00:00+07:00",'
                ' "place": {"none": true}, "desc": "Cháy kho", "people": null,'
                ' "photos": null, "action": "follow_up", "urgent": true}',
            ),
        )
        connection.execute(
            "INSERT INTO outbox (key, purpose, recipient_id, chat_id, report_id, payload,"
            " next_attempt_at, created_at) SELECT 'alert:1:' || id, 'alert', id, chat_id, 1,"
            " '{\"legacy\": true}', '2026-11-26T03:00:00+00:00', '2026-11-26T03:00:00+00:00'"
            " FROM members WHERE telegram_user_id = 900"
        )
    assert await drain(harness) == 1
    alert = supervisor.calls()[-1]
    assert alert.text.startswith("🚨 KHẨN CẤP")
    assert "Cháy kho" in alert.text


async def test_a_burst_of_proactive_sends_does_not_hold_up_a_members_answer(
    tmp_path: Path,
) -> None:
    """With the production rate limiter on, 60 queued messages take about three seconds
    to drain at the outbox's pace; a member answering meanwhile is answered at once."""
    harness = Harness(tmp_path / "bot.sqlite3", rate_limit=True)
    await harness.start()
    try:
        await harness.load_demo_units()
        lan = await harness.join(501, "16702-K01")
        await enqueue(harness.db, [note(f"note:{n}", 10_000 + n) for n in range(60)])
        draining = asyncio.create_task(drain(harness))
        await asyncio.sleep(0.2)  # the drain is under way

        def notes_sent() -> int:
            return sum(1 for c in harness.telegram.of("sendMessage") if c.text == "Nhắc việc")

        before = notes_sent()
        calls = await lan.send("/incident")
        assert any("Vụ việc thuộc loại nào?" in c.text for c in calls if c.chat_id == 501)
        # The answer did not queue behind the burst: hardly any note went out meanwhile,
        # and most of the burst is still to go.
        assert notes_sent() - before <= 2
        assert not draining.done() and notes_sent() < 30
        assert await draining == 60
    finally:
        await harness.stop()


async def test_retries_go_on_when_the_wall_clock_is_set_back(harness: Harness) -> None:
    await harness.join(501, "16702-K01")
    harness.telegram.fail_next("sendMessage", 502, "Bad Gateway", chat_id=501)
    await enqueue(harness.db, [note("note:jump", 501)])
    assert await drain(harness) == 0
    harness.now -= timedelta(days=1)  # someone sets the server's clock back a day
    harness.elapse(timedelta(seconds=29))
    assert await drain(harness) == 0  # not early
    harness.elapse(timedelta(seconds=1))
    assert await drain(harness) == 1
    assert outbox_rows(harness) == [("note:jump", "sent", 2)]


async def test_a_retry_scheduled_before_the_clock_went_back_survives_a_restart(
    harness: Harness,
) -> None:
    await harness.join(501, "16702-K01")
    harness.telegram.fail_next("sendMessage", 502, "Bad Gateway", chat_id=501)
    await enqueue(harness.db, [note("note:jump", 501)])
    await drain(harness)
    await harness.restart()  # what the process knew of the wait is gone
    harness.now -= timedelta(days=1)
    assert await drain(harness) == 1


async def test_a_wall_clock_set_forward_does_not_make_a_retry_early(harness: Harness) -> None:
    await harness.join(501, "16702-K01")
    harness.telegram.fail_next("sendMessage", 502, "Bad Gateway", chat_id=501)
    await enqueue(harness.db, [note("note:jump", 501)])
    await drain(harness)
    harness.now += timedelta(hours=5)  # the clock jumps forward; no time has passed
    assert await drain(harness) == 0
    harness.elapse(timedelta(seconds=30))
    assert await drain(harness) == 1
