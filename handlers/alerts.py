"""Urgent alerts: one outbox message per supervisor, made with the report that causes them."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from domain.access import ReportRef
from domain.forms import FORMS
from domain.models import Member, Unit
from domain.outbox import Attachment, Document, Location, OutboxItem, Payload, Photos
from domain.reporting import place_columns
from domain.routing import alert_recipients
from domain.values import decode_answers
from handlers.context import Services
from presentation.render import FormRenderer
from storage.members import member_by_id, overseers_and_tree
from storage.outbox import OutboxRow, alert_recipient_ids, enqueue, outbox_status
from storage.reports import get_report, unreached_urgent_reports
from storage.units import get_unit

PURPOSE = "alert"
# How far back the drain looks for urgent reports whose alert reached nobody.
UNREACHED_LOOKBACK = timedelta(days=1)
log = logging.getLogger(__name__)


def alert_key(report_id: int, recipient_id: int) -> str:
    return f"{PURPOSE}:{report_id}:{recipient_id}"


def _attachments(kind: str, data: Mapping[str, Any]) -> tuple[Attachment, ...]:
    """The pin and the photos that follow an alert's text."""
    answers = decode_answers(FORMS[kind], data)
    found: list[Attachment] = []
    place = place_columns(answers.get("place"))
    if place.get("latitude") is not None and place.get("longitude") is not None:
        found.append(Location(place["latitude"], place["longitude"]))
    photos = answers.get("photos")
    refs = photos if isinstance(photos, tuple) else ()
    # A file id only works with the method of its kind: photos as an album, images
    # that were sent as files one by one as documents.
    pictures = tuple(p.file_id for p in refs if getattr(p, "kind", "") == "photo")
    if pictures:
        found.append(Photos(pictures))
    found.extend(Document(p.file_id) for p in refs if getattr(p, "kind", "") == "document")
    return tuple(found)


def alert_items(
    services: Services,
    report_id: int,
    data: Mapping[str, Any],
    reporter: Member,
    unit: Unit,
    submitted: datetime,
    recipients: Sequence[Member],
) -> list[OutboxItem]:
    """One alert per recipient, each in the recipient's language."""
    attachments = _attachments("incident", data)
    items = []
    for recipient in recipients:
        renderer = FormRenderer(
            services.translator, recipient.language, services.settings.timezone,
            services.catalogues,
        )  # fmt: skip
        text = renderer.alert(report_id, "incident", data, reporter, unit, submitted)
        items.append(
            OutboxItem(
                key=alert_key(report_id, recipient.id),
                purpose=PURPOSE,
                chat_id=recipient.chat_id,
                payload=Payload(text, attachments=attachments),
                recipient_id=recipient.id,
                report_id=report_id,
            )
        )
    return items


async def render_carried_over(services: Services, row: OutboxRow) -> Payload | None:
    """An alert queued by an older version, which stored no text: render it now."""
    item = row.item
    if item.purpose != PURPOSE or item.report_id is None or item.recipient_id is None:
        return None
    report = await get_report(services.db, item.report_id)
    recipient = await member_by_id(services.db, item.recipient_id)
    reporter = await member_by_id(services.db, report.member_id) if report else None
    unit = await get_unit(services.db, report.unit_code) if report else None
    if report is None or recipient is None or reporter is None or unit is None:
        return None
    items = alert_items(
        services, report.id, report.data, reporter, unit, report.submitted_at, [recipient]
    )
    return items[0].payload


async def escalate_unreached(services: Services, row: OutboxRow) -> None:
    """When an urgent alert has reached nobody at all, send it one level further up.

    Called for an alert given up for good (the recipient blocked the bot, the chat is
    gone). While any copy of the alert is sent or still being tried, nothing happens.
    """
    report_id = row.item.report_id
    if row.item.purpose != PURPOSE or report_id is None:
        return
    if await _pass_on(services, report_id) or await _still_reaching(services, report_id):
        return
    log.error("urgent alert for report %s reached nobody, and nobody is left", report_id)


async def reach_the_unreached(services: Services) -> int:
    """Job: urgent reports of the last day whose alert reaches nobody: try again up the tree.

    This also catches what a crash between giving up and passing on would lose, and a
    supervisor or admin who joined after the report: they are told now.
    """
    since = services.clock.now() - UNREACHED_LOOKBACK
    passed_on = 0
    for report_id in await unreached_urgent_reports(services.db, since):
        passed_on += await _pass_on(services, report_id)
    return passed_on


async def _still_reaching(services: Services, report_id: int) -> bool:
    status = await outbox_status(services.db, report_id, PURPOSE)
    return bool(status.get("sent") or status.get("pending"))


async def _pass_on(services: Services, report_id: int) -> int:
    """Queue the alert for the next who may receive it, if nobody has it or is being tried."""
    if await _still_reaching(services, report_id):
        return 0
    report = await get_report(services.db, report_id)
    reporter = await member_by_id(services.db, report.member_id) if report else None
    unit = await get_unit(services.db, report.unit_code) if report else None
    if report is None or reporter is None or unit is None:
        return 0
    tree, overseers = await overseers_and_tree(services.db)
    about = ReportRef(reporter.id, report.unit_code, report.status)
    tried = set(await alert_recipient_ids(services.db, report.id))
    recipients = alert_recipients(tree, about, overseers, tried)
    if not recipients:
        return 0
    log.warning(
        "urgent alert for report %s reached nobody yet; sent on to %d more", report.id,
        len(recipients),
    )  # fmt: skip
    items = alert_items(
        services, report.id, report.data, reporter, unit, report.submitted_at, recipients
    )
    return await enqueue(services.db, items)
