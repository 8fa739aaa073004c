"""What every update needs to know first, read in one go: is it new, who sent it, their draft."""

from __future__ import annotations

from dataclasses import dataclass

from domain.models import Draft, Member
from storage.db import Database, Tx
from storage.drafts import draft_in
from storage.members import member_by_telegram_id_in
from storage.updates import UpdateState, answered_tag, update_state_in


@dataclass(frozen=True)
class Session:
    state: UpdateState
    member: Member | None
    draft: Draft | None


async def open_session(db: Database, update_id: int, user_id: int | None) -> Session:
    """The update's state, its sender's membership and draft, in one read."""

    def read(tx: Tx) -> Session:
        state = update_state_in(tx, update_id)
        member = member_by_telegram_id_in(tx, user_id) if user_id is not None else None
        draft = draft_in(tx, member.id) if member is not None else None
        return Session(state, member, draft)

    session = await db.read(read, quick=True)
    if session.state is UpdateState.CHANGED_STATE and db.is_deferred(answered_tag(update_id)):
        # Answered a moment ago; the mark saying so is not written yet.
        return Session(UpdateState.ANSWERED, session.member, session.draft)
    return session
