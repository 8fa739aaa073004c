"""/export's files: the reports of a supervisor's units as XLSX (the default) or CSV.

Both have the command line export's columns (presentation/export.py), with the commune
or ward each report's unit belongs to after the unit. Written a page of reports at a
time into a file on disk, in a worker thread (handlers/export.py), so a year of reports
neither fills memory nor holds up the event loop.

Nothing a user typed can become a formula: the XLSX writes every text cell with
``write_string`` (and has formulas, URLs and numbers-from-strings turned off), the CSV
goes through the command line export's ``neutralise_formula``.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol, TextIO

import xlsxwriter

from domain.forms import FORMS
from domain.models import ExportedReport
from domain.privacy import free_text, name_or_hidden, people_or_hidden
from presentation.export import COLUMNS, ExportFormat, neutralise_formula, people_reached

# The commune or ward comes right after the unit.
_COMMUNE_AT = COLUMNS.index("unit") + 1
EXPORT_COLUMNS = (*COLUMNS[:_COMMUNE_AT], "commune", *COLUMNS[_COMMUNE_AT:])
_DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
_DATE_FORMAT = "dd/mm/yyyy"
# Column widths in characters, by column name; the rest are 12.
_WIDTHS = {
    "id": 7, "kind": 14, "category": 24, "unit": 20, "commune": 20, "reporter": 20,
    "occurred_at": 17, "period_date": 11, "submitted_at": 17, "location": 30,
    "description": 50, "people": 24, "action_taken": 18, "status": 14,
}  # fmt: skip

Cell = str | int | float | datetime | date | None


@dataclass(frozen=True)
class ExportRow:
    """A report and the name of its commune or ward ("" for none)."""

    report: ExportedReport
    commune: str


def private_row(row: ExportedReport, shown: bool, hidden: str) -> ExportedReport:
    """The report as a recipient who may not see names gets it (domain/privacy.py):
    the reporter and the people involved hidden, phone numbers masked in free text."""
    if shown:
        return row
    return replace(
        row,
        reporter_name=name_or_hidden(row.reporter_name, shown, hidden),
        people=people_or_hidden(row.people, shown, hidden),
        description=free_text(row.description, shown),
        address=free_text(row.address, shown) if row.address else row.address,
    )


class ReportFile(Protocol):
    """A file being written: pages of rows, then closed (and complete) once."""

    def write(self, rows: Sequence[ExportRow]) -> None: ...

    def close(self) -> None: ...

    def discard(self) -> None: ...


def _private_handle(path: Path) -> TextIO:
    """A new file readable by its owner only, from the moment it exists."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(descriptor, "w", encoding="utf-8-sig", newline="")


class CsvReportFile:
    """UTF-8 CSV with a byte-order mark, as the command line's export writes it."""

    def __init__(self, path: Path, export: ExportFormat) -> None:
        self.path = path
        self._export = export
        self._handle = _private_handle(path)
        self._writer = csv.writer(self._handle)
        header = export.header()
        header.insert(_COMMUNE_AT, export.t.plain(export.language, "export.column.commune"))
        self._writer.writerow(header)

    def write(self, rows: Sequence[ExportRow]) -> None:
        for row in rows:
            cells = self._export.cells(row.report)
            cells.insert(_COMMUNE_AT, neutralise_formula(row.commune))
            self._writer.writerow(cells)

    def close(self) -> None:
        self._handle.close()

    def discard(self) -> None:
        self._handle.close()
        self.path.unlink(missing_ok=True)


class XlsxReportFile:
    """One sheet: a bold, frozen, filtered header over one report a row.

    Numbers are numbers and times are Excel times (local), so that the sheet sorts and
    sums; every text cell is a string, never a formula or a link.
    """

    def __init__(self, path: Path, export: ExportFormat, sheet_name: str) -> None:
        self.path = path
        self._export = export
        # constant_memory: each row goes to disk once written, so memory stays flat.
        self._workbook: Any = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "tmpdir": str(path.parent),
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        self._sheet: Any = self._workbook.add_worksheet(sheet_name[:31])
        self._moment = self._workbook.add_format({"num_format": _DATETIME_FORMAT})
        self._day = self._workbook.add_format({"num_format": _DATE_FORMAT})
        bold = self._workbook.add_format({"bold": True, "bg_color": "#e8eef4", "bottom": 1})
        t, lang = export.t, export.language
        for column, name in enumerate(EXPORT_COLUMNS):
            self._sheet.set_column(column, column, _WIDTHS.get(name, 12))
            self._sheet.write_string(0, column, t.plain(lang, f"export.column.{name}"), bold)
        self._sheet.freeze_panes(1, 0)
        self._rows = 0

    def write(self, rows: Sequence[ExportRow]) -> None:
        for row in rows:
            self._rows += 1
            for column, value in enumerate(self._cells(row)):
                self._write(self._rows, column, value)

    def close(self) -> None:
        self._sheet.autofilter(0, 0, max(self._rows, 1), len(EXPORT_COLUMNS) - 1)
        self._workbook.close()

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)

    def _write(self, row: int, column: int, value: Cell) -> None:
        if isinstance(value, str):
            if value:
                self._sheet.write_string(row, column, value)
        elif isinstance(value, datetime):
            self._sheet.write_datetime(row, column, value, self._moment)
        elif isinstance(value, date):
            self._sheet.write_datetime(row, column, value, self._day)
        elif value is not None:
            self._sheet.write_number(row, column, value)

    def _cells(self, export_row: ExportRow) -> list[Cell]:
        """The columns of EXPORT_COLUMNS, typed."""
        row, export = export_row.report, self._export
        t, lang, zone = export.t, export.language, export.zone
        if row.latitude is not None and row.longitude is not None:
            location = f"{row.latitude:.6f},{row.longitude:.6f}"
            if row.address:
                location += f" ({row.address})"
        else:
            location = row.address or ""
        return [
            row.id,
            t.plain(lang, FORMS[row.kind].title if row.kind in FORMS else "nothing.title"),
            row.category_code or "",
            export.category(row.kind, row.category_code) if row.category_code else "",
            row.unit_code,
            row.unit_name,
            export_row.commune,
            row.reporter_name,
            row.occurred_at.astimezone(zone).replace(tzinfo=None),
            row.period_date,
            row.submitted_at.astimezone(zone).replace(tzinfo=None),
            location,
            row.description,
            row.people or "",
            t.plain(lang, f"incident.action.{row.action_taken}") if row.action_taken else "",
            row.participants,
            people_reached(row),
            row.duration_minutes,
            row.photo_count,
            t.plain(lang, "export.yes" if row.urgent else "export.no"),
            t.plain(lang, f"status.{row.status}"),
        ]
