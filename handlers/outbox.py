"""The outbox drain: sends committed proactive messages, paced, and retries by purpose.

Producers (an urgent report now; reminders and digests next) commit rows with whatever
caused them. The drain job sends what is due; a producer that must know at once how a
message went (the member is told how many supervisors got the alert) sends its own rows
straight away. A row being sent is claimed in memory, so it is never sent twice at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import replace
from datetime import timedelta

from telegram import Bot, InputFile, InputMediaPhoto, Message, ReplyParameters
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError, TimedOut

from domain.clock import Clock
from domain.outbox import (
    Document,
    Failure,
    LinkButton,
    Location,
    Payload,
    Photos,
    next_attempt,
    policy_for,
)
from presentation.keyboards import inline_markup
from storage.db import Database
from storage.outbox import (
    OutboxRow,
    due_messages,
    made_file,
    mark_attempting,
    mark_blocked,
    mark_failed,
    mark_sent,
    message_state,
    outbox_status,
    sent_message_id,
    settle_interrupted,
)

log = logging.getLogger(__name__)

# Telegram allows about 30 messages a second in all; proactive sends keep to fewer, so
# that members filling a form always find room for their replies.
PROACTIVE_PER_SECOND = 20.0
# And about one a second to one chat.
PER_CHAT_INTERVAL = 1.0

# No retry is ever put off longer than this; one due later was scheduled before the wall
# clock was set back.
LONGEST_WAIT = timedelta(hours=2)

# A drain sends what pacing lets go within this many seconds and leaves the rest to the
# next (every OUTBOX_INTERVAL): so a drain, and a graceful stop waiting for it, is short.
DRAIN_HORIZON = 4.0

# Rounds of sending for one report: each may add the next level up of an urgent alert.
MAX_ROUNDS = 16

LegacyRenderer = Callable[[OutboxRow], Awaitable[Payload | None]]
# Given a row about to be sent and its payload, the payload as it should go now; None if
# it is no longer needed (an edit of an alert whose own message has not gone out yet).
Preparer = Callable[[OutboxRow, Payload], Awaitable[Payload | None]]

# Telegram's refusal of a tg://user?id= button when that user's privacy settings forbid
# links to their account (BUTTON_USER_PRIVACY_RESTRICTED), or when it does not know them.
USER_BUTTON_REFUSED = "button_user_"
USER_LINK = "tg://user"
# An edit to what the message already says: the edit is as good as made.
NOT_MODIFIED = "message is not modified"


class Pacer:
    """Hands out send times: a global rate, and one message a second per chat.

    Times come from the monotonic clock, so a wall clock set back or forward changes
    nothing here.
    """

    def __init__(
        self,
        per_second: float = PROACTIVE_PER_SECOND,
        per_chat: float = PER_CHAT_INTERVAL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval = 1.0 / per_second
        self._per_chat = per_chat
        self._monotonic = monotonic
        self._next_any = 0.0
        self._next_chat: dict[int, float] = {}

    def reserve(
        self, chat_id: int, *, follow_up: bool = False, within: float | None = None
    ) -> float | None:
        """Reserve the next free moment for a chat; returns how long to wait for it, or
        None, reserving nothing, if that is longer than ``within`` seconds.

        A follow-up (the pin and photos after an alert) keeps to the overall rate only:
        Telegram tolerates a short burst to one chat, and they belong with their message.
        The overall slot taken is the next free one, whatever the chat's own wait: one
        chat waiting its second does not hold the other chats back.
        """
        now = self._monotonic()
        overall = max(now, self._next_any)
        start = overall if follow_up else max(overall, self._next_chat.get(chat_id, 0.0))
        if within is not None and start - now > within:
            return None
        if not follow_up:
            self._next_chat[chat_id] = start + self._per_chat
        self._next_any = overall + self._interval
        if len(self._next_chat) > 10_000:
            self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}
        return start - now

    async def wait_turn(
        self, chat_id: int, *, follow_up: bool = False, within: float | None = None
    ) -> bool:
        """Wait for the chat's turn; False, at once, if it is more than ``within`` away."""
        delay = self.reserve(chat_id, follow_up=follow_up, within=within)
        if delay is None:
            return False
        if delay > 0:
            await asyncio.sleep(delay)
        return True


