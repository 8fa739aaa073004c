"""A digest as a supervisor reads it: a short HTML message, a chart and a spreadsheet.

:func:`make_digest` is what the worker process runs (the numbers, then the two files);
:func:`digest_text` turns the numbers into the message, in the main process, keeping it
within one Telegram message however large the subtree: each list shows its top lines,
and fewer of them until the whole fits, then points to the spreadsheet.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from domain.digest import (
    Digest,
    DigestData,
    HotSpot,
    Rate,
    Tally,
    UnitTotal,
    build_digest,
    build_digests,
    series_key,
)
from domain.fields import telegram_length
from domain.models import CatalogueItem
from presentation.digest_files import DigestLabels, render_chart, render_sheet
from presentation.i18n import Html, Translator

log = logging.getLogger(__name__)

# Telegram's limit for one message, with room to spare for what a client adds.
MESSAGE_LIMIT = 4096
# How many lines each list may show, tried in turn until the message fits; at -1 only the
# headline is left.
LIST_LIMITS = (8, 5, 3, 1, 0, -1)
# Units named in the headline, and report numbers in a hot spot's line, at most.
SCOPE_SHOWN = 3
NUMBERS_SHOWN = 5
ALERT_STATES = {
    "open": "digest.file.alert_open",
    "acknowledged": "digest.file.alert_acknowledged",
    "resolved": "digest.file.alert_resolved",
}
_TAG = re.compile(r"</?[a-z][a-z0-9-]*(?:\s[^>]*)?>")


@dataclass(frozen=True)
class MadeDigest:
    digest: Digest
    chart: bytes
    sheet: bytes


def make_digest(data: DigestData, units: Collection[str], labels: DigestLabels) -> MadeDigest:
    """One recipient's digest and its files."""
    digest = build_digest(data, units)
    return MadeDigest(digest, render_chart(digest, labels), render_sheet(digest, labels))


def make_digests(
    data: DigestData, jobs: Sequence[tuple[Collection[str], DigestLabels]]
) -> list[MadeDigest | None]:
    """Every recipient's digest and files from one read of the data; runs in the worker
    process, so the data crosses to it once. None for one that could not be made (the
    error is logged there): the others still go."""
    digests = build_digests(data, [units for units, _ in jobs])
    made: list[MadeDigest | None] = []
    for digest, (_, labels) in zip(digests, jobs, strict=True):
        try:
            made.append(
                MadeDigest(digest, render_chart(digest, labels), render_sheet(digest, labels))
            )
        except Exception:
            log.exception("the files of a digest of %s could not be made", digest.roots)
            made.append(None)
    return made


def category_names(
    catalogues: Mapping[str, Sequence[CatalogueItem]], translator: Translator, language: str
) -> dict[str, str]:
    """Every series' display name: catalogue categories, and "nothing to report"."""
    names = {
        series_key(kind, item.code): item.name(language)
        for kind, items in catalogues.items()
        for item in items
    }
    names[series_key("nothing", None)] = translator.plain(language, "digest.file.kind_nothing")
    names[series_key("incident", None)] = translator.plain(language, "digest.file.kind_incident")
    names[series_key("activity", None)] = translator.plain(language, "digest.file.kind_activity")
    return names


def visible_length(text: str) -> int:
    """What Telegram counts of an HTML message: its text once tags and entities are read."""
    return telegram_length(html.unescape(_TAG.sub("", text)))


