"""The loopback HTTP transport: the simulator as a server, for tests that run the bot as a process.

It speaks the Bot API's wire format (``POST /bot<token>/<method>``, form-encoded, multipart or
JSON bodies, ``{"ok": ..., "result": ...}`` answers) and hands every request to the same
``BotApi`` the in-process transport uses. What only a server has is here: it keeps updates the
way Telegram does (an update stays queued until a ``getUpdates`` call with a greater ``offset``
confirms it, so a process killed before it confirmed an update gets that update again after a
restart), and it can hold replies and confirmations as if they died with the process.

Only the standard library is used; every wait is bounded.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

from botapi_sim.core import ApiError, BotApi, Call

# A call parked by park_replies() or a held confirmation gives up after this long.
PARK_LIMIT = 30.0
# Handler sockets never block longer than this on a silent peer.
SOCKET_TIMEOUT = 15.0


def parse_body(content_type: str, body: bytes) -> dict[str, Any]:
    """The parameters of a Bot API request, whichever encoding the client chose."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return {}
    if media_type == "application/json":
        try:
            parsed = json.loads(body)
        except json.JSONDecodeError as error:
            raise ApiError(400, "Bad Request: can't parse JSON object") from error
        if not isinstance(parsed, dict):
            raise ApiError(400, "Bad Request: parameters must be a JSON object")
        return parsed
    if media_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    if media_type == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        params: dict[str, Any] = {}
        files: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                continue
            payload = part.get_payload(decode=True)
            raw = payload if isinstance(payload, bytes) else b""
            filename = part.get_filename()
            if filename is not None:
                # A file, kept byte for byte; a parameter refers to it by its own name or
                # as "attach://<name>", which BotApi resolves as Telegram does.
                files[name] = {"filename": filename, "size": len(raw), "content": raw}
            else:
                params[name] = raw.decode("utf-8")
        # Telegram keeps files apart from parameters: a file never hides a parameter.
        return {**files, **params}
    raise ApiError(400, f"Bad Request: unsupported content type {media_type!r}")


class _Server(ThreadingHTTPServer):
    # Handler threads are joined on close, so no socket outlives the fake.
    daemon_threads = False
    block_on_close = True
    # Python's default of 5 pending connections resets a burst of the bot's concurrent
    # requests (dozens at once after a restart); Telegram does not.
    request_queue_size = 128
    fake: FakeBotApiServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return  # a killed bot process hung up mid-request: expected here
        self.fake.note_problem(f"handler error: {error!r}")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = SOCKET_TIMEOUT

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        return  # keep test output quiet; calls are recorded instead

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, answer = self.server.fake.handle(
            self.path, self.headers.get("Content-Type", ""), body
        )
        payload = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (ConnectionError, TimeoutError):
            pass  # the caller was killed while we answered


