"""The CSV export at scale: reports stream from SQLite to the file a page at a time.

Reports are inserted with plain SQL into a database made by the project's migrations,
so thousands of them take a fraction of a second; test_cli.py checks the cells of
reports filed through the real bot.
"""

from __future__ import annotations

import csv
import gc
import json
import sqlite3
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing, closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from domain.catalogue import default_catalogues
from domain.models import ExportedReport
from presentation.export import write_reports_csv
from presentation.i18n import Translator
from storage.db import Database
from storage.export import iterate_export_rows

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
TRANSLATOR = Translator.load("vi")
# 08:00 on 1/11 in Vietnam; each report is an hour after the one before.
FIRST_AT = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)


def _connect(path: Path) -> closing[sqlite3.Connection]:
    return closing(sqlite3.connect(path))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated database with one unit and one member, and no reports yet."""
    database = Database(tmp_path / "bot.sqlite3")
    await database.open()
    with _connect(database.path) as connection, connection:
        connection.execute("INSERT INTO units (code, name) VALUES ('16702-K01', 'Khối 1')")
        connection.execute(
            "INSERT INTO members (id, telegram_user_id, chat_id, full_name, unit_code, role,"
            " language, joined_at) VALUES (1, 702, 702, 'Lan Nguyễn', '16702-K01', 'member',"
            " 'vi', '2026-11-01T00:00:00+00:00')"
        )
    yield database
    await database.close()


def _report_rows(first_id: int, count: int, data: str | None) -> Iterator[tuple[object, ...]]:
    for n in range(first_id, first_id + count):
        moment = FIRST_AT + timedelta(hours=n)
        answers = data
        if answers is None:
            answers = json.dumps({"cat": "THEFT", "desc": f"Mất xe máy số {n}"}, ensure_ascii=False)
        yield (
            n,
            moment.isoformat(),
            moment.astimezone(ZONE).date().isoformat(),
            moment.isoformat(),
            f"Mất xe máy trước nhà số {n}, Khối 1",
            answers,
        )


def add_reports(db: Database, first_id: int, count: int, data: str | None = None) -> None:
    """Incidents numbered from first_id, an hour apart; report n has n % 3 photos."""
    with _connect(db.path) as connection, connection:
        connection.executemany(
            "INSERT INTO reports (id, kind, member_id, unit_code, category_code, occurred_at,"
            " period_date, submitted_at, description, action_taken, data)"
            " VALUES (?, 'incident', 1, '16702-K01', 'THEFT', ?, ?, ?, ?, 'police', ?)",
            _report_rows(first_id, count, data),
        )
        connection.executemany(
            "INSERT INTO report_photos (report_id, position, file_id, file_unique_id)"
            " VALUES (?, ?, ?, ?)",
            [
                (n, position, f"photo-{n}-{position}", f"unique-{n}-{position}")
                for n in range(first_id, first_id + count)
                for position in range(n % 3)
            ],
        )


async def export(
    db: Database, out: Path, first: date | None = None, last: date | None = None
) -> int:
    async with aclosing(iterate_export_rows(db, first, last)) as rows:
        return await write_reports_csv(rows, out, TRANSLATOR, "vi", ZONE, default_catalogues())


def read_export(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


async def traced_peak(db: Database, out: Path) -> tuple[int, int]:
    """(reports written, peak bytes Python allocated meanwhile).

    Each run starts from a full collection and has none meanwhile: one that happens to
    empty CPython's free lists mid-run moves the peak by a few hundred KB whatever the
    number of rows. With the collector off, a reference cycle made per row would also
    pile up and show as growth.
    """
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        count = await export(db, out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        gc.enable()
    return count, peak


async def test_memory_stays_flat_as_reports_grow_tenfold(db: Database, tmp_path: Path) -> None:
    out = tmp_path / "export.csv"
    add_reports(db, 1, 2_000)
    await export(db, out)  # once untraced, so that first-use caches count in neither run

    small_count, small_peak = await traced_peak(db, out)
    add_reports(db, 2_001, 18_000)
    large_count, large_peak = await traced_peak(db, out)

    assert (small_count, large_count) == (2_000, 20_000)
    assert len(read_export(out)) == 1 + 20_000
    # Holding every report, as the export once did, costs about 5 KB each: 90 MB more here.
    assert large_peak < 1.5 * small_peak + 256 * 1024, (small_peak, large_peak)


async def test_pages_follow_each_other_without_gap_or_overlap(db: Database) -> None:
    add_reports(db, 1, 3 * 7 + 2)
    first, last = date(2026, 11, 1), date(2026, 11, 1)
    with _connect(db.path) as connection:
        expected = [
            row[0]
            for row in connection.execute(
                "SELECT id FROM reports WHERE period_date BETWEEN ? AND ? ORDER BY id",
                (first.isoformat(), last.isoformat()),
            )
        ]

    async with aclosing(iterate_export_rows(db, None, None, page_size=7)) as rows:
        everything = [row.id async for row in rows]
    async with aclosing(iterate_export_rows(db, first, last, page_size=8)) as rows:
        one_day = [row.id async for row in rows]

    assert everything == list(range(1, 24))
    # 08:00 on 1/11 plus n hours: reports 0 to 15 fall on 1/11 in Vietnam.
    assert one_day == expected == list(range(1, 16))


async def test_the_data_column_is_never_decoded(db: Database, tmp_path: Path) -> None:
    add_reports(db, 1, 3, data="{this is not JSON")
    out = tmp_path / "export.csv"

    assert await export(db, out) == 3

    table = read_export(out)
    assert [row[0] for row in table[1:]] == ["1", "2", "3"]
    assert [row[3] for row in table[1:]] == ["Trộm cắp tài sản"] * 3
    assert [row[7] for row in table[1:]] == [
        "2026-11-01 09:00",
        "2026-11-01 10:00",
        "2026-11-01 11:00",
    ]
    assert [row[17] for row in table[1:]] == ["1", "2", "0"]  # photos: n % 3
    assert [row[13] for row in table[1:]] == ["Đã chuyển Công an xã/phường"] * 3


async def test_reports_filed_during_an_export_wait_for_the_next(db: Database) -> None:
    add_reports(db, 1, 5)

    async with aclosing(iterate_export_rows(db, None, None, page_size=2)) as rows:
        seen = [await anext(rows)]
        add_reports(db, 6, 5)
        seen += [row async for row in rows]

    assert [row.id for row in seen] == [1, 2, 3, 4, 5]


async def test_an_export_that_fails_leaves_the_earlier_file_whole(
    db: Database, tmp_path: Path
) -> None:
    add_reports(db, 1, 10)
    out = tmp_path / "export.csv"
    await export(db, out)
    earlier = out.read_bytes()
    add_reports(db, 11, 10)

    async def failing() -> AsyncIterator[ExportedReport]:
        async for row in iterate_export_rows(db, None, None, page_size=4):
            if row.id == 15:
                raise OSError("disk full")
            yield row

    with pytest.raises(OSError, match="disk full"):
        await write_reports_csv(failing(), out, TRANSLATOR, "vi", ZONE, default_catalogues())

    assert out.read_bytes() == earlier
    assert not out.with_name(f".{out.name}.partial").exists()
