"""Running the admin command line in-process, and looking at what it left: for CLI tests."""

from __future__ import annotations

import asyncio
import io
import itertools
import sqlite3
import unicodedata
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from bot import cli
from botapi_sim import FakeTelegram
from botapi_sim.driver import TOKEN

BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Run:
    status: int
    out: str
    err: str


def environment(db: Path, language: str | None = None, token: str | None = TOKEN) -> dict[str, str]:
    environ = {"BOT_DB_PATH": str(db), "BOT_TIMEZONE": "Asia/Ho_Chi_Minh"}
    if token is not None:
        environ["TELEGRAM_BOT_TOKEN"] = token
    if language is not None:
        environ["BOT_LANGUAGE"] = language
    return environ


def run_cli(
    argv: Sequence[str],
    db: Path,
    *,
    language: str | None = None,
    token: str | None = TOKEN,
    telegram: FakeTelegram | None = None,
) -> Run:
    """One invocation of the command line; the developer's .env is never read."""
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(
        list(argv),
        environ=environment(db, language, token),
        env_file=None,
        request=telegram,
        out=out,
        err=err,
    )
    return Run(status, out.getvalue(), err.getvalue())


async def run_cli_async(
    argv: Sequence[str], db: Path, *, telegram: FakeTelegram | None = None
) -> Run:
    """The same from an async test: cli.main runs its own event loop, so use a thread."""
    return await asyncio.to_thread(lambda: run_cli(argv, db, telegram=telegram))


def snapshot(db_path: Path) -> list[str]:
    """Every table, index and row of the database as SQL; [] when there is no file."""
    if not db_path.exists():
        return []
    with closing(sqlite3.connect(db_path)) as connection:
        return list(connection.iterdump())


def rows(db_path: Path, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
    with closing(sqlite3.connect(db_path)) as connection:
        connection.row_factory = sqlite3.Row
        return list(connection.execute(sql, params).fetchall())


def write(path: Path, content: str | bytes) -> Path:
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def cp1258(text: str) -> bytes:
    """Text as Windows saves it in Vietnamese "ANSI": tone marks as combining characters."""
    return b"".join(_cp1258_char(char) for char in text)


def _cp1258_char(char: str) -> bytes:
    decomposed = unicodedata.normalize("NFD", char)
    base, marks = decomposed[0], decomposed[1:]
    for order in itertools.permutations(marks):
        for split in range(len(order), -1, -1):
            head = unicodedata.normalize("NFC", base + "".join(order[:split]))
            try:
                return head.encode("cp1258") + "".join(order[split:]).encode("cp1258")
            except UnicodeEncodeError:
                continue
    raise ValueError(f"{char!r} has no Windows-1258 form")
