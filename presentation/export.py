"""Exporting reports as a CSV file that Excel opens with Vietnamese intact."""

from __future__ import annotations

import csv
import os
from collections.abc import AsyncIterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from domain.forms import FORMS
from domain.models import CatalogueItem, ExportedReport
from presentation.i18n import Translator
from presentation.render import catalogue_name

COLUMNS = (
    "id", "kind", "category_code", "category", "unit_code", "unit", "reporter",
    "occurred_at", "period_date", "submitted_at", "location", "description", "people",
    "action_taken", "participants", "reached", "duration_minutes", "photos", "urgent",
    "status",
)  # fmt: skip
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def people_reached(row: ExportedReport) -> int | None:
    """How many people an outreach-like activity reached, apart from its participants.

    Read from the report's answers (domain/forms.py, ``reached``) by storage/export.py.
    """
    return row.reached


def neutralise_formula(value: str) -> str:
    """Keep a spreadsheet from running what a user typed as a formula."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


class _RememberedLabels:
    """Translator.plain for messages without values, each looked up once.

    Called as ``plain(language, key)`` like the translator itself, so that the scan in
    tests/test_i18n.py still checks every id the export uses.
    """

    def __init__(self, translator: Translator) -> None:
        self._translator = translator
        self._found: dict[tuple[str, str], str] = {}

    def plain(self, language: str, key: str) -> str:
        found = self._found.get((language, key))
        if found is None:
            found = self._found[language, key] = self._translator.plain(language, key)
        return found


class ExportFormat:
    """Turns reports into CSV cells in one language and time zone.

    Labels (report kinds, actions, statuses, categories) are few and repeat on every
    line, so each is looked up once per export.
    """

    def __init__(
        self,
        translator: Translator,
        language: str,
        zone: ZoneInfo,
        catalogues: Mapping[str, Sequence[CatalogueItem]],
    ) -> None:
        self.t = _RememberedLabels(translator)
        self.language = language
        self.zone = zone
        self.catalogues = catalogues
        self._categories: dict[tuple[str, str], str] = {}

    def category(self, kind: str, code: str) -> str:
        found = self._categories.get((kind, code))
        if found is None:
            found = catalogue_name(self.catalogues.get(kind, ()), code, self.language)
            self._categories[kind, code] = found
        return found

    def local(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")

    def header(self) -> list[str]:
        """The column titles."""
        return [self.t.plain(self.language, f"export.column.{name}") for name in COLUMNS]

    def cells(self, row: ExportedReport) -> list[str | int]:
        """One report's cells, formulas neutralised, times local, dates ISO."""
        t, lang = self.t, self.language
        if row.latitude is not None and row.longitude is not None:
            location = f"{row.latitude:.6f},{row.longitude:.6f}"
            if row.address:
                location += f" ({row.address})"
        else:
            location = row.address or ""
        cells: list[str | int] = [
            row.id,
            t.plain(lang, FORMS[row.kind].title if row.kind in FORMS else "nothing.title"),
            row.category_code or "",
            self.category(row.kind, row.category_code) if row.category_code else "",
            row.unit_code,
            row.unit_name,
            row.reporter_name,
            self.local(row.occurred_at),
            row.period_date.isoformat(),  # ISO, as Excel reads it in any locale
            self.local(row.submitted_at),
            location,
            row.description,
            row.people or "",
            t.plain(lang, f"incident.action.{row.action_taken}") if row.action_taken else "",
            row.participants if row.participants is not None else "",
            "" if (reached := people_reached(row)) is None else reached,
            row.duration_minutes if row.duration_minutes is not None else "",
            row.photo_count,
            t.plain(lang, "export.yes" if row.urgent else "export.no"),
            t.plain(lang, f"status.{row.status}"),
        ]
        return [neutralise_formula(c) if isinstance(c, str) else c for c in cells]


async def write_reports_csv(
    rows: AsyncIterable[ExportedReport],
    path: Path,
    translator: Translator,
    language: str,
    zone: ZoneInfo,
    catalogues: Mapping[str, Sequence[CatalogueItem]],
) -> int:
    """Write one line per report as it arrives; returns how many were written.

    UTF-8 with a byte-order mark so Excel reads it right. The lines go to a file beside
    the target that replaces it only once complete, so an export that fails half-way
    leaves any earlier export whole rather than cut short.
    """
    export = ExportFormat(translator, language, zone, catalogues)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    count = 0
    try:
        # Blocking but buffered writes: only the command line exports, and its event
        # loop has nothing else to run meanwhile. Readable by its owner only from the
        # moment it exists, whatever the umask: it holds names, places and what was
        # reported. fchmod covers a partial file an interrupted export left looser.
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8-sig", newline="") as handle:
            os.fchmod(handle.fileno(), 0o600)
            writer = csv.writer(handle)
            writer.writerow(export.header())
            async for row in rows:
                writer.writerow(export.cells(row))
                count += 1
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return count
