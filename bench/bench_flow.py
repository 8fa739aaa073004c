"""Benchmark: how fast the real Application takes answers and exports reports.

Telegram is the in-process Bot API simulator (botapi_sim), so what is measured is our own
code: handlers, the form engine and SQLite with synchronous=FULL on this machine's disk,
beside the floor: a bare python-telegram-bot application answering the same updates on
the same simulator.

    make bench            # or: .venv/bin/python -m bench.bench_flow [--members 50]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import sqlite3
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.floor import replay_on_bare_application
from bot.cli import main as cli_main
from botapi_sim.core import Call
from botapi_sim.driver import Harness, Person
from domain.models import Role
from handlers.context import services_of
from handlers.digest import send_due_digests
from storage.db import Database

Step = Callable[[Person], Awaitable[object]]


async def submit(person: Person) -> object:
    """Submit; asked whether it is an incident already reported nearby (a bench's members
    all report the same theft), answer that it is a different one: one more answer."""
    calls = await person.tap("Gửi báo cáo")
    if person.last_text().startswith("🔎"):
        calls += await person.tap("Vụ việc khác, gửi báo cáo")
    return calls


# One complete incident report, as a member files it: 11 answers (12 when asked whether
# it is the same incident as one already reported).
INCIDENT_STEPS: tuple[Step, ...] = (
    lambda p: p.send("/incident"),
    lambda p: p.tap("Trộm cắp tài sản"),
    lambda p: p.tap("Vừa xảy ra"),
    lambda p: p.send_location(18.6796, 105.6813),
    lambda p: p.send("Mất xe máy trước nhà số 5, hai thanh niên đi xe Wave"),
    lambda p: p.tap("Bỏ qua"),
    lambda p: p.send_photo(f"photo-{p.user_id}"),
    lambda p: p.tap("Xong"),
    lambda p: p.tap("Đã chuyển Công an"),
    lambda p: p.tap("Không khẩn cấp"),
    submit,
)


async def one_incident(person: Person, timings: list[float]) -> None:
    """File one complete incident report, timing every answer."""
    for step in INCIDENT_STEPS:
        started = time.perf_counter()
        await step(person)
        timings.append(time.perf_counter() - started)


def percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def latency(timings: list[float]) -> str:
    ordered = sorted(timings)
    return (
        f"p50 {statistics.median(ordered) * 1000:.2f} ms, "
        f"p95 {percentile(ordered, 0.95) * 1000:.2f} ms, "
        f"p99 {percentile(ordered, 0.99) * 1000:.2f} ms"
    )


@dataclass
class Run:
    timings: list[float]
    elapsed: float
    api_calls: int
    limited_calls: int  # those Telegram's flood limits count: the ones naming a chat
    reads: int
    writes: int
    fsyncs: int
    updates: list[dict[str, Any]]

    @property
    def answers(self) -> int:
        return len(self.timings)

    def report(self, title: str) -> None:
        n = self.answers
        print(f"{title}: {n} answers in {self.elapsed:.2f} s, {n / self.elapsed:.0f} answers/s")
        print(f"  per answer: {latency(self.timings)}")
        print(
            f"  per answer: {self.api_calls / n:.2f} Bot API calls"
            f" ({self.limited_calls / n:.2f} under the 30-a-second limit),"
            f" {self.reads / n:.2f} SQLite reads, {self.writes / n:.2f} write transactions"
            f" ({self.fsyncs / n:.2f} waiting for the disk)"
        )


async def file_reports(
    folder: Path, members: int, rounds: int, *, together: bool, rate_limit: bool = False
) -> Run:
    """Members file incident reports through the real Application, one at a time or at once."""
    name = f"bench-{members}-{together}-{rate_limit}.sqlite3"
    harness = Harness(folder / name, rate_limit=rate_limit)
    await harness.start()
    recorded: list[dict[str, Any]] = []
    deliver = harness.deliver

    async def recording(payload: dict[str, Any], update_id: int | None = None) -> list[Call]:
        recorded.append(payload)
        return await deliver(payload, update_id)

    try:
        await harness.load_demo_units()
        await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
        people = [
            await harness.join(1000 + n, "16702-K01", first_name=f"M{n}") for n in range(members)
        ]
        harness.deliver = recording  # type: ignore[method-assign]
        calls_before = len(harness.telegram.calls)
        counts_before = dict(harness.db.counts)
        timings: list[float] = []
        started = time.perf_counter()
        for _ in range(rounds):
            if together:
                await asyncio.gather(*(one_incident(person, timings) for person in people))
            else:
                for person in people:
                    await one_incident(person, timings)
        elapsed = time.perf_counter() - started
        calls = harness.telegram.calls[calls_before:]
        return Run(
            timings,
            elapsed,
            api_calls=len(calls),
            limited_calls=sum(1 for call in calls if "chat_id" in call.params),
            reads=harness.db.counts["reads"] - counts_before.get("reads", 0),
            writes=harness.db.counts["writes"] - counts_before.get("writes", 0),
            fsyncs=harness.db.counts["fsyncs"] - counts_before.get("fsyncs", 0),
            updates=recorded,
        )
    finally:
        await harness.stop()


async def run(members: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        sequential = await file_reports(Path(folder), members, rounds, together=False)
        sequential.report(f"one member at a time ({members} members x {rounds} reports)")
        floor = await replay_on_bare_application(sequential.updates)
        print(f"the floor, a bare python-telegram-bot application on the same fake: {floor}")
        together = await file_reports(Path(folder), members, 1, together=True)
        together.report(f"{members} members at once")
        limited = await file_reports(Path(folder), members, 1, together=True, rate_limit=True)
        limited.report(f"{members} members at once, with the production rate limiter")
        crowd = await file_reports(Path(folder), 200, 1, together=True)
        crowd.report("200 members at once")
        await one_slow_member(Path(folder))
        await one_flooded_member(Path(folder))
        await answers_during_a_digest(Path(folder))


async def _two_members(folder: Path, name: str, rate_limit: bool) -> tuple[Harness, Person, Person]:
    harness = Harness(folder / f"{name}.sqlite3", rate_limit=rate_limit)
    await harness.start()
    await harness.load_demo_units()
    slow = await harness.join(501, "16702-K01")
    other = await harness.join(502, "16702-K01", first_name="Bình")
    for person in (slow, other):
        await person.send("/incident")
        await person.tap("Trộm cắp tài sản")
    await slow.tap("Ngày khác")  # the date and time are typed: "when" in datetime mode
    return harness, slow, other


async def _wait_of_other(slow_step: Awaitable[object], other: Person) -> float:
    """How long the other member's answer takes while the slow step is under way."""
    slow_task = asyncio.ensure_future(slow_step)
    await asyncio.sleep(0)  # the slow update is taken in first
    started = time.perf_counter()
    await other.tap("Vừa xảy ra")
    waited = time.perf_counter() - started
    await slow_task
    return waited


