"""Files only their owner can read, and a database that cannot be trusted refused at start.

The database and the CSV exports hold members' names, Telegram ids, report texts and
positions: the bot (``python bot.py``) and every admin command create the database folder
0700 and every file 0600 whatever the umask, and tighten an existing deployment's files.

A database that cannot be written, is damaged or is not a database at all is refused
before anything else happens, with a message in the deployment's language saying what to
do, exit status 1, no traceback, and the file left byte for byte as it was. Real SQLite
files in ``tmp_path``; the admin commands through ``bot.cli.main``; the bot as a real
process (against a fake Bot API on loopback when it has to get as far as polling).
"""

from __future__ import annotations

import io
import os
import random
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import cli
from botapi_sim import FakeBotApiServer, FakeTelegram
from botapi_sim.driver import TOKEN
from domain.models import ExportedReport
from presentation.export import write_reports_csv
from presentation.i18n import Translator
from storage.db import Database, DatabaseUnusable, Unusable

REPO_ROOT = Path(__file__).resolve().parent.parent
OFFICIAL = Path(__file__).parent / "data" / "units_nghe_an.csv"
T = Translator.load("vi")
LANGUAGES = ("vi", "en")
MESSAGES = {
    Unusable.READ_ONLY: "cli.db_read_only",
    Unusable.CORRUPT: "cli.db_corrupt",
    Unusable.NOT_A_DATABASE: "cli.db_not_a_database",
}
# A Bot API nobody listens on: the database is refused before the bot would call it.
NOWHERE = "http://127.0.0.1:9/bot"


# --- helpers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    status: int
    out: str
    err: str


def run_cli(
    argv: Sequence[str], db: Path, *, language: str = "vi", telegram: FakeTelegram | None = None
) -> Run:
    """One admin command through ``bot.cli.main``; the developer's .env is never read."""
    out, err = io.StringIO(), io.StringIO()
    environ = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "BOT_DB_PATH": str(db),
        "BOT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "BOT_LANGUAGE": language,
    }
    status = cli.main(
        list(argv), environ=environ, env_file=None, request=telegram, out=out, err=err
    )
    return Run(status, out.getvalue(), err.getvalue())


