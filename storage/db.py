"""The SQLite database: one writer connection, one read-only connection, migrations.

A storage function hands the database a plain function over a ``Tx``; the whole of it
runs in the connection's own thread, inside one transaction. That is one thread hop
per transaction instead of one per statement, which is most of what a write costs.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import sqlite3
import stat
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from domain.clock import Clock, SystemClock

Params = Sequence[Any] | dict[str, Any]
T = TypeVar("T")
log = logging.getLogger(__name__)

# Another process (the bot and an admin command, or two commands) may hold the file
# while this one switches it to WAL; SQLite answers "locked" at once there, without
# waiting out busy_timeout, so the switch is retried for about this long.
WAL_SWITCH_PATIENCE = 10.0
BUSY_TIMEOUT_MS = 5000
# Bookkeeping deferred with Database.defer rides along with the next write, or is
# written on its own after this many seconds if no write comes.
DEFER_FLUSH_DELAY = 0.5


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


class Tx:
    """One transaction, as seen by a storage function running in the database's thread.

    ``now`` is read once when the transaction begins, so every timestamp one change
    writes is the same moment, and comes from the bot's one clock.
    """

    def __init__(self, connection: sqlite3.Connection, now: datetime) -> None:
        self.connection = connection
        self.now = now

    def execute(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        return self.connection.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Params]) -> sqlite3.Cursor:
        return self.connection.executemany(sql, rows)

    def one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.connection.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return list(self.connection.execute(sql, params).fetchall())

    def once(self, key: str) -> bool:
        """Take a once-key; False if it was taken before, and then nothing should change.

        The key is recorded in this transaction: if the change fails, so does the key.
        """
        cursor = self.execute(
            "INSERT OR IGNORE INTO once_keys (key, taken_at) VALUES (?, ?)",
            (key, self.now.isoformat()),
        )
        return cursor.rowcount == 1

    def taken(self, key: str) -> bool:
        """Whether a once-key was taken already."""
        return self.one("SELECT 1 FROM once_keys WHERE key = ?", (key,)) is not None


def update_key(update_id: int) -> str:
    """The once-key of a Telegram update: its change is made once, however often it comes."""
    return f"update:{update_id}"


async def _in_thread(connection: aiosqlite.Connection, work: Callable[[], T]) -> T:
    # aiosqlite runs everything on its connection's own thread through this queue;
    # handing it the whole transaction at once is the round-trip saving. The method is
    # internal to aiosqlite, hence the pinned version and this single place that uses it.
    return cast(T, await connection._execute(work))  # type: ignore[no-untyped-call]


class Unusable(StrEnum):
    """Why a database file cannot be used."""

    READ_ONLY = "read_only"
    CORRUPT = "corrupt"
    NOT_A_DATABASE = "not_a_database"


class DatabaseUnusable(Exception):
    """The database cannot be trusted with members' reports; nothing in it was changed.

    ``detail`` is what SQLite or the system said, for the administrator.
    """

    def __init__(self, path: Path, reason: Unusable, detail: str) -> None:
        super().__init__(f"{path}: {reason.value} ({detail})")
        self.path = path
        self.reason = reason
        self.detail = detail


# SQLite's answers (primary result codes) that mean the file itself cannot be used.
# CANTOPEN at this point is the folder refusing the -wal, -shm or -journal beside it.
_UNUSABLE_CODES = {
    sqlite3.SQLITE_READONLY: Unusable.READ_ONLY,
    sqlite3.SQLITE_CANTOPEN: Unusable.READ_ONLY,
    sqlite3.SQLITE_PERM: Unusable.READ_ONLY,
    sqlite3.SQLITE_CORRUPT: Unusable.CORRUPT,
    sqlite3.SQLITE_NOTADB: Unusable.NOT_A_DATABASE,
}
_REFUSED = (errno.EACCES, errno.EPERM, errno.EROFS)
_WAL_SUFFIXES = ("-wal", "-shm")


class Database:
    """Owns the connections; every write runs in BEGIN IMMEDIATE … COMMIT, one at a time."""

    def __init__(self, path: Path, clock: Clock | None = None) -> None:
        self.path = path
        self.clock: Clock = clock or SystemClock()
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._quick: sqlite3.Connection | None = None
        self._deferred: list[tuple[str, Params, str | None]] = []
        # Tags of deferred statements taken by writes still running: not yet in the file.
        self._writing_tags: Counter[str] = Counter()
        self._flush: asyncio.TimerHandle | None = None
        self._flushing: set[asyncio.Task[None]] = set()
        # Transactions run, by kind: what `make bench` reports per answer.
        self.counts: Counter[str] = Counter()

    async def open(self, migrations: Iterable[Migration] | None = None) -> None:
        """Create the file and its folder if needed, check, set pragmas, apply migrations.

        Raises ``DatabaseUnusable``, having changed nothing, if the file cannot be
        written, is damaged or is not a database: the bot would otherwise start, take
        members' answers and lose them. On any failure every connection opened so far
        is closed again: aiosqlite's worker threads would otherwise keep a process that
        should exit alive.
        """
        self._create_privately()
        try:
            self._writer = await self._connect()
            await _in_thread(self._writer, self._prepare_writer)
            chosen = bundled_migrations() if migrations is None else list(migrations)
            await _in_thread(self._writer, lambda: self._migrate(chosen))
            # Reads go through their own connection so they never see a write
            # transaction half done.
            self._reader = await self._connect()
            await self._reader.execute("PRAGMA query_only=ON")
            self._quick = self._connect_quick()
        except BaseException:
            await self.close()
            raise

    def _connect_quick(self) -> sqlite3.Connection:
        """A read-only connection used on the event loop's own thread, never waiting.

        A handful of indexed lookups take a few microseconds; handing them to a thread
        and back costs ten times that. In WAL mode a reader does not wait for writers; it
        can find the file busy only while another process recovers it after a crash or
        holds it in exclusive mode. With no busy timeout it never stalls the loop then:
        the read goes to the reader's thread, which waits.
        """
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA busy_timeout=0")
        connection.execute("PRAGMA query_only=ON")
        return connection

    async def _connect(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            connection.row_factory = sqlite3.Row
            await connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        except BaseException:
            await connection.close()
            raise
        return connection

    def _create_privately(self) -> None:
        """Make missing folders 0700 and a missing file 0600, whatever the umask.

        The database holds names, Telegram ids, report texts and positions: created with
        these modes, it is never readable by other local users, not even for a moment.
        An empty file is a valid, empty database. Existing folders are left as they are:
        the path may point into a folder shared with other things.
        """
        missing = []
        folder = self.path.parent
        while not folder.exists() and folder != folder.parent:
            missing.append(folder)
            folder = folder.parent
        try:
            for folder in reversed(missing):
                folder.mkdir(mode=0o700, exist_ok=True)
            if self.path.is_dir():
                raise DatabaseUnusable(self.path, Unusable.NOT_A_DATABASE, "a folder")
            with suppress(FileExistsError):  # there already, or another process made it
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except OSError as error:
            if error.errno in _REFUSED:
                detail = error.strerror or str(error)
                raise DatabaseUnusable(self.path, Unusable.READ_ONLY, detail) from error
            raise

    def _check_usable(self, connection: sqlite3.Connection) -> None:
        """Refuse a file that is not a database, is damaged, or cannot be written.

        Nothing reaches the file: the write that proves it can be written is rolled back.
        """
        try:
            # The first problem is enough for the administrator; the others follow in
            # the same row after a "*** in database main ***" line.
            rows = connection.execute("PRAGMA quick_check").fetchall()
            problems = [
                line
                for row in rows
                for line in str(row[0]).splitlines()
                if line.strip() and not line.startswith("***")
            ]
            if problems != ["ok"]:
                raise DatabaseUnusable(self.path, Unusable.CORRUPT, (problems or [""])[0])
            # BEGIN IMMEDIATE alone succeeds on a read-only file in WAL mode (SQLite
            # 3.40 does); writing a page, even with the value it already has, is what
            # SQLite refuses there.
            connection.execute("BEGIN IMMEDIATE")
            try:
                version = int(connection.execute("PRAGMA user_version").fetchone()[0])
                connection.execute(f"PRAGMA user_version={version}")
            finally:
                self._rollback(connection)
        except sqlite3.DatabaseError as error:
            code = getattr(error, "sqlite_errorcode", None)
            reason = None if code is None else _UNUSABLE_CODES.get(code & 0xFF)
            if reason is None:
                raise
            raise DatabaseUnusable(self.path, reason, str(error)) from error

    def _make_private(self) -> None:
        """Take group and other permissions off the file and its -wal and -shm.

        Earlier versions left them 0644, readable by every local user: an upgraded
        deployment is tightened the first time it opens. SQLite gives a new -wal or
        -shm the file's own mode, so they follow.
        """
        for path in (self.path, *(self.path.with_name(self.path.name + s) for s in _WAL_SUFFIXES)):
            try:
                mode = stat.S_IMODE(path.stat().st_mode)
                if mode & 0o077:
                    path.chmod(mode & ~0o077)
            except FileNotFoundError:
                continue
            except OSError as error:
                log.warning("cannot make %s private to its owner: %s", path, error.strerror)

    def _prepare_writer(self) -> None:
        connection = self._require(self._writer)._conn
        self._check_usable(connection)
        # Only once the file is known to be this bot's database: a mistyped
        # BOT_DB_PATH must not change the mode of some other file.
        self._make_private()
        deadline = time.monotonic() + WAL_SWITCH_PATIENCE
        while True:
            try:
                mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()
                break
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        if mode is None or str(mode[0]).lower() != "wal":
            raise sqlite3.OperationalError(f"{self.path}: could not switch to WAL ({mode})")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA foreign_keys=ON")

    async def close(self) -> None:
        """Write what is deferred, then close every connection whatever happened."""
        try:
            if self._writer is not None and self._deferred:
                await self.flush_deferred()
        except sqlite3.Error:
            # Only bookkeeping whose loss is harmless; the connections must still close,
            # or aiosqlite's threads keep the process from exiting.
            log.warning("deferred bookkeeping not written at close", exc_info=True)
        finally:
            if self._flush is not None:
                self._flush.cancel()
                self._flush = None
            if self._quick is not None:
                self._quick.close()
                self._quick = None
            for connection in (self._reader, self._writer):
                if connection is not None:
                    await connection.close()
            self._reader = self._writer = None

    def _migrate(self, migrations: list[Migration]) -> None:
        connection = self._require(self._writer)._conn
        connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        for migration in migrations:
            if connection.execute(
                "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
            ).fetchone():
                continue
            # The script carries its own transaction (executescript would commit each
            # statement) and records itself first: if another process (the bot and an
            # admin command starting together) applied it meanwhile, that insert fails
            # before any of the migration runs, and the migration is simply skipped.
            # Foreign keys are off while a migration rebuilds tables, as SQLite's
            # procedure for that requires, and checked whole before it commits.
            record = (
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES "
                f"({migration.version}, '{migration.name}', '{self.clock.now().isoformat()}');"
            )
            connection.execute("PRAGMA foreign_keys=OFF")
            try:
                connection.executescript(f"BEGIN IMMEDIATE;\n{record}\n{migration.sql}")
                if connection.execute("PRAGMA foreign_key_check").fetchone() is not None:
                    raise sqlite3.IntegrityError(
                        f"migration {migration.version} ({migration.name}) breaks a foreign key"
                    )
                connection.execute("COMMIT")
            except sqlite3.IntegrityError:
                self._rollback(connection)
                if (
                    connection.execute(
                        "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
                    ).fetchone()
                    is None
                ):
                    raise
            except BaseException:
                self._rollback(connection)
                raise
            finally:
                connection.execute("PRAGMA foreign_keys=ON")

    @staticmethod
    def _rollback(connection: sqlite3.Connection) -> None:
        # SQLite may already have rolled back (e.g. disk full); a second ROLLBACK would
        # raise and hide the original error.
        if connection.in_transaction:
            connection.execute("ROLLBACK")

    async def applied_migrations(self) -> list[tuple[int, str]]:
        rows = await self.fetch_all("SELECT version, name FROM schema_migrations ORDER BY version")
        return [(row["version"], row["name"]) for row in rows]

    @staticmethod
    def _require(connection: aiosqlite.Connection | None) -> aiosqlite.Connection:
        if connection is None:
            raise RuntimeError("the database is not open")
        return connection

    async def write(self, work: Callable[[Tx], T], *, until_power_loss: bool = False) -> T:
        """Run ``work`` as one write transaction; roll it back whole if it raises.

        ``until_power_loss``: commit without waiting for the disk (synchronous=NORMAL for
        this transaction). In WAL mode such a commit survives the process being killed,
        not the machine losing power before the next full commit, which writes it to disk
        with its own. For receipts that are followed at once by the change they lead to:
        it saves that change's answer a second fsync.
        """
        writer = self._require(self._writer)
        self.counts["writes"] += 1
        self.counts["fsyncs"] += not until_power_loss
        now = self.clock.now()
        deferred, self._deferred = self._deferred, []
        # Their tags count as not yet written until this transaction commits.
        tags = Counter(tag for _, _, tag in deferred if tag is not None)
        self._writing_tags += tags

        def transaction() -> T:
            connection = writer._conn
            if until_power_loss:
                connection.execute("PRAGMA synchronous=NORMAL")
            try:
                connection.execute("BEGIN IMMEDIATE")
                try:
                    for sql, params, _ in deferred:
                        connection.execute(sql, params)
                    result = work(Tx(connection, now))
                    connection.execute("COMMIT")
                except BaseException:
                    # Whatever went wrong (the work, the COMMIT itself), no transaction may
                    # outlive this call: every later write would fail.
                    self._rollback(connection)
                    raise
            finally:
                if until_power_loss:
                    connection.execute("PRAGMA synchronous=FULL")
            return result

        # The connection's one thread runs one transaction at a time, in order: that is
        # the write lock.
        try:
            result = await _in_thread(writer, transaction)
        except BaseException:
            self._deferred[:0] = deferred  # not written: they go with the next write
            self._schedule_flush()
            raise
        finally:
            self._writing_tags -= tags
        return result

    def defer(self, sql: str, params: Params = (), *, tag: str | None = None) -> None:
        """Queue bookkeeping whose loss in a crash is harmless; it rides with the next write.

        Marking an update answered is such bookkeeping: a write of its own would cost an
        fsync per answer, and losing it only means a member is shown their question again.
        """
        self._deferred.append((sql, params, tag))
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._flush is None and self._deferred:
            self._flush = asyncio.get_running_loop().call_later(
                DEFER_FLUSH_DELAY, self._start_flush
            )

    def _start_flush(self) -> None:
        self._flush = None
        task = asyncio.get_running_loop().create_task(self._flush_quietly())
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def _flush_quietly(self) -> None:
        try:
            await self.flush_deferred()
        except sqlite3.Error:
            # Kept queued and tried again (write() scheduled another flush on failure).
            log.warning("deferred bookkeeping not written yet", exc_info=True)

    def is_deferred(self, tag: str) -> bool:
        """Whether bookkeeping with this tag is queued or being written, not yet in the file."""
        return self._writing_tags[tag] > 0 or any(t == tag for _, _, t in self._deferred)

    async def flush_deferred(self) -> None:
        """Write deferred bookkeeping now, if there is any."""
        if self._deferred and self._writer is not None:
            await self.write(lambda tx: None)

    async def read(self, work: Callable[[Tx], T], *, quick: bool = False) -> T:
        """Run ``work`` over one consistent snapshot on a read-only connection.

        ``quick``: the work is a few indexed lookups (what every update reads first), run
        on the calling thread unless another process holds the file.
        """
        reader = self._require(self._reader)
        self.counts["reads"] += 1
        now = self.clock.now()
        if quick and self._quick is not None:
            try:
                return self._snapshot(self._quick, work, now)
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) and "busy" not in str(error):
                    raise
        return await _in_thread(reader, lambda: self._snapshot(reader._conn, work, now))

    @staticmethod
    def _snapshot(connection: sqlite3.Connection, work: Callable[[Tx], T], now: datetime) -> T:
        connection.execute("BEGIN")
        try:
            return work(Tx(connection, now))
        finally:
            connection.execute("COMMIT")

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return await self.read(lambda tx: tx.all(sql, params))

    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        return await self.read(lambda tx: tx.one(sql, params))


def forget_old_once_keys(tx: Tx, prefix: str, older_than: datetime) -> int:
    """Drop once-keys of a kind that can no longer come back (e.g. updates after a week)."""
    cursor = tx.execute(
        "DELETE FROM once_keys WHERE key >= ? AND key < ? AND taken_at < ?",
        # A range on the primary key: every key with the prefix, using its index.
        (prefix, prefix + "\U0010ffff", older_than.isoformat()),
    )
    return cursor.rowcount
