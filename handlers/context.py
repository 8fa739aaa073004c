"""The typed context every handler receives: services instead of digging in bot_data."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from domain.fields import Clock
from domain.models import Member
from domain.settings import Settings
from presentation.i18n import Translator
from storage.db import Database


@dataclass
class Services:
    """Shared for the life of the process; opened in post_init, closed in post_shutdown."""

    settings: Settings
    db: Database
    translator: Translator
    now: Callable[[], datetime]
    alert_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Context with the services and the member who sent the update, if registered."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.member: Member | None = None

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

    def clock(self) -> Clock:
        return Clock(self.services.now(), self.settings.timezone)

    def registered_member(self) -> Member:
        """The sender; the access gate has already refused strangers."""
        if self.member is None:
            raise RuntimeError("handler reached without a registered member")
        return self.member


BotApplication = Application[Any, BotContext, Any, Any, Any, Any]


def services_of(application: BotApplication) -> Services:
    """The services of an application, outside any handler (start-up, shutdown, CLI)."""
    services: Services = application.bot_data["services"]
    return services
