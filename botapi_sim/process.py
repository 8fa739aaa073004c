"""Running the real ``python bot.py`` (and its admin commands) against the loopback fake.

For the tests and benches that kill the process: every setting is explicit, so neither a
.env file nor the caller's shell leaks in.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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


@dataclass
class BotProcess:
    """One run of ``python bot.py`` with its output in a log file."""

    number: int
    popen: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]

    def output(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """kill -9, the way a crash or the OOM killer ends it: no clean-up runs."""
        assert self.popen.poll() is None, f"bot run {self.number} died early:\n{self.output()}"
        os.kill(self.popen.pid, signal.SIGKILL)
        self.killed()

    def killed(self) -> None:
        """Wait for the end of a run killed with kill -9 (by kill(), or by a test's hook)."""
        self.popen.wait(timeout=10)
        assert self.popen.returncode == -signal.SIGKILL, self.output()
        self.log.close()

    def stop(self) -> int:
        """SIGTERM, as systemd or docker stop sends it; waits for the process to exit."""
        assert self.alive(), f"bot run {self.number} died early:\n{self.output()}"
        self.popen.send_signal(signal.SIGTERM)
        try:
            code = self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired as error:
            raise AssertionError(
                f"bot run {self.number} did not stop within 30 s of SIGTERM:\n{self.output()}"
            ) from error
        self.log.close()
        return code

    def reap(self) -> None:
        """Teardown: make sure the process is gone and its log closed, whatever happened."""
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(timeout=10)
        if not self.log.closed:
            self.log.close()


@dataclass
class BotRunner:
    """Starts bot processes on one database; teardown reaps every one of them."""

    env: dict[str, str]
    log_dir: Path
    runs: list[BotProcess] = field(default_factory=list)

    def start(self) -> BotProcess:
        number = len(self.runs) + 1
        log_path = self.log_dir / f"bot-run-{number}.log"
        popen, log = start_bot(self.env, log_path)
        run = BotProcess(number, popen, log_path, log)
        self.runs.append(run)
        return run

    def reap_all(self) -> None:
        for run in self.runs:
            run.reap()

    def logs(self) -> str:
        return "\n".join(
            f"--- bot run {run.number} ---\n{run.log_path.read_text('utf-8', errors='replace')}"
            for run in self.runs
        )

    def wait_until(self, condition: Callable[[], bool], describe: str, timeout: float) -> None:
        """Poll until a condition holds; fail with every run's log if it does not in time,
        or if the running process dies meanwhile."""
        deadline = time.monotonic() + timeout
        while not condition():
            run = self.runs[-1]
            if not run.alive():
                raise AssertionError(f"bot run {run.number} died waiting for {describe}\n"
                                     f"{self.logs()}")  # fmt: skip
            if time.monotonic() > deadline:
                raise AssertionError(f"no {describe} within {timeout} s\n{self.logs()}")
            time.sleep(0.02)

    def wait_started(self, run: BotProcess, timeout: float) -> float:
        """Wait until a run has started polling; returns when that was seen (monotonic)."""
        self.wait_until(lambda: "Application started" in run.output(), "start-up", timeout)
        return time.monotonic()