class FakeBotApiServer:
    """Bot API over HTTP on 127.0.0.1; the test queues updates and reads the recorded calls."""

    def __init__(
        self, token: str, *, max_poll_wait: float = 1.0, api: BotApi | None = None
    ) -> None:
        self.token = token
        self.max_poll_wait = max_poll_wait
        # The bot process reads real time; messages carry it as Telegram's would.
        self.api = api if api is not None else BotApi(now=lambda: int(time.time()))
        # One lock for the simulator and the server's own state, so waits see every call.
        self._cond = threading.Condition(self.api.lock)
        self.api.on_record = lambda call: self._cond.notify_all()
        self._pending: list[dict[str, Any]] = []
        self._deliveries: Counter[int] = Counter()
        self._problems: list[str] = []
        self._update_ids: Iterator[int] = itertools.count(1)
        self._hold_after: int | None = None
        self._hold_generation = 0
        self._parked: list[Call] = []
        self._parking = False
        self._park_generation = 0
        self._stopping = False
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.fake = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-bot-api"
        )
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._httpd is not None:
            self._httpd.shutdown()
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeBotApiServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "the fake Bot API server is not running"
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """What TELEGRAM_API_BASE_URL is set to: the token and method are appended."""
        return f"http://127.0.0.1:{self.port}/bot"

    # --- what the test does -----------------------------------------------------------

    def queue_update(self, payload: dict[str, Any], *, hold_confirmation: bool = False) -> int:
        """Make an update available to getUpdates; returns its update_id.

        With hold_confirmation, getUpdates calls that would confirm this update are parked
        as if they never reached Telegram, until release_confirmations(). That is the window
        in which a process has the update but Telegram does not know it: a process killed
        in it gets the update again when it starts anew.
        """
        with self._cond:
            update_id = next(self._update_ids)
            self._pending.append({"update_id": update_id, **payload})
            if hold_confirmation:
                self._hold_after = update_id
            self._cond.notify_all()
            return update_id

    def release_confirmations(self) -> None:
        """End the hold; parked calls are answered with [] and their offset is ignored."""
        with self._cond:
            self._hold_after = None
            self._hold_generation += 1
            self._cond.notify_all()

    def park_replies(self) -> None:
        """From now on every call but getUpdates hangs unanswered and is never delivered.

        That is a reply lost with the process: the bot committed an answer and was killed
        before Telegram took its reply. Parked calls are listed by parked_calls().
        """
        with self._cond:
            self._parking = True

    def release_replies(self) -> None:
        """End the parking; calls still parked are answered 502 and stay undelivered."""
        with self._cond:
            self._parking = False
            self._park_generation += 1
            self._cond.notify_all()

    def parked_calls(self) -> list[Call]:
        with self._cond:
            return list(self._parked)

    def calls(self, method: str | None = None) -> list[Call]:
        with self._cond:
            if method is not None:
                return self.api.of(method)
            return list(self.api.calls)

    def call_count(self) -> int:
        with self._cond:
            return len(self.api.calls)

    def fail_next(
        self, method: str, status: int = 500, description: str = "Internal Server Error",
        *, retry_after: int | None = None, chat_id: int | None = None, times: int = 1,
    ) -> None:  # fmt: skip
        """Make the next calls of a method (to one chat, if given) fail as Telegram would."""
        self.api.fail_next(
            method, status, description, retry_after=retry_after, chat_id=chat_id, times=times
        )

    def deliveries(self, update_id: int) -> int:
        """How many times getUpdates has handed out this update."""
        with self._cond:
            return self._deliveries[update_id]

    def wait_for_deliveries(self, update_id: int, count: int, timeout: float = 20.0) -> int:
        """Wait until getUpdates has handed out an update ``count`` times; returns the count."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._deliveries[update_id] < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stopping:
                    break
                self._cond.wait(min(remaining, 0.2))
            return self._deliveries[update_id]

    def pending_update_ids(self) -> list[int]:
        """Updates not yet confirmed by a getUpdates offset."""
        with self._cond:
            return [u["update_id"] for u in self._pending]

    @property
    def problems(self) -> list[str]:
        """Requests the real Bot API would have refused or that the fake does not know."""
        with self._cond:
            return [*self.api.problems, *self._problems]

    def note_problem(self, problem: str) -> None:
        with self._cond:
            self._problems.append(problem)

    def wait_for_call(
        self,
        predicate: Callable[[Call], bool],
        *,
        after: int = 0,
        timeout: float = 20.0,
        describe: str = "a matching call",
    ) -> Call:
        """The first call from index ``after`` on that matches, waiting up to ``timeout``."""
        return self._wait(self.api.calls, predicate, after, timeout, describe)

    def wait_for_parked(
        self,
        predicate: Callable[[Call], bool],
        *,
        timeout: float = 20.0,
        describe: str = "a matching parked call",
    ) -> Call:
        """The first call parked by park_replies() that matches, waiting up to ``timeout``."""
        return self._wait(self._parked, predicate, 0, timeout, describe)

    def _wait(
        self,
        calls: list[Call],
        predicate: Callable[[Call], bool],
        after: int,
        timeout: float,
        describe: str,
    ) -> Call:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for call in calls[after:]:
                    if predicate(call):
                        return call
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stopping:
                    break
                self._cond.wait(min(remaining, 0.5))
            recent = [
                (c.method, c.params.get("text"))
                for c in calls[after:]
                if c.method != "getUpdates" or c.result
            ][-15:]
        raise TimeoutError(f"no {describe} within {timeout} s; calls since: {recent}")

    # --- the Bot API ------------------------------------------------------------------

    def handle(self, path: str, content_type: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """Answer one HTTP request: (status, JSON body)."""
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            # Cut short: the path holds the (wrong) token.
            self.note_problem(f"request outside the bot's path: {path[:12]}...")
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        method = path[len(prefix) :].split("?", 1)[0]
        try:
            params = parse_body(content_type, body)
        except ApiError as error:
            self.note_problem(f"{method}: {error.description}")
            return error.status, error.body()
        if method.lower() == "getupdates":
            return self.api.request(method, params, serve=self._get_updates)
        if self._park(method, params):
            return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        return self.api.request(method, params)

    def _park(self, method: str, params: dict[str, Any]) -> bool:
        """Hold a call while replies are parked; True if it was (and is now lost)."""
        with self._cond:
            if not self._parking:
                return False
            self._parked.append(Call(method, params))
            self._cond.notify_all()
            generation = self._park_generation
            park_until = time.monotonic() + PARK_LIMIT
            while (
                not self._stopping
                and self._park_generation == generation
                and (remaining := park_until - time.monotonic()) > 0
            ):
                self._cond.wait(remaining)
            return True

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        wait = min(float(params.get("timeout") or 0), self.max_poll_wait)
        with self._cond:
            if self._hold_after is not None and offset > self._hold_after:
                generation = self._hold_generation
                park_until = time.monotonic() + PARK_LIMIT
                while (
                    not self._stopping
                    and self._hold_generation == generation
                    and (remaining := park_until - time.monotonic()) > 0
                ):
                    self._cond.wait(remaining)
                return []  # this offset never "reached Telegram": nothing is confirmed
            if offset > 0:
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
            deadline = time.monotonic() + wait
            while True:
                ready = [u for u in self._pending if u["update_id"] >= offset][:limit]
                remaining = deadline - time.monotonic()
                if ready or self._stopping or remaining <= 0:
                    break
                self._cond.wait(remaining)
            for update in ready:
                self._deliveries[update["update_id"]] += 1
            return [json.loads(json.dumps(update)) for update in ready]