def child_environment(db: Path, language: str, api_base_url: str) -> dict[str, str]:
    """``python bot.py``'s settings, all explicit, so no .env and no shell setting leaks in."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TELEGRAM_", "BOT_", "PYTHON"))
        and name.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
    }
    env.update(
        PYTHONPATH=str(REPO_ROOT),
        PYTHONDONTWRITEBYTECODE="1",
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=api_base_url,
        TELEGRAM_FILE_BASE_URL="",
        BOT_DB_PATH=str(db),
        BOT_TIMEZONE="Asia/Ho_Chi_Minh",
        BOT_LANGUAGE=language,
        NO_PROXY="127.0.0.1,localhost",
    )
    return env


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes_under(top: Path) -> dict[str, str]:
    """Every folder and file under ``top`` (itself included) with its mode, as octal text."""
    found = {".": oct(mode(top))}
    for path in sorted(top.rglob("*")):
        found[path.relative_to(top).as_posix()] = oct(mode(path))
    return found


def wal_files(db: Path) -> list[Path]:
    return [db.with_name(db.name + suffix) for suffix in ("-wal", "-shm")]


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def permissive_umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """Run the test under a umask that would leave new files readable by everyone."""
    wanted: int = request.param
    previous = os.umask(wanted)
    try:
        yield wanted
    finally:
        os.umask(previous)


def import_official_units(db: Path) -> None:
    result = run_cli(["units", "import", str(OFFICIAL)], db)
    assert result.status == 0, result.err


# --- ways a database goes wrong --------------------------------------------------------


@contextmanager
def unwritable(path: Path) -> Iterator[None]:
    """Make a file or folder refuse writes, for this process too, and undo it afterwards.

    Not as root, ``chmod`` does it. Root writes through any mode, but not through the
    immutable attribute (``chattr +i``), which is what a read-only file looks like to
    root; where that is not available (no chattr, a filesystem without it, no
    CAP_LINUX_IMMUTABLE) nothing can make a file read-only for root and the test skips.
    """
    if os.geteuid() != 0:
        original = mode(path)
        path.chmod(0o500 if path.is_dir() else 0o400)
        try:
            yield from _while_refused(path)
        finally:
            path.chmod(original)
        return
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("running as root without chattr: nothing makes a file read-only for root")
    made = subprocess.run(  # noqa: S603 - a fixed tool on a path of our own
        [chattr, "+i", str(path)], capture_output=True, text=True, check=False
    )
    if made.returncode != 0:
        pytest.skip(f"running as root, and chattr +i is refused here: {made.stderr.strip()}")
    try:
        yield from _while_refused(path)
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)  # noqa: S603


def _while_refused(path: Path) -> Iterator[None]:
    """Yield once, having made sure this process really cannot write there."""
    try:
        if path.is_dir():
            (path / "probe").touch()
            (path / "probe").unlink()
        else:
            os.close(os.open(path, os.O_WRONLY))
    except PermissionError:
        yield
        return
    pytest.skip(f"{path} is still writable for this process (a capability?)")


def corrupt_a_table_page(db: Path) -> None:
    """Overwrite 64 bytes in the middle of the units table's page, where its rows are.

    The file header and every other page stay as they were: SQLite opens the file and
    answers queries that do not touch that page, which is how the bot used to take
    reports on a damaged database.
    """
    assert not any(path.exists() for path in wal_files(db)), "everything must be in the file"
    with closing(sqlite3.connect(db)) as connection:
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        page = connection.execute(
            "SELECT rootpage FROM sqlite_schema WHERE name = 'units'"
        ).fetchone()[0]
    with db.open("r+b") as handle:
        handle.seek((page - 1) * page_size + page_size // 2)
        handle.write(b"\xa5" * 64)
    # Only a read-only look, so the check itself leaves no trace in the file.
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as connection:
        answer = connection.execute("PRAGMA quick_check").fetchall()
    assert answer != [("ok",)], "the damage must be the kind quick_check finds"


@contextmanager
def make_fault(fault: str, db: Path) -> Iterator[None]:
    """Leave at ``db`` a database with this fault for as long as the generator runs."""
    db.parent.mkdir(parents=True, exist_ok=True)
    if fault == "not_a_database":
        noise = random.Random(20261127).randbytes(3 * 4096)
        assert not noise.startswith(b"SQLite format 3")
        db.write_bytes(noise)
        yield
    elif fault == "corrupt":
        import_official_units(db)
        corrupt_a_table_page(db)
        yield
    elif fault == "read_only":
        import_official_units(db)
        with unwritable(db):
            yield
    elif fault == "read_only_folder":
        # The file could be written, but not the -wal and -shm SQLite needs beside it.
        import_official_units(db)
        with unwritable(db.parent):
            yield
    else:
        raise AssertionError(fault)


FAULTS = {
    "read_only": Unusable.READ_ONLY,
    "read_only_folder": Unusable.READ_ONLY,
    "corrupt": Unusable.CORRUPT,
    "not_a_database": Unusable.NOT_A_DATABASE,
}


@pytest.fixture(params=list(FAULTS))
def faulty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, Unusable]]:
    """A database with one fault, and the reason it must be refused for."""
    db = tmp_path / "data" / "bot.sqlite3"
    fault: str = request.param
    with make_fault(fault, db):
        yield db, FAULTS[fault]


def assert_refused(err: str, db: Path, reason: Unusable, language: str) -> None:
    """Exactly one line: the message for this reason, in this language, naming the file."""
    before, after = T.plain(language, MESSAGES[reason], path=db, error="\0").split("\0")
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(before), err
    assert lines[0].endswith(after), err


# --- Task: files only their owner can read --------------------------------------------


def test_admin_commands_make_every_folder_0700_and_file_0600(
    permissive_umask: int, tmp_path: Path
) -> None:
    deployment = tmp_path / "srv"
    db = deployment / "data" / "bot.sqlite3"  # two folders to make
    exports = tmp_path / "exports"

    import_official_units(db)
    telegram = FakeTelegram()
    invite = run_cli(["invite", "--unit", "40", "--role", "member"], db, telegram=telegram)
    assert invite.status == 0, invite.err
    export = run_cli(["export", "--out", str(exports / "reports.csv")], db)
    assert export.status == 0, export.err

    assert modes_under(deployment) == {
        ".": "0o700",
        "data": "0o700",
        "data/bot.sqlite3": "0o600",
    }
    assert modes_under(exports) == {".": "0o700", "reports.csv": "0o600"}
    # The command line set its own umask and gave the caller's back.
    assert os.umask(permissive_umask) == permissive_umask


async def test_the_database_and_its_wal_and_shm_are_0600_while_open(
    permissive_umask: int, tmp_path: Path
) -> None:
    """Opened outside the command line too (the Application opens its own)."""
    db = tmp_path / "data" / "bot.sqlite3"
    database = Database(db)
    await database.open()
    try:
        assert all(path.exists() for path in wal_files(db))
        assert modes_under(db.parent) == {
            ".": "0o700",
            "bot.sqlite3": "0o600",
            "bot.sqlite3-shm": "0o600",
            "bot.sqlite3-wal": "0o600",
        }
    finally:
        await database.close()


def test_the_bot_process_makes_its_folder_0700_and_files_0600(tmp_path: Path) -> None:
    """``python bot.py`` under umask 022, looked at once it is polling."""
    db = tmp_path / "data" / "bot.sqlite3"
    with FakeBotApiServer(TOKEN) as server:
        log_path = tmp_path / "bot.log"
        with log_path.open("wb") as log:
            bot = subprocess.Popen(  # noqa: S603 - our own interpreter and entry point
                [sys.executable, str(REPO_ROOT / "bot.py")],
                cwd=tmp_path,
                env=child_environment(db, "vi", server.base_url),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                umask=0o022,
            )
            try:
                server.wait_for_call(lambda call: call.method == "getUpdates", timeout=30)
                found = modes_under(db.parent)
            finally:
                bot.terminate()
                bot.wait(timeout=30)
    assert found == {
        ".": "0o700",
        "bot.sqlite3": "0o600",
        "bot.sqlite3-shm": "0o600",
        "bot.sqlite3-wal": "0o600",
    }, log_path.read_text("utf-8", errors="replace")


def test_an_existing_deployment_is_tightened_when_it_opens(tmp_path: Path) -> None:
    """Files an earlier version left 0644, the old bot still running on them."""
    db = tmp_path / "data" / "bot.sqlite3"
    import_official_units(db)
    db.parent.chmod(0o755)
    db.chmod(0o644)
    with closing(sqlite3.connect(db)) as old_bot:
        old_bot.execute("SELECT count(*) FROM units").fetchone()
        # SQLite gives the -wal and -shm the database's own mode.
        assert [oct(mode(path)) for path in [db, *wal_files(db)]] == ["0o644"] * 3

        again = run_cli(["units", "import", str(OFFICIAL)], db)

        assert again.status == 0, again.err
        assert [oct(mode(path)) for path in [db, *wal_files(db)]] == ["0o600"] * 3
        assert old_bot.execute("SELECT count(*) FROM units").fetchone() == (131,)
    # A folder that was there already may be shared with other things: left alone.
    assert mode(db.parent) == 0o755


class _PartialWatcher:
    """Rows for the export that look at the partial file it is writing, and end."""

    def __init__(self, partial: Path) -> None:
        self.partial = partial
        self.modes: list[int] = []

    def __aiter__(self) -> _PartialWatcher:
        return self

    async def __anext__(self) -> ExportedReport:
        self.modes.append(mode(self.partial))
        raise StopAsyncIteration


async def test_the_export_is_0600_from_the_moment_its_file_exists(tmp_path: Path) -> None:
    target = tmp_path / "reports.csv"
    partial = tmp_path / ".reports.csv.partial"
    # A partial file an interrupted export of an older version left readable by all.
    partial.write_bytes(b"half")
    partial.chmod(0o644)
    watcher = _PartialWatcher(partial)
    previous = os.umask(0)
    try:
        count = await write_reports_csv(watcher, target, T, "vi", ZoneInfo("Asia/Ho_Chi_Minh"), {})
    finally:
        os.umask(previous)
    assert count == 0
    assert watcher.modes == [0o600]
    assert mode(target) == 0o600
    assert not partial.exists()


# --- Task: refuse a database that cannot be trusted -----------------------------------


async def test_opening_a_faulty_database_raises_with_its_reason(
    faulty: tuple[Path, Unusable],
) -> None:
    db, reason = faulty
    before = db.read_bytes()
    with pytest.raises(DatabaseUnusable) as caught:
        await Database(db).open()
    assert caught.value.reason is reason
    assert caught.value.path == db
    assert caught.value.detail
    assert db.read_bytes() == before


async def test_a_folder_where_the_database_should_be_is_not_a_database(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    db.mkdir()
    with pytest.raises(DatabaseUnusable) as caught:
        await Database(db).open()
    assert caught.value.reason is Unusable.NOT_A_DATABASE


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("command", ["units", "invite", "export"])
def test_admin_commands_refuse_a_faulty_database(
    faulty: tuple[Path, Unusable], command: str, language: str, tmp_path: Path
) -> None:
    db, reason = faulty
    before = db.read_bytes()
    telegram = FakeTelegram()
    out = tmp_path / "reports.csv"
    argv = {
        "units": ["units", "import", str(OFFICIAL)],
        "invite": ["invite", "--unit", "40", "--role", "member"],
        "export": ["export", "--out", str(out)],
    }[command]

    result = run_cli(argv, db, language=language, telegram=telegram)

    assert result.status == 1
    assert result.out == ""
    assert_refused(result.err, db, reason, language)
    assert db.read_bytes() == before
    assert telegram.calls == []
    assert not out.exists()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_new_database_in_a_folder_that_refuses_files_is_refused(
    language: str, tmp_path: Path
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    db = folder / "bot.sqlite3"
    with unwritable(folder):
        result = run_cli(["units", "import", str(OFFICIAL)], db, language=language)
    assert result.status == 1
    assert_refused(result.err, db, Unusable.READ_ONLY, language)
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_bot_refuses_a_faulty_database_before_anything_else(
    faulty: tuple[Path, Unusable], language: str, tmp_path: Path
) -> None:
    """``python bot.py``: one line on stderr, status 1, and no Bot API to talk to."""
    db, reason = faulty
    before = db.read_bytes()

    result = subprocess.run(  # noqa: S603 - our own interpreter and script, no shell
        [sys.executable, str(REPO_ROOT / "bot.py")],
        cwd=tmp_path,
        env=child_environment(db, language, NOWHERE),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert_refused(result.stderr, db, reason, language)
    assert db.read_bytes() == before
