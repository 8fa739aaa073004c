"""Proactive messages: what one is made of, and when a failed one is tried again.

Every message the bot sends on its own (urgent alerts now; reminders, overdue lists,
digests and review notices next) is a row of one outbox, committed with whatever
caused it and sent afterwards by one drain. This module is the pure half of that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


@dataclass(frozen=True)
class CallbackButton:
    text: str
    data: str


@dataclass(frozen=True)
class LinkButton:
    text: str
    url: str


Button = CallbackButton | LinkButton


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Photos:
    file_ids: tuple[str, ...]


@dataclass(frozen=True)
class Document:
    file_id: str


Attachment = Location | Photos | Document


@dataclass(frozen=True)
class MadeFile:
    """A file the bot made (a digest's chart or spreadsheet), kept in the database until
    its message is sent; sent as a photo or as a document."""

    file_id: int
    filename: str
    photo: bool = False


@dataclass(frozen=True)
class Payload:
    """A message as it will be sent: HTML text, inline buttons, then its attachments.

    With ``file``, the message is that file and the text its caption. With ``replaces``
    (the outbox key of a message sent before, to the same chat), it is not a new message:
    that one is edited to this text and these buttons (an alert once acknowledged). With
    ``reply_to`` (likewise a key), it is sent as a reply to that message when it was sent
    (what a member adds to an urgent incident, under its alert), else on its own.
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    attachments: tuple[Attachment, ...] = ()
    file: MadeFile | None = None
    replaces: str | None = None
    reply_to: str | None = None


@dataclass(frozen=True)
class OutboxItem:
    """One message to one chat for one purpose; its key makes producing it twice a no-op."""

    key: str
    purpose: str
    chat_id: int
    payload: Payload | None  # None: rendered when sent (rows carried over from old versions)
    recipient_id: int | None = None
    report_id: int | None = None


class Failure(StrEnum):
    """How a send failed, as far as retrying is concerned."""

    TIMEOUT = "timeout"  # it may have arrived: a retry may make a duplicate
    TRANSIENT = "transient"  # 5xx, network down: it did not arrive, try again
    FLOOD = "flood"  # 429: try again after Telegram's retry_after
    PERMANENT = "permanent"  # blocked, chat gone, message refused: retrying cannot help


@dataclass(frozen=True)
class RetryPolicy:
    """How one purpose of message is retried."""

    resend_after_timeout: bool  # True where a duplicate is a lesser harm than a loss
    give_up_after: timedelta
    # A send cut off by the process dying: Telegram may have delivered it, and nothing
    # tells. True to send it again at start-up, False to give it up.
    resend_interrupted: bool = False
    backoff: tuple[timedelta, ...] = field(
        default=(timedelta(seconds=10), timedelta(seconds=30), timedelta(minutes=1))
    )


# Urgent alerts: a duplicate is the lesser harm, and an outage of a day is waited out.
ALERT_POLICY = RetryPolicy(
    resend_after_timeout=True, give_up_after=timedelta(days=1), resend_interrupted=True
)
# Digests: a timed-out upload (the likeliest cause: a slow link) did not arrive, so it is
# tried again; one a dying process was sending is given up rather than risk sending the
# same digest twice.
DIGEST_POLICY = RetryPolicy(
    resend_after_timeout=True,
    give_up_after=timedelta(hours=12),
    backoff=(timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10)),
)
# Everything else that is not yet more specific: a duplicate reminder is an annoyance.
DEFAULT_POLICY = RetryPolicy(
    resend_after_timeout=False,
    give_up_after=timedelta(hours=6),
    backoff=(timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10)),
)
# An urgent alert's copies edited to say who took it: an edit made twice changes nothing,
# so one that timed out or was interrupted is made again.
ALERT_EDIT_POLICY = RetryPolicy(
    resend_after_timeout=True, give_up_after=timedelta(days=1), resend_interrupted=True
)
POLICIES: dict[str, RetryPolicy] = {
    "alert": ALERT_POLICY,
    "alert_edit": ALERT_EDIT_POLICY,
    # What a member adds to an urgent incident matters as the alert does.
    "alert_more": ALERT_POLICY,
    "digest": DIGEST_POLICY,
}


def policy_for(purpose: str) -> RetryPolicy:
    return POLICIES.get(purpose, DEFAULT_POLICY)


def next_attempt(
    policy: RetryPolicy,
    failure: Failure,
    attempts: int,
    created_at: datetime,
    now: datetime,
    retry_after: timedelta | None = None,
) -> datetime | None:
    """When to try a failed message again; None to give up on it.

    ``attempts`` counts the failed one. A message is given up after its policy's time
    since it was made, whatever the clock did meanwhile.
    """
    if failure is Failure.PERMANENT:
        return None
    if failure is Failure.TIMEOUT and not policy.resend_after_timeout:
        return None
    if failure is Failure.FLOOD and retry_after is not None:
        delay = retry_after
    else:
        delay = policy.backoff[min(attempts, len(policy.backoff)) - 1]
    # A wall clock set back must not push the give-up moment out of reach, nor forward
    # make a fresh message look ancient: the age is measured from whichever is later.
    age = max(now - created_at, timedelta(0))
    if age + delay > policy.give_up_after:
        return None
    return now + delay
