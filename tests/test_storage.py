"""The database itself: pragmas, migrations, transactions."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.clock import ManualClock
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


async def test_upgrading_a_working_core_database_keeps_everything(tmp_path: Path) -> None:
    """A database as the first release left it, mid-flight, upgraded by migration 0002."""
    path = tmp_path / "bot.sqlite3"
    db = await open_db(path, bundled_migrations()[:1])
    await db.close()
    with sqlite3.connect(path) as connection:
        connection.executescript(
            """
            INSERT INTO units VALUES ('40', 'Tỉnh Nghệ An', NULL), ('16702', 'Vinh Phú', '40');
            INSERT INTO members VALUES
                (1, 501, 501, 'Lan', NULL, '16702', 'member', 'vi', 1, '2026-11-01'),
                (2, 900, 900, 'Hùng', NULL, '16702', 'supervisor', 'vi', 1, '2026-11-01');
            INSERT INTO invites (code_hash, unit_code, role, created_at, expires_at)
                VALUES ('h', '16702', 'member', '2026-11-01', '2026-12-01');
            INSERT INTO drafts (member_id, kind, step, created_at, updated_at)
                VALUES (1, 'incident', 'cat', 't', 't');
            DELETE FROM drafts;
            INSERT INTO drafts (member_id, kind, step, data, created_at, updated_at)
                VALUES (1, 'activity', 'day', '{"type": "PATROL"}', 't', 't');
            INSERT INTO reports (id, draft_id, kind, member_id, unit_code, category_code,
                occurred_at, period_date, submitted_at, urgent, description)
                VALUES (1, 1, 'incident', 1, '16702', 'FIRE_EXPLOSION', '2026-11-20T01:00:00+00:00',
                    '2026-11-20', '2026-11-20T01:05:00+00:00', 1, 'Cháy kho');
            INSERT INTO report_photos VALUES (1, 0, 'f', 'u', 'photo');
            INSERT INTO alert_deliveries (report_id, recipient_id, attempts) VALUES (1, 2, 3);
            INSERT INTO processed_updates VALUES (77, '2026-11-20T01:05:00+00:00', 0);
            INSERT INTO inflight_updates VALUES (77, 501, 501, '2026-11-20T01:05:00+00:00');
            INSERT INTO processed_updates VALUES (78, '2026-11-20T01:06:00+00:00', 1);
            """
        )
    db = await open_db(path)
    try:
        assert [v for v, _ in await db.applied_migrations()] == [
            m.version for m in bundled_migrations()
        ]
        one = await db.fetch_one("SELECT * FROM reports WHERE id = 1")
        assert one is not None
        assert (one["status"], one["alert_state"], one["description"]) == (
            "submitted", "open", "Cháy kho",
        )  # fmt: skip
        events = await db.fetch_all("SELECT report_id, event, actor_id, at FROM report_events")
        assert [tuple(e) for e in events] == [(1, "submitted", 1, "2026-11-20T01:05:00+00:00")]
        outbox = await db.fetch_all("SELECT key, status, attempts, payload FROM outbox")
        assert [tuple(o) for o in outbox] == [("alert:1:2", "pending", 3, '{"legacy": true}')]
        keys = await db.fetch_all("SELECT key FROM once_keys ORDER BY key")
        assert [k["key"] for k in keys] == ["update:77", "update:78"]
        owed = await db.fetch_all("SELECT update_id, chat_id FROM pending_replies")
        assert [tuple(o) for o in owed] == [(77, 501)]
        draft = await db.fetch_one("SELECT id, member_id, report_id, data FROM drafts")
        assert draft is not None and tuple(draft) == (2, 1, None, '{"type": "PATROL"}')
        assert len(await db.fetch_all("SELECT * FROM members")) == 2
        assert len(await db.fetch_all("SELECT * FROM invites")) == 1
        assert len(await db.fetch_all("SELECT * FROM report_photos")) == 1
        # Draft ids are never reused: the next one follows the highest ever given.
        with sqlite3.connect(path) as connection:
            connection.execute(
                "INSERT INTO drafts (member_id, kind, step, created_at, updated_at, report_id)"
                " VALUES (1, 'incident', 'cat', 't', 't', 1)"
            )
            assert connection.execute("SELECT max(id) FROM drafts").fetchone() == (3,)
            # And the new roles are accepted.
            connection.execute("UPDATE members SET role = 'leader' WHERE id = 1")
    finally:
        await db.close()


async def test_a_once_key_makes_a_change_once_and_fails_with_it(tmp_path: Path) -> None:
    db = await open_db(tmp_path / "bot.sqlite3")
    try:

        def add_unit(tx: Tx) -> bool:
            if not tx.once("import:units:1"):
                return False
            tx.execute("INSERT INTO units (code, name) VALUES ('40', 'Tỉnh Nghệ An')")
            return True

        assert await db.write(add_unit) is True
        assert await db.write(add_unit) is False
        assert await all_units(db) == [Unit("40", "Tỉnh Nghệ An", None)]

        def broken(tx: Tx) -> None:
            tx.once("import:units:2")
            tx.execute("INSERT INTO units (code, name) VALUES ('40', 'again')")

        with pytest.raises(sqlite3.IntegrityError):
            await db.write(broken)
        # The failed change took no key with it: a second attempt may still make it.
        assert await db.fetch_one("SELECT 1 FROM once_keys WHERE key = 'import:units:2'") is None
    finally:
        await db.close()


async def test_every_timestamp_of_a_transaction_comes_from_the_one_clock(tmp_path: Path) -> None:
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    db = Database(tmp_path / "bot.sqlite3", ManualClock(moment))
    await db.open()
    try:
        await db.write(lambda tx: tx.once("k"))
        row = await db.fetch_one("SELECT taken_at FROM once_keys WHERE key = 'k'")
        assert row is not None and row["taken_at"] == moment.isoformat()
        applied = await db.fetch_all("SELECT applied_at FROM schema_migrations")
        assert {r["applied_at"] for r in applied} == {moment.isoformat()}
    finally:
        await db.close()
