"""The database itself: pragmas, migrations, transactions."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from domain.models import Unit
from storage.db import Database, Migration, Tx, bundled_migrations
from storage.units import all_units, upsert_units


async def open_db(path: Path, migrations: list[Migration] | None = None) -> Database:
    db = Database(path)
    await db.open(migrations)
    return db


async def test_new_database_is_created_with_its_folder_and_safe_settings(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "folder" / "bot.sqlite3"
    db = await open_db(path)
    try:
        assert path.exists()
        pragmas = await db.write(
            lambda tx: [
                tx.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("journal_mode", "synchronous", "foreign_keys")
            ]
        )
        assert pragmas == ["wal", 2, 1]  # 2: synchronous=FULL
        assert await db.applied_migrations() == [(m.version, m.name) for m in bundled_migrations()]
    finally:
        await db.close()


async def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    db = await open_db(tmp_path / "bot.sqlite3")
    await upsert_units(db, [Unit("40", "Tỉnh Nghệ An", None)])
    await db.close()
    db = await open_db(tmp_path / "bot.sqlite3")
    try:
        assert len(await db.applied_migrations()) == len(bundled_migrations())
        assert await all_units(db) == [Unit("40", "Tỉnh Nghệ An", None)]
    finally:
        await db.close()


async def test_upgrading_an_old_database_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    first = bundled_migrations()[:1]
    db = await open_db(path, first)
    await upsert_units(
        db, [Unit("40", "Tỉnh Nghệ An", None), Unit("16702", "Phường Vinh Phú", "40")]
    )
    await db.close()

    later = Migration(
        first[-1].version + 1, "unit_notes", "ALTER TABLE units ADD COLUMN note TEXT;"
    )
    db = await open_db(path, [*first, later])
    try:
        assert [v for v, _ in await db.applied_migrations()] == [first[0].version, later.version]
        assert len(await all_units(db)) == 2
        row = await db.fetch_one("SELECT note FROM units WHERE code = '16702'")
        assert row is not None and row["note"] is None
    finally:
        await db.close()


async def test_a_failing_migration_changes_nothing_and_is_not_recorded(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    first = bundled_migrations()[:1]
    db = await open_db(path, first)
    await db.close()
    broken = Migration(
        99, "broken", "CREATE TABLE half_done (x INTEGER);\nSELECT * FROM no_such_table;"
    )
    with pytest.raises(sqlite3.OperationalError):
        await open_db(path, [*first, broken])
    with sqlite3.connect(path) as connection:
        tables = {
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        versions = [r[0] for r in connection.execute("SELECT version FROM schema_migrations")]
    assert "half_done" not in tables
    assert versions == [first[0].version]


async def test_a_failed_transaction_is_rolled_back_whole(tmp_path: Path) -> None:
    db = await open_db(tmp_path / "bot.sqlite3")
    try:
        with pytest.raises(sqlite3.IntegrityError):

            def two_units(tx: Tx) -> None:
                tx.execute("INSERT INTO units (code, name) VALUES ('1', 'A')")
                tx.execute("INSERT INTO units (code, name) VALUES ('1', 'B')")

            await db.write(two_units)
        assert await all_units(db) == []
    finally:
        await db.close()


async def test_unknown_parent_is_refused_by_the_database_too(tmp_path: Path) -> None:
    db = await open_db(tmp_path / "bot.sqlite3")
    try:
        with pytest.raises(sqlite3.IntegrityError):
            await upsert_units(db, [Unit("K1", "Khối 1", "NOPE")])
        assert await all_units(db) == []
    finally:
        await db.close()


async def test_concurrent_writers_are_serialised(tmp_path: Path) -> None:
    db = await open_db(tmp_path / "bot.sqlite3")
    try:
        await asyncio.gather(
            *(upsert_units(db, [Unit(f"U{n}", f"Đơn vị {n}", None)]) for n in range(50))
        )
        assert len(await all_units(db)) == 50
    finally:
        await db.close()


async def test_a_failed_commit_leaves_the_database_writable(tmp_path: Path) -> None:
    db = await open_db(tmp_path / "bot.sqlite3")
    try:
        # Foreign keys are deferred in upsert_units, so this one fails at COMMIT itself.
        with pytest.raises(sqlite3.IntegrityError):
            await upsert_units(db, [Unit("K1", "Khối 1", "MISSING")])
        await upsert_units(db, [Unit("40", "Tỉnh Nghệ An", None)])
        assert await all_units(db) == [Unit("40", "Tỉnh Nghệ An", None)]
    finally:
        await db.close()


async def test_two_processes_opening_a_new_database_at_once_both_succeed(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    first, second = Database(path), Database(path)
    await asyncio.gather(first.open(), second.open())
    try:
        assert await first.applied_migrations() == await second.applied_migrations()
        assert len(await first.applied_migrations()) == len(bundled_migrations())
    finally:
        await first.close()
        await second.close()


async def test_opening_waits_for_another_process_holding_a_new_file(tmp_path: Path) -> None:
    """The bot and an admin command starting together: the other one is mid-write.

    SQLite answers "database is locked" at once, without waiting out busy_timeout, to a
    switch to WAL while another connection holds the write lock. Holding that lock on
    purpose reproduces the race every time.
    """
    path = tmp_path / "bot.sqlite3"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        other.execute("CREATE TABLE placeholder (x INTEGER)")
        other.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.3, lambda: other.execute("COMMIT"))
        release.start()
        db = await open_db(path)
        try:
            assert len(await db.applied_migrations()) == len(bundled_migrations())
        finally:
            await db.close()
        release.join()
    finally:
        other.close()


async def test_many_processes_opening_one_new_database_all_succeed(tmp_path: Path) -> None:
    for round_ in range(10):
        path = tmp_path / f"bot-{round_}.sqlite3"
        dbs = [Database(path) for _ in range(4)]
        await asyncio.gather(*(db.open() for db in dbs))
        for db in dbs:
            assert len(await db.applied_migrations()) == len(bundled_migrations())
            await db.close()