class DigestText:
    """The message for one recipient, in their language and time zone."""

    def __init__(
        self,
        translator: Translator,
        language: str,
        zone: ZoneInfo,
        categories: Mapping[str, str],
        units: Mapping[str, str],
        *,
        names_shown: bool = True,
    ) -> None:
        self.names_shown = names_shown  # above BOT_PRIVACY_LEVEL: no members' names
        self.t = translator
        self.lang = language
        self.zone = zone
        self.categories = categories
        self.units = units

    def render(self, digest: Digest, title: str) -> Html:
        """The whole message, the lists cut until it fits one message."""
        text = Html("")
        for limit in LIST_LIMITS:
            text = self._render(digest, title, limit)
            if visible_length(text) <= MESSAGE_LIMIT and len(text) <= 3 * MESSAGE_LIMIT:
                return text
        # The headline alone is a few hundred characters: unit names are at most a few
        # hundred each, and the scope names three. Cut hard rather than send nothing.
        log.error("a digest's headline does not fit one message; cut")
        return Html(html.escape(html.unescape(_TAG.sub("", text))[: MESSAGE_LIMIT // 2]))

    # --- pieces ---------------------------------------------------------------------

    def _h(self, key: str, /, **values: object) -> Html:
        return self.t.html(self.lang, key, **values)

    def _when(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%H:%M %d/%m")

    def _unit(self, code: str) -> str:
        return self.units.get(code, code)

    def _category(self, kind: str, code: str | None) -> str:
        return self.categories.get(series_key(kind, code)) or code or kind

    def _section(self, heading: Html, lines: Sequence[Html], limit: int) -> list[str]:
        if not lines:
            return []
        shown = [heading, *lines[:limit]]
        if len(lines) > limit:
            shown.append(self._h("digest.more", count=len(lines) - limit))
        return ["", *shown]

    def _render(self, digest: Digest, title: str, limit: int) -> Html:
        kinds = {item.kind: 0 for item in digest.by_category}
        for item in digest.by_category:
            kinds[item.kind] += item.count
        parts: list[str] = [
            self._h(
                "digest.head",
                title=title,
                scope=self._scope(digest.roots),
                start=self._when(digest.start),
                end=self._when(digest.end),
            ),
            self._h(
                "digest.totals",
                total=digest.total,
                incidents=kinds.get("incident", 0),
                activities=kinds.get("activity", 0),
                nothing=kinds.get("nothing", 0),
            ),
        ]
        if limit < 0:  # the last resort: the headline, and the files have the rest
            return Html("\n".join([*parts, "", self._h("digest.files")]))
        parts += self._section(
            self._h("digest.by_category"),
            [
                self._h("digest.line", name=self._category(c.kind, c.category), count=c.count)
                for c in digest.by_category
                if c.kind != "nothing"
            ],
            limit,
        )
        parts += self._section(
            self._h("digest.by_unit"),
            [
                self._unit_line(u)
                for u in sorted(digest.by_unit, key=lambda u: (-u.reports, u.unit_code))
            ],
            limit,
        )
        parts += self._section(
            self._h("digest.urgent"),
            [
                self._h(
                    "digest.urgent_line",
                    number=r.id,
                    name=self._category(r.kind, r.category),
                    unit=self._unit(r.unit_code),
                    when=self._when(r.submitted_at),
                    state=self.t.plain(
                        self.lang, ALERT_STATES.get(r.alert_state or "", ALERT_STATES["open"])
                    ),
                )
                for r in digest.urgent
            ],
            limit,
        )
        parts += self._section(
            self._h(
                "digest.hot_spots",
                period=self._h("digest.days", count=digest.thresholds.hot_spot_days),
                count=digest.thresholds.hot_spot_count,
            ),
            [self._hot_spot(spot) for spot in digest.hot_spots],
            limit,
        )
        parts += self._section(
            self._h("digest.silent", count=digest.thresholds.silent_days),
            [
                self._h(
                    "digest.silent_line",
                    name=self._unit(s.unit_code),
                    last=self._when(s.last_report)
                    if s.last_report
                    else self.t.plain(self.lang, "overdue.never"),
                )
                for s in digest.silent
            ],
            limit,
        )
        parts += self._compliance(digest, limit)
        parts += ["", self._h("digest.files")]
        return Html("\n".join(parts))

    def _scope(self, roots: Sequence[str]) -> str:
        names = ", ".join(self._unit(code) for code in roots[:SCOPE_SHOWN])
        if len(roots) <= SCOPE_SHOWN:
            return names
        return self.t.plain(
            self.lang, "digest.scope_more", names=names, count=len(roots) - SCOPE_SHOWN
        )

    def _unit_line(self, total: UnitTotal) -> Html:
        line = self._h(
            "digest.unit_line",
            name=self._unit(total.unit_code),
            incidents=total.incidents,
            activities=total.activities,
            nothing=total.nothing,
        )
        missed = total.deadlines
        if missed.missed:
            line = Html(
                line + self._h("digest.unit_missed", missed=missed.missed, owed=missed.owed)
            )
        return line

    def _hot_spot(self, spot: HotSpot) -> Html:
        span = f"{spot.first.astimezone(self.zone):%d/%m}–{spot.last.astimezone(self.zone):%d/%m}"
        numbers = ", ".join(f"#{n}" for n in spot.report_ids[:NUMBERS_SHOWN])
        if len(spot.report_ids) > NUMBERS_SHOWN:
            numbers += ", …"
        name = self._category("incident", spot.category or None)
        if spot.unit_code is not None:
            return self._h(
                "digest.hot_unit",
                name=name,
                count=len(spot.report_ids),
                unit=self._unit(spot.unit_code),
                span=span,
                numbers=numbers,
            )
        return self._h(
            "digest.hot_near",
            name=name,
            count=len(spot.report_ids),
            metres=round(spot.metres or 0),
            span=span,
            numbers=numbers,
        )

    def _rate(self, rate: Rate, name: str) -> Html:
        tally = rate.tally
        return self._h(
            "digest.rate_line",
            name=name,
            percent=round(100 * (tally.rate or 0)),
            met=tally.met,
            owed=tally.owed,
        )

    def _compliance(self, digest: Digest, limit: int) -> list[str]:
        if not digest.deadlines.owed and not digest.units_year:
            return []
        year = sum((r.tally for r in digest.units_year), start=Tally())
        parts = [
            "",
            self._h(
                "digest.compliance",
                percent=_percent(digest.deadlines.rate),
                met=digest.deadlines.met,
                owed=digest.deadlines.owed,
                year_percent=_percent(year.rate),
                since=digest.year_start.astimezone(self.zone).strftime("%d/%m/%Y"),
            ),
        ]
        units = [self._rate(r, self._unit(r.unit_code)) for r in digest.units_period]
        if units:
            parts += [self._h("digest.compliance_units"), *units[: max(limit, 1)]]
        lowest = [r for r in reversed(digest.members_period) if r.tally.missed]
        if lowest and limit and self.names_shown:
            parts.append(self._h("digest.compliance_lowest"))
            parts += [
                self._rate(r, f"{r.name} ({self._unit(r.unit_code)})") for r in lowest[:limit]
            ]
        return parts


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{round(100 * rate)}%"
