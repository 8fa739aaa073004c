"""The typed context every handler receives: services instead of digging in bot_data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from domain.clock import Clock, Moment
from domain.models import CatalogueItem, Draft, Member
from domain.settings import Settings
from handlers.digest_worker import DigestWorker
from handlers.inbox import ChatOrderedProcessor, Receiver
from handlers.outbox import OutboxSender
from presentation.i18n import Translator
from presentation.render import FormRenderer
from storage.db import Database
from storage.updates import Origin


@dataclass
class Services:
    """Shared for the life of the process; opened in post_init, closed in post_shutdown."""

    settings: Settings
    db: Database
    translator: Translator
    clock: Clock
    outbox: OutboxSender
    receiver: Receiver
    processor: ChatOrderedProcessor
    # Updates whose change could not be saved: they stay new in the inbox.
    failed_updates: set[int] = field(default_factory=set)
    # When each chat last sent a photo, and for which draft: a quick burst gets one answer.
    photo_bursts: dict[int, tuple[int, datetime]] = field(default_factory=dict)
    # The deployment's catalogues, read once at start-up: every question and summary
    # needs them, and they change only with a new version of the defaults.
    catalogues: Mapping[str, Sequence[CatalogueItem]] = field(default_factory=dict)
    # Digests are computed and drawn in another process (handlers/digest.py).
    digest_worker: DigestWorker = field(default_factory=lambda: DigestWorker())

    def items(self, kind: str) -> Sequence[CatalogueItem]:
        return self.catalogues.get(kind, ())


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Context with the services, and the member and draft of the update, once known."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.member: Member | None = None
        # The member's draft as the gate read it with the member, in the same read.
        self.draft: Draft | None = None

    @property
    def services(self) -> Services:
        services: Services = self.bot_data["services"]
        return services

    @property
    def db(self) -> Database:
        return self.services.db

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def t(self) -> Translator:
        return self.services.translator

    @property
    def language(self) -> str:
        """The member's language, or the deployment's for a stranger."""
        return self.member.language if self.member else self.settings.language

    def moment(self) -> Moment:
        """The clock read now, in the deployment's zone: what answers are judged against."""
        return Moment.of(self.services.clock, self.settings.timezone)

    def registered_member(self) -> Member:
        """The sender; the access gate has already refused strangers."""
        if self.member is None:
            raise RuntimeError("handler reached without a registered member")
        return self.member

    def renderer(self) -> FormRenderer:
        return FormRenderer(self.t, self.language, self.settings.timezone, self.services.catalogues)


def origin_of(update: Update) -> Origin | None:
    """The once-key and reply address of an update that may change state."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return None
    return Origin(update.update_id, chat.id, user.id)


BotApplication = Application[Any, BotContext, Any, Any, Any, Any]


def services_of(application: BotApplication) -> Services:
    """The services of an application, outside any handler (start-up, shutdown, CLI)."""
    services: Services = application.bot_data["services"]
    return services
