"""Rendering of drafts and reports as short HTML messages."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.forms import FORMS, Field, FieldKind, Form
from domain.models import CatalogueItem, Member, Unit
from domain.values import Address, Duration, NoPlace, Pin, Place, Value, decode_answers
from presentation.i18n import Html, Translator

# Free text is cut in listings so that a summary never nears Telegram's 4096 limit.
SHORT_TEXT = 60


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M %d/%m/%Y")


def local_day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def shorten(text: str, limit: int = SHORT_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def map_url(pin: Pin) -> str:
    """A link that opens the pin in the phone's map app (Google Maps, or the browser)."""
    return f"https://maps.google.com/?q={pin.latitude:.6f},{pin.longitude:.6f}"


def catalogue_name(items: Sequence[CatalogueItem], code: str | None, language: str) -> str:
    item = next((i for i in items if i.code == code), None)
    return item.name(language) if item else (code or "")


class FormRenderer:
    """Turn a form's stored answers into text in one member's language."""

    def __init__(
        self,
        translator: Translator,
        language: str,
        zone: ZoneInfo,
        catalogues: Mapping[str, Sequence[CatalogueItem]],
    ) -> None:
        self.t = translator
        self.language = language
        self.zone = zone
        self.catalogues = catalogues

    def value(self, spec: Field, value: Value | None) -> Html:
        """One answer as HTML; user text is escaped by the translator."""
        t, lang = self.t, self.language
        match value:
            case None if spec.kind in (FieldKind.TEXT, FieldKind.CHOICE):
                # A skipped free-text answer (who was involved), or a choice not made yet
                # (what was done, in an urgent alert sent before it was asked): not known
                # yet, not "none".
                return t.html(lang, "value.unknown")
            case None | ():
                return t.html(lang, "value.none")
            case bool() if spec.kind is FieldKind.YESNO:
                # The buttons answer the question ("Không khẩn cấp"); the summary names
                # the level ("Mức độ: Bình thường").
                level = spec.options[0 if value else 1].value
                return t.html(lang, f"value.{spec.key}.{level}")
            case str() if spec.catalogue:
                name = catalogue_name(self.catalogues.get(spec.catalogue, ()), value, lang)
                return t.html(lang, "value.text", text=name)
            case str() if spec.kind is FieldKind.CHOICE:
                option = next((o for o in spec.options if o.value == value), None)
                return t.html(lang, option.label if option else "value.none")
            case str():
                return t.html(lang, "value.text", text=value)
            case datetime():
                return t.html(lang, "value.text", text=local_time(value, self.zone))
            case date():
                return t.html(lang, "value.text", text=local_day(value))
            case Duration(minutes, span):
                key = "value.duration_span" if span else "value.duration"
                return t.html(lang, key, duration=self.duration(minutes), span=span)
            case int():
                return t.html(lang, "value.count", count=value)
            case NoPlace() if spec.optional:
                return t.html(lang, "value.none")
            case Pin() | Address() | NoPlace():
                return self.place(value)
            case tuple():
                return t.html(lang, "value.photos", count=len(value))
        raise AssertionError(value)  # pragma: no cover

    def duration(self, total_minutes: int) -> str:
        """ "30 phút", "2 giờ", "1 giờ 30 phút": no zero parts."""
        hours, minutes = divmod(total_minutes, 60)
        if not hours:
            return self.t.plain(self.language, "duration.minutes", minutes=minutes)
        if not minutes:
            return self.t.plain(self.language, "duration.hours", hours=hours)
        return self.t.plain(self.language, "duration.hours_minutes", hours=hours, minutes=minutes)

    def place(self, value: Place | None) -> Html:
        t, lang = self.t, self.language
        match value:
            case Address(text):
                return t.html(lang, "value.text", text=text)
            case Pin(title=title) if title:
                # A venue: its name says more than its coordinates, and it is what the
                # report stores as the address.
                return t.html(lang, "value.venue", title=title)
            case Pin():
                # Coordinates mean nothing to a reader; the pin itself comes as a map.
                return t.html(lang, "value.location")
        return t.html(lang, "value.place_unknown")

    def place_link(self, pin: Pin) -> Html:
        """A pin as a link to the map, for a supervisor who must get there."""
        url = Html(html.escape(map_url(pin), quote=True))
        if pin.title:
            return self.t.html(self.language, "alert.venue_link", title=pin.title, url=url)
        return self.t.html(self.language, "alert.location_link", url=url)

    def lines(self, form: Form, data: Mapping[str, Any], *, map_links: bool = False) -> Html:
        """Every field of the form with its answer, one per line.

        ``map_links``: a pin is a link that opens the map (the alert), not just its name.
        """
        answers = decode_answers(form, data)

        def shown(spec: Field) -> Html:
            answer = answers[spec.key]
            if map_links and isinstance(answer, Pin):
                return self.place_link(answer)
            return self.value(spec, answer)

        return Html(
            "\n".join(
                self.t.html(
                    self.language,
                    "summary.line",
                    label=self.t.html(self.language, spec.label),
                    value=shown(spec),
                )
                for spec in form.applicable(data)
            )
        )

    def summary(self, form: Form, data: Mapping[str, Any], key: str = "summary.body") -> Html:
        """The screen a member checks before submitting (``key``: its wording, with a
        {title} and the {lines}); "summary.sent" is the report as it was sent."""
        return self.t.html(
            self.language,
            key,
            title=self.t.html(self.language, form.title),
            lines=self.lines(form, data),
        )

    def alert(
        self,
        number: int,
        kind: str,
        data: Mapping[str, Any],
        reporter: Member,
        unit: Unit,
        submitted: datetime,
        open_for: timedelta | None = None,
    ) -> Html:
        """The message a supervisor gets for an urgent incident.

        ``open_for``: the alert is escalated, unacknowledged for that long; it says so first.
        """
        form = FORMS[kind]
        text = self.t.html(
            self.language,
            "alert.urgent",
            number=number,
            title=self.t.html(self.language, form.title),
            lines=self.lines(form, data, map_links=True),
            reporter=reporter.full_name,
            unit=unit.name,
            submitted=local_time(submitted, self.zone),
        )
        if open_for is None:
            return text
        minutes = max(int(open_for.total_seconds() // 60), 1)
        escalated = self.t.html(self.language, "alert.escalated", open_for=self.duration(minutes))
        return Html(f"{escalated}\n{text}")

    def alert_progress(
        self,
        acknowledged: tuple[Member, Unit | None, datetime] | None,
        resolved: tuple[Member, datetime] | None,
    ) -> Html:
        """What became of an alert, under its copies: who took it, who resolved it."""
        lines = []
        if acknowledged is not None:
            member, unit, at = acknowledged
            lines.append(
                self.t.html(
                    self.language,
                    "alert.state.acknowledged",
                    name=member.full_name,
                    unit=unit.name if unit else member.unit_code,
                    time=local_time(at, self.zone),
                )
            )
        if resolved is not None:
            member, at = resolved
            lines.append(
                self.t.html(
                    self.language,
                    "alert.state.resolved",
                    name=member.full_name,
                    time=local_time(at, self.zone),
                )
            )
        return Html("\n".join(lines))