async def one_slow_member(folder: Path) -> None:
    """Another member's wait while one sends a 4096-character answer to "when"."""
    harness, slow, other = await _two_members(folder, "slow", rate_limit=False)
    try:
        started = time.perf_counter()
        waited = await _wait_of_other(slow.send("1 " * 2048), other)
        total = time.perf_counter() - started
        print(
            f"a 4096-character answer to 'when': handled in {total * 1000:.1f} ms;"
            f" another member meanwhile waited {waited * 1000:.1f} ms"
        )
    finally:
        await harness.stop()


async def one_flooded_member(folder: Path) -> None:
    """Another member's wait while one member's chat is under a 20 s flood wait (429)."""
    harness, flooded, other = await _two_members(folder, "flood", rate_limit=True)
    try:
        harness.telegram.fail_next(
            "sendMessage", 429, "Too Many Requests: retry after 20", retry_after=20, chat_id=501
        )
        waited = await _wait_of_other(flooded.send("21:15"), other)
        print(
            f"one member's chat under a retry_after=20 flood wait:"
            f" another member's answer took {waited * 1000:.1f} ms"
        )
    finally:
        await harness.stop()


async def answers_during_a_digest(
    folder: Path, supervisors: int = 30, reports: int = 20_000
) -> None:
    """A member's answers while a month's digest is made for many supervisors, against the
    same answers with nothing else going on."""
    harness = Harness(folder / "digest.sqlite3")
    await harness.start()
    try:
        await harness.load_demo_units()
        member = await harness.join(501, "16702-K01")
        for n in range(supervisors):
            await harness.join(1000 + n, "16702" if n % 2 else "40", Role.SUPERVISOR, "Hùng")
        month_ago = harness.now - timedelta(days=30)
        with closing(sqlite3.connect(harness.db_path)) as connection, connection:
            [(member_id,)] = connection.execute(
                "SELECT id FROM members WHERE telegram_user_id = 501"
            ).fetchall()
            connection.executemany(
                "INSERT INTO reports (kind, member_id, unit_code, category_code, occurred_at,"
                " period_date, submitted_at, latitude, longitude, description, urgent)"
                " VALUES ('incident', ?, ?, 'THEFT', ?, ?, ?, ?, ?, ?, 0)",
                (
                    (member_id, "16702-K01" if n % 3 else "16702-K02", at, at[:10], at,
                     18.67 + n % 50 * 0.001, 105.68, f"Mất xe máy số {n}")
                    for n in range(reports)
                    for at in [(month_ago + timedelta(seconds=n * 120)).isoformat()]
                ),
            )  # fmt: skip
            connection.execute(
                "INSERT INTO digest_runs (schedule, period_start, period_end, state, created_at)"
                " VALUES ('monthly', ?, ?, 'baseline', ?)",
                (month_ago.isoformat(), month_ago.isoformat(), month_ago.isoformat()),
            )
        services = services_of(harness.application)
        await send_due_digests(services)  # the worker process starts; not measured
        await services.db.write(
            lambda tx: tx.execute("DELETE FROM digest_runs WHERE state = 'queued'")
        )
        idle: list[float] = []
        await one_incident(member, idle)
        await services.db.write(
            lambda tx: tx.execute("DELETE FROM digest_runs WHERE state = 'queued'")
        )
        started = time.perf_counter()
        digest = asyncio.ensure_future(send_due_digests(services))
        busy: list[float] = []
        while not digest.done():
            await one_incident(member, busy)
        made = time.perf_counter() - started
        await digest
        print(
            f"a month's digest ({reports} reports) for {supervisors} supervisors made in"
            f" {made:.1f} s; a member's answers meanwhile: {latency(busy)}"
            f" ({len(busy)} answers); with nothing else going on: {latency(idle)}"
        )
    finally:
        await harness.stop()


