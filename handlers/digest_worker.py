"""The digest worker: another process for the heavy part of a digest (numbers, chart,
spreadsheet), so that members' answers never wait behind it on the event loop."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class DigestWorker:
    """Runs digest work in another process, so that answers never wait for a chart.

    The process is started on first use and kept; if it dies, the next use starts a new
    one. Tests may hand in an executor of their own (shared between applications).
    """

    def __init__(self, executor: Executor | None = None, timeout: float = 15 * 60) -> None:
        self._given = executor
        self._pool: Executor | None = executor
        self.timeout = timeout

    def _executor(self) -> Executor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
        return self._pool

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Run a function in the worker; a worker that died is replaced once, and one that
        takes longer than ``timeout`` is stopped (TimeoutError), so no job hangs on it."""
        try:
            return await self._run(function, *args)
        except BrokenProcessPool:
            log.error("the digest worker died; starting a new one")
            self._discard()
            return await self._run(function, *args)

    async def _run(self, function: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor(), function, *args)
        try:
            return await asyncio.wait_for(future, self.timeout)
        except TimeoutError:
            log.error("the digest worker took over %.0f s; stopping it", self.timeout)
            self._discard(kill=True)
            raise

    def _discard(self, *, kill: bool = False) -> None:
        """Drop our own pool (a shared one is the test's to manage)."""
        pool = self._pool
        if pool is None or pool is self._given:
            return
        if kill and isinstance(pool, ProcessPoolExecutor):
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None

    def close(self) -> None:
        if self._pool is not None and self._pool is not self._given:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._given