def classify(error: TelegramError) -> tuple[Failure, timedelta | None]:
    """How a failed send should be retried, from Telegram's answer."""
    if isinstance(error, Forbidden | BadRequest):
        return Failure.PERMANENT, None  # blocked the bot, chat gone, message refused
    if isinstance(error, RetryAfter):
        wait = error.retry_after
        return Failure.FLOOD, wait if isinstance(wait, timedelta) else timedelta(seconds=wait)
    if isinstance(error, TimedOut):
        return Failure.TIMEOUT, None
    return Failure.TRANSIENT, None


class OutboxSender:
    """Sends outbox rows; one per process, shared by the drain job and producers."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        pacer: Pacer | None = None,
        legacy: LegacyRenderer | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.pacer = pacer or Pacer()
        self.legacy = legacy
        # Told of every message given up for good (an alert then goes one level up).
        self.given_up: Callable[[OutboxRow], Awaitable[None]] | None = None
        # Brings a payload up to date as it is sent (an alert acknowledged meanwhile).
        self.prepare: Preparer | None = None
        # Rows being sent, and whether each went: never sent twice at once, and a
        # producer waiting for its rows learns what came of those the drain took.
        self._claimed: dict[int, tuple[asyncio.Future[bool], int | None]] = {}
        self._draining = False
        # When each failed row is due again, on the monotonic clock: a wall clock set back
        # must not hold retries up (nor forward make them early).
        self._due_at: dict[int, float] = {}

    async def settle_interrupted(self) -> None:
        """At start-up: decide on the messages a dead process was in the middle of sending."""
        resent, dropped = await settle_interrupted(
            self.db, lambda purpose: policy_for(purpose).resend_interrupted
        )
        if resent or dropped:
            log.warning(
                "%d message(s) interrupted by a stop will be sent again; %d given up, as they"
                " may have arrived", resent, dropped,
            )  # fmt: skip

    async def drain(self, bot: Bot) -> int:
        """Send every message that is due; returns how many went. Overlapping calls skip."""
        if self._draining:
            return 0
        self._draining = True
        try:
            now, ticks = self.clock.now(), self.clock.monotonic()
            due = [row_id for row_id, at in self._due_at.items() if at <= ticks]
            rows = await due_messages(
                self.db, now, also=due, horizon=now + LONGEST_WAIT, waiting=list(self._due_at)
            )
            return await self._send_all(bot, rows, within=DRAIN_HORIZON)
        finally:
            self._draining = False

    async def send_for_report(
        self, bot: Bot, report_id: int, purpose: str, *, only: Collection[str] | None = None
    ) -> int:
        """Send a report's pending messages now, whatever their time; returns how many of
        the purpose have gone, whoever sent them (the drain job may have taken some).

        Messages a failure adds on the way (an alert that reached nobody goes one level
        up) are sent too; one that failed and waits for a retry is not tried again here.
        ``only``: send just the messages of these purposes (the rest wait for the drain).
        """
        tried: set[int] = set()
        for _ in range(MAX_ROUNDS):
            rows = [
                row
                for row in await due_messages(self.db, report_id=report_id)
                if row.id not in tried and (only is None or row.item.purpose in only)
            ]
            if not rows:
                break
            tried.update(row.id for row in rows)
            await self._send_all(bot, rows, wait=True)
        # Any the drain took before this looked at them: wait until they are done.
        taken = [claim for claim, report in self._claimed.values() if report == report_id]
        if taken:
            await asyncio.gather(*taken)
        return (await outbox_status(self.db, report_id, purpose)).get("sent", 0)

    async def pending_for_report(self, report_id: int, purpose: str) -> int:
        """How many of a report's messages of a purpose are still to be sent (retrying)."""
        return (await outbox_status(self.db, report_id, purpose)).get("pending", 0)

    async def _send_all(
        self,
        bot: Bot,
        rows: Iterable[OutboxRow],
        *,
        wait: bool = False,
        within: float | None = None,
    ) -> int:
        """Send the rows nobody is sending; with ``wait``, count those others were sending."""
        rows = list(rows)
        others = [self._claimed[row.id][0] for row in rows if row.id in self._claimed]
        mine = [row for row in rows if row.id not in self._claimed]
        # Chats that answered 403 during this batch: the rest of their rows are not tried.
        blocked: set[int] = set()
        for row in mine:
            claim = asyncio.get_running_loop().create_future()
            self._claimed[row.id] = (claim, row.item.report_id)
        results = await asyncio.gather(
            *(self._send_claimed(bot, row, blocked, within) for row in mine),
            return_exceptions=True,
        )
        sent = sum(1 for result in results if result is True)
        if wait and others:
            sent += sum(1 for went in await asyncio.gather(*others) if went)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return sent

    async def _send_claimed(
        self, bot: Bot, row: OutboxRow, blocked: set[int], within: float | None
    ) -> bool:
        """Send one claimed row; its claim is released when that row is done, whatever."""
        went = False
        try:
            went = await self._send(bot, row, blocked, within)
            return went
        finally:
            claim, _ = self._claimed.pop(row.id)
            claim.set_result(went)

    async def _send(
        self, bot: Bot, row: OutboxRow, blocked: set[int], within: float | None = None
    ) -> bool:
        item = row.item
        payload = item.payload
        if payload is None and self.legacy is not None:
            payload = await self.legacy(row)
        if payload is None:
            await mark_failed(self.db, row.id, "nothing to send", None)
            log.error("outbox %s (%s) has nothing to send; given up", row.id, item.key)
            return False
        if self.prepare is not None:
            prepared = await self.prepare(row, payload)
            if prepared is None:
                await mark_failed(self.db, row.id, "no longer needed", None)
                log.info("outbox %s (%s) is no longer needed", row.id, item.key)
                return False
            payload = prepared
        edited: int | None = None
        if payload.replaces is not None:
            edited = await sent_message_id(self.db, payload.replaces)
            if edited is None:
                await mark_failed(self.db, row.id, "the message it edits was not sent", None)
                log.info("outbox %s (%s): the message it edits was not sent", row.id, item.key)
                return False
        answering: int | None = None
        if payload.reply_to is not None:
            # A reply waits for the message it answers (an alert still being retried),
            # and is not sent at all to someone that message never reached.
            state, answering = await message_state(self.db, payload.reply_to)
            if state == "pending":
                return False  # still due: a later drain sends it after the alert
            if state != "sent":
                await mark_failed(self.db, row.id, "the message it answers was not sent", None)
                log.info("outbox %s (%s): the message it answers was not sent", row.id, item.key)
                return False
        content = None
        if payload.file is not None:
            content = await made_file(self.db, payload.file.file_id)
            if content is None:
                await mark_failed(self.db, row.id, "the file is gone", None)
                log.error("outbox %s (%s): its file is gone; given up", row.id, item.key)
                return False
        if not await self.pacer.wait_turn(item.chat_id, within=within):
            return False  # its turn is beyond this drain: the next one takes it
        if item.chat_id in blocked:  # given up when the chat's 403 came (mark_blocked)
            return False
        if not policy_for(item.purpose).resend_interrupted:
            # Killed mid-send, it may have arrived: at start-up it is not sent again.
            await mark_attempting(self.db, row.id)
        try:
            message_id = await self._deliver(bot, item.chat_id, payload, content, edited, answering)
        except TelegramError as error:
            if isinstance(error, Forbidden):
                blocked.add(item.chat_id)
            await self._failed(row, error)
            return False
        await mark_sent(self.db, row.id, message_id)
        self._due_at.pop(row.id, None)
        if edited is None:
            await self._send_attachments(bot, item.chat_id, payload, message_id)
        return True

    async def _deliver(
        self,
        bot: Bot,
        chat_id: int,
        payload: Payload,
        content: bytes | None,
        edited: int | None,
        answering: int | None = None,
    ) -> int:
        """Send the message, or make the edit; returns the message's id.

        A tg://user?id= button Telegram refuses (the user's privacy settings forbid it)
        is left out and the message sent at once without it: the message matters more.
        """
        try:
            return await self._send_message(bot, chat_id, payload, content, edited, answering)
        except BadRequest as error:
            # python-telegram-bot drops "Bad Request: " and capitalises what is left.
            said = str(error).lower()
            if edited is not None and NOT_MODIFIED in said:
                return edited
            if USER_BUTTON_REFUSED not in said or not _has_user_link(payload):
                raise
            log.warning("chat %s: a link to a user was refused (%s); sent without it", chat_id,
                        error)  # fmt: skip
            return await self._send_message(bot, chat_id, _without_user_links(payload), content,
                                            edited, answering)  # fmt: skip

    @staticmethod
    async def _send_message(
        bot: Bot,
        chat_id: int,
        payload: Payload,
        content: bytes | None,
        edited: int | None,
        answering: int | None = None,
    ) -> int:
        markup = inline_markup(payload.buttons)
        if edited is not None:
            await bot.edit_message_text(
                payload.text, chat_id=chat_id, message_id=edited, reply_markup=markup
            )
            return edited
        if payload.file is None or content is None:
            # The message replied to may have been deleted since: then it goes on its own.
            reply = (
                ReplyParameters(answering, allow_sending_without_reply=True)
                if answering is not None
                else None
            )
            sent_text = await bot.send_message(
                chat_id, payload.text, reply_markup=markup, reply_parameters=reply
            )
            return sent_text.message_id
        upload = InputFile(content, filename=payload.file.filename)
        sent: Message
        if payload.file.photo:
            sent = await bot.send_photo(
                chat_id, upload, caption=payload.text or None, reply_markup=markup
            )
        else:
            sent = await bot.send_document(
                chat_id, upload, caption=payload.text or None, reply_markup=markup
            )
        return sent.message_id

    async def _failed(self, row: OutboxRow, error: TelegramError) -> None:
        failure, retry_after = classify(error)
        if isinstance(error, Forbidden):
            dropped = await mark_blocked(self.db, row.item.chat_id)
            log.warning(
                "chat %s blocked the bot; %d more message(s) for it given up",
                row.item.chat_id, max(dropped - 1, 0),
            )  # fmt: skip
        now = self.clock.now()
        retry_at = next_attempt(
            policy_for(row.item.purpose), failure, row.attempts + 1, row.created_at, now,
            retry_after,
        )  # fmt: skip
        await mark_failed(self.db, row.id, str(error), retry_at)
        if retry_at is None:
            self._due_at.pop(row.id, None)
            if self.given_up is not None:
                await self.given_up(row)
        else:
            self._due_at[row.id] = self.clock.monotonic() + (retry_at - now).total_seconds()
        if retry_at is None:
            log.error(
                "outbox %s (%s) to chat %s given up after %s: %s",
                row.id, row.item.key, row.item.chat_id, failure.value, error,
            )  # fmt: skip
        else:
            log.warning("outbox %s (%s) will be retried: %s", row.id, row.item.key, error)

    async def _send_attachments(
        self, bot: Bot, chat_id: int, payload: Payload, message_id: int
    ) -> None:
        # The message itself is marked sent: what follows it is a courtesy, and is not
        # retried, so that a retry never repeats the message.
        try:
            for attachment in payload.attachments:
                await self.pacer.wait_turn(chat_id, follow_up=True)
                match attachment:
                    case Location(latitude, longitude):
                        await bot.send_location(chat_id, latitude=latitude, longitude=longitude)
                    case Photos(file_ids) if len(file_ids) == 1:
                        await bot.send_photo(chat_id, file_ids[0])
                    case Photos(file_ids):
                        await bot.send_media_group(
                            chat_id, [InputMediaPhoto(file_id) for file_id in file_ids]
                        )
                    case Document(file_id):
                        await bot.send_document(chat_id, file_id)
        except TelegramError as error:
            log.warning("attachments of message %s not sent: %s", message_id, error)


def _has_user_link(payload: Payload) -> bool:
    return any(
        isinstance(button, LinkButton) and button.url.startswith(USER_LINK)
        for row in payload.buttons
        for button in row
    )


def _without_user_links(payload: Payload) -> Payload:
    rows = (
        tuple(
            button
            for button in row
            if not (isinstance(button, LinkButton) and button.url.startswith(USER_LINK))
        )
        for row in payload.buttons
    )
    return replace(payload, buttons=tuple(row for row in rows if row))
