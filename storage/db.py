"""The SQLite database: one writer connection, one read-only connection, migrations."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

Params = Sequence[Any] | dict[str, Any]


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def bundled_migrations() -> list[Migration]:
    """The numbered .sql files shipped in storage/migrations, in order."""
    found = []
    for entry in resources.files("storage.migrations").iterdir():
        if entry.name.endswith(".sql"):
            number, _, rest = entry.name.partition("_")
            found.append(
                Migration(int(number), rest.removesuffix(".sql"), entry.read_text("utf-8"))
            )
    return sorted(found, key=lambda migration: migration.version)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Database:
    """Owns the connections; every write runs in BEGIN IMMEDIATE … COMMIT under one lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    async def open(self, migrations: Iterable[Migration] | None = None) -> None:
        """Create the file and its folder if needed, set pragmas, apply migrations.

        On any failure every connection opened so far is closed again: aiosqlite's
        worker threads would otherwise keep a process that should exit alive.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._writer = await self._connect()
            async with self._writer.execute("PRAGMA journal_mode=WAL") as cursor:
                mode = await cursor.fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                raise sqlite3.OperationalError(f"{self.path}: could not switch to WAL ({mode})")
            await self._writer.execute("PRAGMA synchronous=FULL")
            await self._writer.execute("PRAGMA foreign_keys=ON")
            await self._migrate(bundled_migrations() if migrations is None else list(migrations))
            # Reads go through their own connection so they never see another
            # coroutine's half-finished write transaction on the writer.
            self._reader = await self._connect()
            await self._reader.execute("PRAGMA query_only=ON")
        except BaseException:
            await self.close()
            raise

    async def _connect(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            connection.row_factory = sqlite3.Row
            await connection.execute("PRAGMA busy_timeout=5000")
        except BaseException:
            await connection.close()
            raise
        return connection

    async def close(self) -> None:
        for connection in (self._reader, self._writer):
            if connection is not None:
                await connection.close()
        self._reader = self._writer = None

    async def _migrate(self, migrations: list[Migration]) -> None:
        writer = self._require(self._writer)
        await writer.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        for migration in migrations:
            async with writer.execute(
                "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
            ) as cursor:
                if await cursor.fetchone():
                    continue
            # The script carries its own transaction (executescript would commit each
            # statement) and records itself first: if another process (the bot and an
            # admin command starting together) applied it meanwhile, that insert fails
            # before any of the migration runs, and the migration is simply skipped.
            record = (
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES "
                f"({migration.version}, '{migration.name}', '{utc_now().isoformat()}');"
            )
            try:
                await writer.executescript(f"BEGIN IMMEDIATE;\n{record}\n{migration.sql}\nCOMMIT;")
            except sqlite3.IntegrityError:
                await self._rollback(writer)
                async with writer.execute(
                    "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
                ) as cursor:
                    if await cursor.fetchone() is None:
                        raise
            except BaseException:
                await self._rollback(writer)
                raise

    @staticmethod
    async def _rollback(writer: aiosqlite.Connection) -> None:
        # SQLite may already have rolled back (e.g. disk full); a second ROLLBACK would
        # raise and hide the original error.
        if writer.in_transaction:
            await writer.execute("ROLLBACK")

    async def applied_migrations(self) -> list[tuple[int, str]]:
        rows = await self.fetch_all("SELECT version, name FROM schema_migrations ORDER BY version")
        return [(row["version"], row["name"]) for row in rows]

    @staticmethod
    def _require(connection: aiosqlite.Connection | None) -> aiosqlite.Connection:
        if connection is None:
            raise RuntimeError("the database is not open")
        return connection

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run the block as one write transaction; roll back if it raises."""
        writer = self._require(self._writer)
        async with self._write_lock:
            committed = False
            try:
                await writer.execute("BEGIN IMMEDIATE")
                yield writer
                await writer.execute("COMMIT")
                committed = True
            finally:
                # Whatever went wrong (the block, the COMMIT itself, a cancellation),
                # no transaction may outlive the lock: every later write would fail.
                if not committed:
                    await self._rollback(writer)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        reader = self._require(self._reader)
        async with reader.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        reader = self._require(self._reader)
        async with reader.execute(sql, params) as cursor:
            row: sqlite3.Row | None = await cursor.fetchone()
            return row


async def fetch_one_in(
    connection: aiosqlite.Connection, sql: str, params: Params = ()
) -> sqlite3.Row | None:
    """Read one row inside a write transaction."""
    async with connection.execute(sql, params) as cursor:
        row: sqlite3.Row | None = await cursor.fetchone()
        return row


async def mark_update(connection: aiosqlite.Connection, update_id: int | None) -> bool:
    """Record that an update changed state; False if it already had (a replay)."""
    if update_id is None:
        return True
    cursor = await connection.execute(
        "INSERT OR IGNORE INTO processed_updates (update_id, processed_at) VALUES (?, ?)",
        (update_id, utc_now().isoformat()),
    )
    return cursor.rowcount == 1


async def update_seen(connection: aiosqlite.Connection, update_id: int | None) -> bool:
    """Whether an update already changed state."""
    if update_id is None:
        return False
    row = await fetch_one_in(
        connection, "SELECT 1 FROM processed_updates WHERE update_id = ?", (update_id,)
    )
    return row is not None
