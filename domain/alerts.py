"""An urgent alert's own rules, as pure functions: when it climbs, who may close it.

An urgent incident's alert is open until a supervisor acknowledges it ("Tiếp nhận"),
then acknowledged until it is resolved ("Đã xử lý"). While it is open it climbs the unit
tree one level every ``BOT_ESCALATE_AFTER`` (domain/routing.py says which level).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from domain.access import ADMIN, SUPERVISOR, Actor, UnitTree
from domain.models import Member

DEFAULT_ESCALATE_AFTER = timedelta(minutes=15)
# The escalation job looks this often; a shorter wait could not be kept.
SHORTEST_ESCALATE_AFTER = timedelta(seconds=30)
LONGEST_ESCALATE_AFTER = timedelta(hours=24)

_INTERVAL = re.compile(r"(?:(\d{1,4})h)?(?:(\d{1,5})m)?(?:(\d{1,6})s)?")


def parse_interval(text: str) -> timedelta | None:
    """Read "15m", "1h", "1h30m", "90s", or a bare number of minutes ("15").

    None for anything else, for zero, and for a wait outside 30 seconds to 24 hours.
    """
    cleaned = text.strip().lower().replace(" ", "")
    if cleaned.isdigit() and len(cleaned) <= 5:
        interval = timedelta(minutes=int(cleaned))
    else:
        match = _INTERVAL.fullmatch(cleaned)
        if not cleaned or match is None:
            return None
        hours, minutes, seconds = (int(part) if part else 0 for part in match.groups())
        interval = timedelta(hours=hours, minutes=minutes, seconds=seconds)
    if not SHORTEST_ESCALATE_AFTER <= interval <= LONGEST_ESCALATE_AFTER:
        return None
    return interval


def escalation_due(last_raised: datetime, after: timedelta, now: datetime) -> bool:
    """Whether an alert still open, last sent up the tree at ``last_raised`` (or
    submitted then), has waited long enough to go one level further up."""
    return now - last_raised >= after


def may_resolve(actor: Actor, acknowledger: Actor | None, tree: UnitTree) -> bool:
    """Who may mark an acknowledged alert resolved, besides what the access rules say.

    The supervisor who took it on, an admin, or a supervisor of a unit above the
    acknowledger's (who answers for them, and may close it when they cannot): not a peer
    of the same unit, who would close what someone else is handling.
    """
    if acknowledger is None or not actor.active:
        return False
    if actor.id == acknowledger.id or actor.role == ADMIN:
        return True
    return (
        actor.role == SUPERVISOR
        and actor.unit_code != acknowledger.unit_code
        and tree.is_within(acknowledger.unit_code, actor.unit_code)
    )


def chat_link(member: Member) -> str:
    """A link that opens a private chat with the member in one tap.

    With a username, https://t.me/<username> always works. Without one, tg://user?id=
    works where the member's privacy settings allow it; Telegram refuses a message whose
    button it is otherwise, and the outbox then sends the message without the button.
    """
    if member.username:
        return f"https://t.me/{member.username}"
    return f"tg://user?id={member.telegram_user_id}"
