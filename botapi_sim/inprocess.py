"""The in-process transport: a ``telegram.request.BaseRequest`` that asks the simulator.

The real ``Application`` built with ``request=FakeTelegram()`` sends every Bot API call here
instead of over the network; the answer is the simulator's, byte for byte as the HTTP
server would send it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from telegram.request import BaseRequest, RequestData

from botapi_sim.core import BotApi, Call, Failure


def uploaded_parts(request_data: RequestData) -> dict[str, dict[str, Any]]:
    """The files of a request as multipart parts, in the shape the HTTP transport gives them.

    python-telegram-bot leaves an uploaded file out of ``parameters`` (or sets the parameter
    to "attach://<part>") and puts its (filename, content, mimetype) under the part's name in
    ``multipart_data``; content may be an open file, read here as the HTTP client would.
    """
    parts: dict[str, dict[str, Any]] = {}
    for name, (filename, content, _mimetype) in request_data.multipart_data.items():
        raw = content if isinstance(content, bytes) else content.read()
        parts[name] = {"filename": filename, "size": len(raw), "content": raw}
    return parts


class FakeTelegram(BaseRequest):
    """In-process Bot API. Every request is recorded in ``calls``."""

    def __init__(self, api: BotApi | None = None, *, now: Callable[[], int] | None = None) -> None:
        self.api = api if api is not None else BotApi(now=now)

    # --- the simulator, as tests use it -------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        return self.api.calls

    @property
    def failures(self) -> list[Failure]:
        return self.api.failures

    @property
    def problems(self) -> list[str]:
        """Requests Telegram would have refused (fail_next() failures aside)."""
        return self.api.problems

    def fail_next(
        self, method: str, status: int = 500, description: str = "Internal Server Error",
        *, retry_after: int | None = None, chat_id: int | None = None, times: int = 1,
    ) -> None:  # fmt: skip
        """Make the next calls of a method (to one chat, if given) fail as Telegram would."""
        self.api.fail_next(
            method, status, description, retry_after=retry_after, chat_id=chat_id, times=times
        )

    def sent_to(self, chat_id: int, method: str | None = None) -> list[Call]:
        return self.api.sent_to(chat_id, method)

    def of(self, method: str) -> list[Call]:
        return self.api.of(method)

    # --- BaseRequest --------------------------------------------------------------------

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        assert url.startswith(("http://", "https://")), url
        api_method = url.rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        if request_data is not None and request_data.contains_files:
            # As over HTTP: a file never hides a parameter of the same name.
            params = {**uploaded_parts(request_data), **params}
        status, body = self.api.request(api_method, params)
        return status, json.dumps(body, ensure_ascii=False).encode("utf-8")
