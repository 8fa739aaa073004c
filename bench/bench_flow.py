"""Benchmark: how fast the real Application takes answers and exports reports.

Telegram is the in-process fake from tests/, so what is measured is our own code:
handlers, the form engine and SQLite with synchronous=FULL on this machine's disk.

    make bench            # or: .venv/bin/python -m bench.bench_flow [--members 50]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.cli import main as cli_main
from botapi_sim.driver import Harness, Person
from domain.models import Role
from storage.db import Database


async def one_incident(person: Person, timings: list[float]) -> None:
    """File one complete incident report, timing every update."""

    async def timed(step: object) -> None:
        started = time.perf_counter()
        await step  # type: ignore[misc]
        timings.append(time.perf_counter() - started)

    await timed(person.send("/incident"))
    await timed(person.tap("Trộm cắp tài sản"))
    await timed(person.tap("Vừa xảy ra"))
    await timed(person.send_location(18.6796, 105.6813))
    await timed(person.send("Mất xe máy trước nhà số 5, hai thanh niên đi xe Wave"))
    await timed(person.tap("Bỏ qua"))
    await timed(person.send_photo(f"photo-{person.user_id}"))
    await timed(person.tap("Xong"))
    await timed(person.tap("Đã chuyển Công an"))
    await timed(person.tap("Không khẩn cấp"))
    await timed(person.tap("Gửi báo cáo"))


async def run(members: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "bench.sqlite3"
        harness = Harness(db_path)
        await harness.start()
        try:
            await harness.load_demo_units()
            await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
            people = [
                await harness.join(1000 + n, "16702-K01", first_name=f"M{n}")
                for n in range(members)
            ]
            timings: list[float] = []
            started = time.perf_counter()
            for _ in range(rounds):
                for person in people:
                    await one_incident(person, timings)
            elapsed = time.perf_counter() - started
        finally:
            await harness.stop()

        reports = members * rounds
        ordered = sorted(timings)
        print(f"reports filed:        {reports} ({len(timings)} updates) in {elapsed:.2f} s")
        print(f"updates per second:   {len(timings) / elapsed:.0f}")
        print(
            "per-update latency:   "
            f"p50 {statistics.median(ordered) * 1000:.2f} ms, "
            f"p95 {ordered[int(len(ordered) * 0.95)] * 1000:.2f} ms, "
            f"max {ordered[-1] * 1000:.2f} ms"
        )

        out = Path(folder) / "export.csv"
        environ = {"BOT_DB_PATH": str(db_path)}
        started = time.perf_counter()
        status = await asyncio.to_thread(
            cli_main, ["export", "--out", str(out)], environ=environ, env_file=None, out=sys.stderr
        )
        elapsed = time.perf_counter() - started
        assert status == 0
        print(f"export of {reports} reports: {elapsed:.2f} s ({out.stat().st_size // 1024} KiB)")


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
    asyncio.run(run(args.members, args.rounds))
    if args.export_reports:
        export_at_scale(args.export_reports)


if __name__ == "__main__":
    main()
