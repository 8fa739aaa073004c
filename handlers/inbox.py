"""Receiving updates durably, and handling them concurrently across chats, in order within one.

python-telegram-bot confirms a batch of updates to Telegram (with its next getUpdates) as
soon as it has fetched it, before handling it; a process killed in between lost them. Here
each batch is written to the inbox before it is handed to python-telegram-bot, so the
confirmation never comes first. An update that cannot be read is set aside instead of
making python-telegram-bot fetch the same batch again forever.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor
from telegram.request import BaseRequest, RequestData

from storage.db import Database
from storage.inbox import mark_done, record_arrivals
from storage.updates import mark_answered

log = logging.getLogger(__name__)

# Updates being handled at once, across chats. One chat's are always handled one by one.
MAX_CONCURRENT = 64
# The update kinds the bot handles; Telegram sends no others (getUpdates allowed_updates).
ALLOWED_UPDATES = ("message", "callback_query")


def placeholder(update_id: int) -> dict[str, Any]:
    """What python-telegram-bot is handed in place of an update that must not be handled.

    It keeps the update's number, so that the next getUpdates still confirms it.
    """
    return {"update_id": update_id}


class Receiver:
    """Writes each batch to the inbox; hands on only what is new and readable.

    The write is queued on the database's writer, ahead of any change the batch's
    updates will make, and not waited for here: handling starts at once. The next
    getUpdates, which confirms the batch to Telegram, waits for it (``settled``).
    """

    def __init__(self, db: Database, decode: Callable[[dict[str, Any]], object]) -> None:
        self.db = db
        self.decode = decode
        self._receipt: asyncio.Future[None] | None = None

    async def take(self, payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # One received before (Telegram sends it again after a restart) is handed on all
        # the same: if it was handled, its once-key makes the gate drop it; if not, it is
        # handled now.
        handed: list[dict[str, Any]] = []
        fresh = list(payloads)
        unreadable: dict[int, str] = {}
        for payload in payloads:
            update_id = int(payload["update_id"])
            try:
                self.decode(payload)
            except Exception as error:  # any failure to read sets it aside
                # Logged once, by kind only: the payload holds members' words.
                unreadable[update_id] = f"{type(error).__name__}: unreadable update"
                log.error("update %s set aside: %s", update_id, type(error).__name__)
                handed.append(placeholder(update_id))
                continue
            handed.append(payload)
        if fresh:
            # Started before any task handling these updates, so it reaches the writer
            # (which runs transactions in order) first.
            recording = asyncio.ensure_future(self._write_down(fresh, unreadable))
            earlier = self._receipt
            if earlier is None or earlier.done():
                self._receipt = recording
            else:
                self._receipt = asyncio.ensure_future(_after(earlier, recording))
        return handed

    async def _write_down(self, payloads: list[dict[str, Any]], unreadable: dict[int, str]) -> None:
        """Write a batch down, trying until it is: until then Telegram is told nothing."""
        delay = 0.5
        while True:
            try:
                await record_arrivals(self.db, payloads, unreadable)
                return
            except sqlite3.Error as error:
                log.error(
                    "could not write down %d update(s); trying again: %s", len(payloads), error
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def settled(self) -> None:
        """Wait until every batch taken so far is written down."""
        if self._receipt is not None:
            receipt = self._receipt
            # Shielded: python-telegram-bot cancels a pending getUpdates when it stops,
            # and that must not cancel the writing down itself.
            await asyncio.shield(receipt)
            if self._receipt is receipt:
                self._receipt = None


async def _after(earlier: asyncio.Future[None], recording: asyncio.Future[None]) -> None:
    """Done when both the earlier receipts and this one are."""
    await earlier
    await recording


class InboxRequest(BaseRequest):
    """The getUpdates connection, writing each batch to the inbox before returning it."""

    def __init__(self, inner: BaseRequest, receiver: Callable[[], Receiver | None]) -> None:
        self.inner = inner
        self.receiver = receiver

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        receiver = self.receiver()
        if receiver is not None and url.endswith("/getUpdates"):
            # This call confirms the batches before it to Telegram: only once they are
            # written down (while the database cannot be written, this waits).
            await receiver.settled()
        status, body = await self.inner.do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if status != 200 or not url.endswith("/getUpdates") or receiver is None:
            return status, body
        answer = json.loads(body)
        updates = answer.get("result")
        if not answer.get("ok") or not isinstance(updates, list) or not updates:
            return status, body
        # If this write fails, the error reaches python-telegram-bot's polling loop, which
        # asks again later without having confirmed anything: nothing is lost.
        answer["result"] = await receiver.take(updates)
        return status, json.dumps(answer).encode()


Finished = Callable[[int], None]


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Handles updates of different chats at once and one chat's in the order they came.

    python-telegram-bot hands each update over and moves on (it sees a processor of one),
    while this runs the update after the ones before it from the same chat, with at most
    MAX_CONCURRENT running. Once an update is handled to the end, ``finished`` records it.
    """

    def __init__(self, finished: Finished, limit: int = MAX_CONCURRENT) -> None:
        super().__init__(max_concurrent_updates=1)
        self.finished = finished
        self._running = asyncio.BoundedSemaphore(limit)
        self._last: dict[object, asyncio.Future[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.in_flight: set[int] = set()  # update ids taken in and not yet handled

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        """Let every update taken in be handled before the process goes."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        self.submit(update, coroutine)

    def submit(self, update: object, coroutine: Awaitable[Any]) -> asyncio.Task[None]:
        """Queue an update behind its chat's earlier ones; the task ends when it is handled."""
        key = _chat_key(update)
        before = self._last.get(key)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._last[key] = mine
        task = asyncio.create_task(self._run(update, coroutine, before, mine, key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if isinstance(update, Update):
            update_id = update.update_id
            self.in_flight.add(update_id)
            task.add_done_callback(lambda _: self.in_flight.discard(update_id))
        return task

    async def _run(
        self,
        update: object,
        coroutine: Awaitable[Any],
        before: asyncio.Future[None] | None,
        mine: asyncio.Future[None],
        key: object,
    ) -> None:
        try:
            if before is not None:
                await asyncio.shield(before)
            async with self._running:
                await coroutine
            if isinstance(update, Update):
                self.finished(update.update_id)
        finally:
            mine.set_result(None)
            if self._last.get(key) is mine:
                del self._last[key]


def _chat_key(update: object) -> object:
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return ("user", update.effective_user.id)
        return ("update", update.update_id)
    return ("object", id(update))


def finisher(db: Database, failed: set[int], now: Callable[[], Any]) -> Finished:
    """Record an update handled to the end: answered, and done in the inbox.

    An update whose change could not be saved stays new in the inbox, to be handled again.
    """

    def finished(update_id: int) -> None:
        if update_id in failed:
            failed.discard(update_id)
            return
        mark_answered(db, update_id, now())
        mark_done(db, update_id)

    return finished
