"""Exporting reports as a CSV file that Excel opens with Vietnamese intact."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from domain.forms import FORMS
from domain.models import CatalogueItem, ExportRow
from presentation.i18n import Translator
from presentation.render import catalogue_name

COLUMNS = (
    "id", "kind", "category_code", "category", "unit_code", "unit", "reporter",
    "occurred_at", "period_date", "submitted_at", "location", "description", "people",
    "action_taken", "participants", "duration_minutes", "photos", "urgent", "status",
)  # fmt: skip
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: str) -> str:
    """Keep a spreadsheet from running what a user typed as a formula."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def write_reports_csv(
    rows: Sequence[ExportRow],
    path: Path,
    translator: Translator,
    language: str,
    zone: ZoneInfo,
    catalogues: Mapping[str, Sequence[CatalogueItem]],
) -> None:
    """Write one line per report, UTF-8 with a byte-order mark so Excel reads it right."""
    t = translator

    def local(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([t.plain(language, f"export.column.{name}") for name in COLUMNS])
        for row in rows:
            report = row.report
            if report.latitude is not None and report.longitude is not None:
                location = f"{report.latitude:.6f},{report.longitude:.6f}"
                if report.address:
                    location += f" ({report.address})"
            else:
                location = report.address or ""
            action = ""
            if report.action_taken:
                action = t.plain(language, f"incident.action.{report.action_taken}")
            kind_title = FORMS[report.kind].title if report.kind in FORMS else "nothing.title"
            cells: list[object] = [
                report.id,
                t.plain(language, kind_title),
                report.category_code or "",
                catalogue_name(catalogues.get(report.kind, ()), report.category_code, language)
                if report.category_code
                else "",
                report.unit_code,
                row.unit_name,
                row.reporter_name,
                local(report.occurred_at),
                report.period_date.isoformat(),  # ISO, as Excel reads it in any locale
                local(report.submitted_at),
                location,
                report.description,
                report.people or "",
                action,
                report.participants if report.participants is not None else "",
                report.duration_minutes if report.duration_minutes is not None else "",
                row.photo_count,
                t.plain(language, "export.yes" if report.urgent else "export.no"),
                t.plain(language, f"status.{report.status}"),
            ]
            writer.writerow([neutralise_formula(c) if isinstance(c, str) else c for c in cells])
