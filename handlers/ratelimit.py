"""Telegram's flood limits, kept per chat: one chat's 429 delays only that chat.

python-telegram-bot's AIORateLimiter answers a 429 by pausing every request of the bot
until retry_after has passed, so one member's flood wait froze everyone's answers. Here
the overall rate (about 30 messages a second) is shared, and a 429 holds back only the
chat it names. A wait longer than MAX_WAIT is not waited out in line: the request fails
with RetryAfter, so that the outbox reschedules it and nobody's answers queue behind it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

OVERALL_PER_SECOND = 30
# A flood wait this long or longer is not waited out in line.
MAX_WAIT = 10.0
MAX_RETRIES = 2


def _seconds(retry_after: float | timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else retry_after


class ChatRateLimiter(BaseRateLimiter[None]):
    """The overall rate for every request that names a chat; flood waits per chat."""

    def __init__(
        self,
        overall_per_second: float = OVERALL_PER_SECOND,
        max_wait: float = MAX_WAIT,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._overall = AsyncLimiter(overall_per_second, 1)
        self._max_wait = max_wait
        self._monotonic = monotonic
        self._held_until: dict[object, float] = {}

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat = data.get("chat_id")
        key: object = chat if chat is not None else ("method", endpoint)
        for attempt in range(MAX_RETRIES + 1):
            wait = self._held_until.get(key, 0.0) - self._monotonic()
            if wait > self._max_wait:
                raise RetryAfter(timedelta(seconds=wait))
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                if chat is None:
                    return await callback(*args, **kwargs)
                async with self._overall:
                    return await callback(*args, **kwargs)
            except RetryAfter as error:
                seconds = _seconds(error.retry_after)
                self._held_until[key] = self._monotonic() + seconds
                log.warning("flood wait of %.0f s for %s (%s)", seconds, key, endpoint)
                if attempt == MAX_RETRIES or seconds > self._max_wait:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover
