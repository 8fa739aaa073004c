"""Running the real ``python bot.py`` (and its admin commands) against the loopback fake.

For the tests and benches that kill the process: every setting is explicit, so neither a
.env file nor the caller's shell leaks in.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import IO

from botapi_sim.http_server import FakeBotApiServer

REPO_ROOT = Path(__file__).resolve().parent.parent
_PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


def bot_environment(
    server: FakeBotApiServer, db_path: Path, token: str, language: str
) -> dict[str, str]:
    """The environment of a bot process that talks to this fake and uses this database."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TELEGRAM_", "BOT_")) and name.lower() not in _PROXY_VARIABLES
    }
    env.update(
        TELEGRAM_BOT_TOKEN=token,
        TELEGRAM_API_BASE_URL=server.base_url,
        # Empty means "derive it from the API base URL", and it outranks a .env value.
        TELEGRAM_FILE_BASE_URL="",
        BOT_DB_PATH=str(db_path),
        BOT_TIMEZONE="Asia/Ho_Chi_Minh",
        BOT_LANGUAGE=language,
        NO_PROXY="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def run_cli(env: dict[str, str], *args: str) -> str:
    """Run an admin command of bot.py to completion; returns its standard output."""
    finished = subprocess.run(  # noqa: S603 - our own interpreter and entry point
        [sys.executable, "bot.py", *args],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if finished.returncode != 0:
        raise RuntimeError(
            f"bot.py {' '.join(args)} exited with {finished.returncode}:\n"
            f"{finished.stdout}\n{finished.stderr}"
        )
    return finished.stdout


def start_bot(env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
    """Start ``python bot.py`` with its output going to a log file (closed on failure)."""
    log = log_path.open("wb")
    try:
        popen = subprocess.Popen(
            [sys.executable, "bot.py"],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    except BaseException:
        log.close()
        raise
    return popen, log