def _bulk_reports(count: int) -> Iterator[tuple[object, ...]]:
    """Incident rows shaped like the bot's own, with the answers kept whole in data."""
    first = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(1, count + 1):
        moment = (first + timedelta(minutes=5 * n)).isoformat()
        address = f"Ngõ {n % 90}, đường Lê Lợi"
        description = f"Mất xe máy trước nhà số {n}, hai thanh niên đi xe Wave, bỏ chạy về phía chợ"
        data = {
            "cat": "THEFT",
            "when": moment,
            "place": {"lat": 18.6796, "lon": 105.6813, "address": address},
            "desc": description,
            "people": "anh Bình, chủ xe",
            "photos": [[f"photo-{n}", f"unique-{n}", "photo"]],
            "action": "police",
            "urgent": False,
        }
        yield (
            n, "incident", 1, "K01", "THEFT", moment, moment[:10], moment, 18.6796, 105.6813,
            address, description, "anh Bình, chủ xe", "police", 0,
            json.dumps(data, ensure_ascii=False),
        )  # fmt: skip


def make_reports_by_sql(db_path: Path, count: int) -> None:
    """A migrated database holding a unit, a member and `count` reports with a photo each."""

    async def migrate() -> None:
        db = Database(db_path)
        await db.open()
        await db.close()

    asyncio.run(migrate())
    with closing(sqlite3.connect(db_path)) as connection, connection:
        connection.execute("INSERT INTO units (code, name) VALUES ('K01', 'Khối 1')")
        connection.execute(
            "INSERT INTO members (id, telegram_user_id, chat_id, full_name, unit_code, role,"
            " language, joined_at) VALUES (1, 1001, 1001, 'Lan Nguyễn', 'K01', 'member', 'vi',"
            " '2026-01-01T00:00:00+00:00')"
        )
        connection.executemany(
            "INSERT INTO reports (id, kind, member_id, unit_code, category_code, occurred_at,"
            " period_date, submitted_at, latitude, longitude, address, description, people,"
            " action_taken, urgent, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _bulk_reports(count),
        )
        connection.execute(
            "INSERT INTO report_photos (report_id, position, file_id, file_unique_id)"
            " SELECT id, 0, 'photo-' || id, 'unique-' || id FROM reports"
        )


def export_at_scale(count: int) -> None:
    """Time `bot.py export` in this process, then run it again to trace its peak memory."""
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "export.sqlite3"
        make_reports_by_sql(db_path, count)
        out = Path(folder) / "export.csv"
        argv = ["export", "--out", str(out)]
        environ = {"BOT_DB_PATH": str(db_path)}

        started = time.perf_counter()
        status = cli_main(argv, environ=environ, env_file=None, out=io.StringIO())
        elapsed = time.perf_counter() - started
        assert status == 0
        # Tracing slows every allocation down, so it gets a run of its own.
        tracemalloc.start()
        try:
            status = cli_main(argv, environ=environ, env_file=None, out=io.StringIO())
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert status == 0
        print(
            f"export of {count} reports: {elapsed:.2f} s, peak memory {peak / 2**20:.1f} MiB"
            f" ({out.stat().st_size // 2**20} MiB file)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--export-reports", type=int, default=100_000, help="0 to skip")
    args = parser.parse_args()
    # The flood-wait run makes a member's reply fail on purpose; its logged error is noise.
    logging.disable(logging.ERROR)
    asyncio.run(run(args.members, args.rounds))
    if args.export_reports:
        export_at_scale(args.export_reports)


if __name__ == "__main__":
    main()
