"""Sending urgent alerts from the outbox, now and again until each one is delivered."""

from __future__ import annotations

import logging

from telegram import Bot, InputMediaPhoto
from telegram.error import BadRequest, Forbidden, TelegramError

from domain.models import Photo
from handlers.context import Services
from presentation.render import FormRenderer
from storage.alerts import mark_alert_failed, mark_alert_sent, pending_alerts
from storage.catalogue import catalogue_items
from storage.members import member_by_id
from storage.reports import get_report
from storage.units import get_unit

log = logging.getLogger(__name__)


async def deliver_pending_alerts(bot: Bot, services: Services, report_id: int | None = None) -> int:
    """Send every pending alert (or one report's); returns how many were sent.

    An alert is marked sent right after its text goes out; the location and photos
    that follow are a courtesy and are not retried, so a retry never repeats the alert.
    """
    # One sender at a time: the retry job and a submit must not both take the same row.
    async with services.alert_lock:
        return await _deliver(bot, services, report_id)


async def _deliver(bot: Bot, services: Services, report_id: int | None) -> int:
    db, t, zone = services.db, services.translator, services.settings.timezone
    sent = 0
    catalogues = {"incident": await catalogue_items(db, "incident")}
    for delivery in await pending_alerts(db, report_id):
        report = await get_report(db, delivery.report_id)
        reporter = await member_by_id(db, report.member_id) if report else None
        if report is None or reporter is None:
            await mark_alert_failed(db, delivery.id, "report or reporter missing", permanent=True)
            continue
        recipient = delivery.recipient
        renderer = FormRenderer(t, recipient.language, zone, catalogues)
        text = renderer.alert(report, reporter, await get_unit(db, report.unit_code))
        try:
            await bot.send_message(recipient.chat_id, text)
        except (Forbidden, BadRequest) as error:
            # Blocked the bot or the chat is gone: retrying cannot help.
            await mark_alert_failed(db, delivery.id, str(error), permanent=True)
            log.error(
                "urgent alert %s for report %s could not reach member %s: %s",
                delivery.id, report.id, recipient.id, error,
            )  # fmt: skip
            continue
        except TelegramError as error:
            # A time-out may hide a message that did arrive: retrying risks a duplicate,
            # giving up risks a lost urgent alert, and the duplicate is the lesser harm.
            if await mark_alert_failed(db, delivery.id, str(error), permanent=False):
                log.error("urgent alert %s given up after a day: %s", delivery.id, error)
            else:
                log.warning("urgent alert %s will be retried: %s", delivery.id, error)
            continue
        await mark_alert_sent(db, delivery.id)
        sent += 1
        await _send_extras(bot, recipient.chat_id, report.latitude, report.longitude, report.photos)
    return sent


async def _send_extras(
    bot: Bot,
    chat_id: int,
    latitude: float | None,
    longitude: float | None,
    photos: tuple[Photo, ...],
) -> None:
    try:
        if latitude is not None and longitude is not None:
            await bot.send_location(chat_id, latitude=latitude, longitude=longitude)
        # A file id only works with the method of its kind: photos as an album,
        # images that were sent as files one by one as documents.
        pictures = [p for p in photos if p.kind == "photo"]
        if len(pictures) == 1:
            await bot.send_photo(chat_id, pictures[0].file_id)
        elif pictures:
            await bot.send_media_group(chat_id, [InputMediaPhoto(p.file_id) for p in pictures])
        for document in (p for p in photos if p.kind == "document"):
            await bot.send_document(chat_id, document.file_id)
    except TelegramError as error:
        log.warning("alert extras to chat %s not sent: %s", chat_id, error)
