"""Benchmark: how fast the real Application takes answers and exports reports.

Telegram is the in-process fake from tests/, so what is measured is our own code:
handlers, the form engine and SQLite with synchronous=FULL on this machine's disk.

    make bench            # or: .venv/bin/python -m bench.bench_flow [--members 50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.cli import main as cli_main
from domain.models import Role
from tests.harness import Harness, Person


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(run(args.members, args.rounds))


if __name__ == "__main__":
    main()
