"""The digest's two attachments: a chart (PNG) and a spreadsheet (XLSX).

Both are pure functions of a :class:`~domain.digest.Digest` and a :class:`DigestLabels`,
so they run in a worker process: everything they print is translated beforehand, and
both inputs are plain, picklable values (no translator, no database).

Whatever a user typed (category, unit and member names, descriptions) is shown exactly as
typed: the chart turns off matplotlib's mathtext, so ``$x$`` is not a formula, and the
spreadsheet writes every text cell as a string, so ``=SUM(A1)`` is not one either.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import matplotlib
import xlsxwriter
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from domain.digest import Digest, DigestReport, HotSpot, Rate, SilentUnit, series_key
from domain.forms import INCIDENT
from domain.models import ReportStatus
from domain.privacy import free_text, people_or_hidden
from presentation.i18n import Translator

# --- labels -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestLabels:
    """Every word the chart and the spreadsheet print, in the recipient's language.

    ``categories`` is keyed by ``series_key(kind, category)``; ``statuses`` holds both
    report statuses and alert states (their values do not overlap); ``within`` still has
    its ``{metres}`` placeholder, filled in per hot spot.
    """

    zone: ZoneInfo
    categories: Mapping[str, str]
    units: Mapping[str, str]
    statuses: Mapping[str, str]
    kinds: Mapping[str, str]
    actions: Mapping[str, str]
    yes: str
    no: str
    chart_title_days: str
    chart_title_compliance: str
    chart_axis_reports: str
    chart_axis_on_time: str
    chart_other: str
    chart_no_reports: str
    chart_no_deadlines: str
    sheet_reports: str
    sheet_compliance: str
    sheet_hot_spots: str
    sheet_silent: str
    headers_reports: tuple[str, ...]
    headers_compliance: tuple[str, ...]
    headers_hot_spots: tuple[str, ...]
    headers_silent: tuple[str, ...]
    span_period: str
    span_year: str
    whole_unit: str
    within: str
    never: str
    # Set above BOT_PRIVACY_LEVEL: what stands in for names (reporters, people involved,
    # members), and phone numbers in free text are masked.
    hidden: str | None = None


def digest_labels(
    translator: Translator,
    language: str,
    zone: ZoneInfo,
    categories: Mapping[str, str],
    units: Mapping[str, str],
    *,
    names_shown: bool = True,
) -> DigestLabels:
    """Look every label up once, before the files are drawn in another process.

    The mappings are copied into plain dicts, which pickle whatever the caller passed.
    """
    t, lang = translator, language
    action = INCIDENT.field("action")
    actions = action.options if action else ()
    statuses = {status.value: t.plain(lang, f"status.{status.value}") for status in ReportStatus}
    statuses |= {
        "open": t.plain(lang, "digest.file.alert_open"),
        "acknowledged": t.plain(lang, "digest.file.alert_acknowledged"),
        "resolved": t.plain(lang, "digest.file.alert_resolved"),
    }
    return DigestLabels(
        hidden=None if names_shown else t.plain(lang, "privacy.hidden"),
        zone=zone,
        categories=dict(categories),
        units=dict(units),
        statuses=statuses,
        kinds={
            "incident": t.plain(lang, "digest.file.kind_incident"),
            "activity": t.plain(lang, "digest.file.kind_activity"),
            "nothing": t.plain(lang, "digest.file.kind_nothing"),
        },
        actions={o.value: t.plain(lang, f"incident.action.{o.value}") for o in actions},
        yes=t.plain(lang, "export.yes"),
        no=t.plain(lang, "export.no"),
        chart_title_days=t.plain(lang, "digest.file.title_days"),
        chart_title_compliance=t.plain(lang, "digest.file.title_compliance"),
        chart_axis_reports=t.plain(lang, "digest.file.axis_reports"),
        chart_axis_on_time=t.plain(lang, "digest.file.axis_on_time"),
        chart_other=t.plain(lang, "digest.file.other"),
        chart_no_reports=t.plain(lang, "digest.file.no_reports"),
        chart_no_deadlines=t.plain(lang, "digest.file.no_deadlines"),
        sheet_reports=t.plain(lang, "digest.file.sheet_reports"),
        sheet_compliance=t.plain(lang, "digest.file.sheet_compliance"),
        sheet_hot_spots=t.plain(lang, "digest.file.sheet_hot_spots"),
        sheet_silent=t.plain(lang, "digest.file.sheet_silent"),
        headers_reports=(
            t.plain(lang, "export.column.id"),
            t.plain(lang, "export.column.kind"),
            t.plain(lang, "export.column.category"),
            t.plain(lang, "export.column.unit"),
            t.plain(lang, "export.column.reporter"),
            t.plain(lang, "export.column.occurred_at"),
            t.plain(lang, "export.column.submitted_at"),
            t.plain(lang, "export.column.location"),
            t.plain(lang, "export.column.description"),
            t.plain(lang, "export.column.people"),
            t.plain(lang, "export.column.action_taken"),
            t.plain(lang, "export.column.participants"),
            t.plain(lang, "export.column.reached"),
            t.plain(lang, "export.column.duration_minutes"),
            t.plain(lang, "export.column.photos"),
            t.plain(lang, "export.column.urgent"),
            t.plain(lang, "digest.file.column_review"),
            t.plain(lang, "digest.file.column_alert"),
        ),
        headers_compliance=(
            t.plain(lang, "digest.file.column_span"),
            t.plain(lang, "export.column.unit"),
            t.plain(lang, "digest.file.column_member"),
            t.plain(lang, "digest.file.column_owed"),
            t.plain(lang, "digest.file.column_met"),
            t.plain(lang, "digest.file.column_missed"),
            t.plain(lang, "digest.file.column_rate"),
        ),
        headers_hot_spots=(
            t.plain(lang, "export.column.category"),
            t.plain(lang, "digest.file.column_where"),
            t.plain(lang, "digest.file.column_count"),
            t.plain(lang, "digest.file.column_first"),
            t.plain(lang, "digest.file.column_last"),
            t.plain(lang, "digest.file.column_reports"),
        ),
        headers_silent=(
            t.plain(lang, "export.column.unit"),
            t.plain(lang, "digest.file.column_last_report"),
        ),
        span_period=t.plain(lang, "digest.file.span_period"),
        span_year=t.plain(lang, "digest.file.span_year"),
        whole_unit=t.plain(lang, "digest.file.whole_unit"),
        # Keep the placeholder: each hot spot fills in its own distance.
        within=t.plain(lang, "digest.file.within", metres="{metres}"),
        never=t.plain(lang, "digest.file.never"),
    )


def category_name(labels: DigestLabels, kind: str, category: str | None) -> str:
    """A category's display name; its code if the catalogue no longer has it."""
    return labels.categories.get(series_key(kind, category)) or category or ""


def unit_name(labels: DigestLabels, code: str, fallback: str | None = None) -> str:
    return labels.units.get(code) or fallback or code


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    """Local wall-clock time without a zone: what Excel stores and shows."""
    return moment.astimezone(zone).replace(tzinfo=None)


def _period_text(digest: Digest, zone: ZoneInfo, start: datetime | None = None) -> str:
    first = (start or digest.start).astimezone(zone).date()
    last = digest.days[-1] if digest.days else first
    return _span(first, last)


def _span(first: date, last: date) -> str:
    if first == last:
        return f"{first:%d/%m/%Y}"
    return f"{first:%d/%m/%Y} – {last:%d/%m/%Y}"


# --- the chart ----------------------------------------------------------------------------

FIGURE_SIZE = (8.0, 9.0)  # inches: portrait, as a phone shows it
DPI = 100
TOP_SERIES = 6
MAX_NAME = 28  # characters of a unit or category name on the chart
# Colour-blind-safe (Okabe-Ito), one per shown series; grey for the rest.
_PALETTE = ("#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9")
_OTHER_COLOUR = "#9e9e9e"
_BAR_COLOUR = "#2e7d32"


def render_chart(digest: Digest, labels: DigestLabels) -> bytes:
    """Reports per day by category (top) and each unit's on-time rate (bottom), as PNG.

    A name with a character DejaVu Sans lacks (an emoji) shows a box rather than failing
    the digest, so matplotlib's warning about it is not passed on.
    """
    buffer = io.BytesIO()
    # Text is drawn as typed: no mathtext, no LaTeX. DejaVu Sans has every Vietnamese letter.
    style = matplotlib.rc_context(
        {
            "font.family": "DejaVu Sans",
            "text.parse_math": False,
            "text.usetex": False,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    with style, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Glyph .* missing from font", UserWarning)
        figure = Figure(figsize=FIGURE_SIZE, dpi=DPI, layout="constrained")
        FigureCanvasAgg(figure)
        figure.suptitle(_period_text(digest, labels.zone), fontsize=13, parse_math=False)
        grid = figure.add_gridspec(2, 1, height_ratios=(1.1, 1.0))
        _draw_days(figure.add_subplot(grid[0]), digest, labels)
        _draw_compliance(figure.add_subplot(grid[1]), digest.units_period, labels)
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def short_name(text: str, limit: int = MAX_NAME) -> str:
    """A long name cut in the middle: names of one ward differ at the end ("Tổ 12")."""
    if len(text) <= limit:
        return text
    tail = limit // 3
    return text[: limit - tail - 1].rstrip() + "…" + text[-tail:].lstrip()


def _note(axes: Axes, text: str) -> None:
    """A centred sentence in place of an empty panel."""
    axes.set_xticks([])
    axes.set_yticks([])
    for side in ("left", "bottom"):
        axes.spines[side].set_visible(False)
    axes.text(
        0.5, 0.5, text, transform=axes.transAxes, ha="center", va="center",
        fontsize=12, color="#555555", wrap=True, parse_math=False,
    )  # fmt: skip


def series_label(labels: DigestLabels, key: str) -> str:
    """A per-day series' legend entry: its category, or its kind if it has none."""
    kind, _, category = key.partition(":")
    return labels.categories.get(key) or category or labels.kinds.get(kind, kind)


def chart_series(
    per_day: Mapping[str, Sequence[int]], labels: DigestLabels, days: int
) -> list[tuple[str, list[int]]]:
    """The six largest series (most reports first), then the rest added up as "other".

    Seven colours are as many as a phone screen tells apart; series with no report on
    the chart's days are left out, so they take no place in the legend.
    """
    ranked = sorted(
        ((key, list(values)) for key, values in per_day.items() if sum(values)),
        key=lambda item: (-sum(item[1]), item[0]),
    )
    shown = [(series_label(labels, key), values) for key, values in ranked[:TOP_SERIES]]
    rest = [values for _, values in ranked[TOP_SERIES:]]
    if rest:
        shown.append((labels.chart_other, [sum(column) for column in zip(*rest, strict=True)]))
    return [(name, values[:days] + [0] * (days - len(values))) for name, values in shown]


def _draw_days(axes: Axes, digest: Digest, labels: DigestLabels) -> None:
    axes.set_title(labels.chart_title_days, loc="left", fontsize=12, parse_math=False)
    series = chart_series(digest.per_day, labels, len(digest.days))
    if not series:
        _note(axes, labels.chart_no_reports)
        return
    positions = list(range(len(digest.days)))
    bottom = [0] * len(positions)
    for index, (name, values) in enumerate(series):
        colour = _PALETTE[index] if index < TOP_SERIES else _OTHER_COLOUR
        axes.bar(positions, values, 0.75, bottom=bottom, label=short_name(name), color=colour)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    if len(positions) <= 16:
        for x, total in zip(positions, bottom, strict=True):
            if total:
                axes.annotate(
                    str(total), (x, total), xytext=(0, 2), textcoords="offset points",
                    ha="center", va="bottom", fontsize=9,
                )  # fmt: skip
    step = max(1, -(-len(positions) // 10))  # at most ten dates under the bars
    axes.set_xticks(
        positions[::step], labels=[f"{day:%d/%m}" for day in digest.days[::step]], fontsize=9
    )
    axes.set_xlim(-0.6, len(positions) - 0.4)
    axes.set_ylim(0, max(bottom) * 1.12 + 0.5)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylabel(labels.chart_axis_reports, parse_math=False)
    legend = axes.legend(
        loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=2, fontsize=9, frameon=False
    )
    for text in legend.get_texts():
        text.set_parse_math(False)


def rate_text(rate: Rate) -> str:
    """The rounded rate, then periods met of periods owed: "83% (5/6)"."""
    share = rate.tally.rate
    percent = "–" if share is None else f"{round(share * 100)}%"
    return f"{percent} ({rate.tally.met}/{rate.tally.owed})"


def _draw_compliance(axes: Axes, rates: Sequence[Rate], labels: DigestLabels) -> None:
    axes.set_title(labels.chart_title_compliance, loc="left", fontsize=12, parse_math=False)
    if not rates:
        _note(axes, labels.chart_no_deadlines)
        return
    size = 10.0 if len(rates) <= 12 else max(6.0, 10.0 - (len(rates) - 12) / 4)
    positions = list(range(len(rates)))
    percents = [100 * (rate.tally.rate or 0.0) for rate in rates]
    axes.barh(positions, [100.0] * len(rates), 0.7, color="#eeeeee")
    axes.barh(positions, percents, 0.7, color=_BAR_COLOUR)
    for y, value, rate in zip(positions, percents, rates, strict=True):
        axes.text(value + 1.5, y, rate_text(rate), va="center", fontsize=size, parse_math=False)
    names = [short_name(unit_name(labels, rate.unit_code, rate.name)) for rate in rates]
    axes.set_yticks(positions, labels=names, fontsize=size, parse_math=False)
    # Best first, at the top; room for five rows at least, so few units get slim bars.
    axes.set_ylim(max(len(rates), 5) - 0.5, -0.5)
    axes.set_xlim(0, 135)  # room for the "83% (5/6)" right of a full bar
    axes.set_xticks([0, 25, 50, 75, 100])
    axes.spines["bottom"].set_bounds(0, 100)
    axes.set_xlabel(labels.chart_axis_on_time, parse_math=False)
    axes.tick_params(axis="y", length=0)


# --- the spreadsheet ----------------------------------------------------------------------

Cell = str | int | float | datetime | None
_DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
_WIDTH_LIMITS = (6, 60)
_DATETIME_WIDTH = 17
_FORBIDDEN_IN_SHEET_NAMES = str.maketrans({char: " " for char in "[]:*?/\\"})


def render_sheet(digest: Digest, labels: DigestLabels) -> bytes:
    """The period's reports, compliance, hot spots and silent units, as XLSX.

    Every text cell goes through ``write_string``, so nothing a user typed can become a
    formula or a link, whatever its first character; numbers and times are real numbers
    and dates Excel can sort and filter.
    """
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    # A fixed creation time, so the same digest gives the same file.
    workbook.set_properties({"created": digest.end.astimezone(UTC).replace(tzinfo=None)})
    formats = _Formats.of(workbook)
    tables = (
        (labels.sheet_reports, labels.headers_reports, _report_rows(digest.reports, labels)),
        (labels.sheet_compliance, labels.headers_compliance, _compliance_rows(digest, labels)),
        (labels.sheet_hot_spots, labels.headers_hot_spots, _hot_spot_rows(digest, labels)),
        (labels.sheet_silent, labels.headers_silent, _silent_rows(digest.silent, labels)),
    )
    for name, headers, rows in tables:
        _write_table(workbook.add_worksheet(sheet_name(name)), headers, rows, formats)
    workbook.close()
    return buffer.getvalue()


def sheet_name(text: str) -> str:
    """A name Excel accepts: none of []:*?/\\ and at most 31 characters."""
    return text.translate(_FORBIDDEN_IN_SHEET_NAMES).strip()[:31] or "-"


@dataclass(frozen=True)
class _Formats:
    """The workbook's cell formats (XlsxWriter objects, hence Any)."""

    header: Any
    moment: Any
    percent: Any

    @classmethod
    def of(cls, workbook: Any) -> _Formats:
        return cls(
            header=workbook.add_format({"bold": True, "bg_color": "#e8eef4", "bottom": 1}),
            moment=workbook.add_format({"num_format": _DATETIME_FORMAT}),
            percent=workbook.add_format({"num_format": "0%"}),
        )


class Percent(float):
    """A share (0.83) that the sheet shows as a percentage (83%)."""

    __slots__ = ()


def _write_table(
    sheet: Any, headers: Sequence[str], rows: Sequence[Sequence[Cell]], formats: _Formats
) -> None:
    """A header row (bold, frozen, filtered) over the rows, columns as wide as their text."""
    for column, title in enumerate(headers):
        sheet.write_string(0, column, title, formats.header)
    for row_number, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            _write_cell(sheet, row_number, column, value, formats)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(rows), 1), len(headers) - 1)
    for column, title in enumerate(headers):
        widest = max([len(title) + 3, *(_width(row[column]) for row in rows)])
        sheet.set_column(column, column, min(max(widest, _WIDTH_LIMITS[0]), _WIDTH_LIMITS[1]))


def _write_cell(sheet: Any, row: int, column: int, value: Cell, formats: _Formats) -> None:
    """Text as a string, never a formula; numbers as numbers; times as Excel times.

    Nothing at all for an empty value, so that Excel's filter lists it as blank.
    """
    if isinstance(value, str):
        if value:
            sheet.write_string(row, column, value)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, column, value, formats.moment)
    elif isinstance(value, Percent):
        sheet.write_number(row, column, value, formats.percent)
    elif value is not None:
        sheet.write_number(row, column, value)


def _width(value: Cell) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return _DATETIME_WIDTH
    if isinstance(value, str):
        return max((len(line) for line in value.splitlines()), default=0) + 1
    return len(str(value)) + 1


def place(report: DigestReport) -> str:
    """The typed address if there is one, else the pin's "lat, lon"."""
    if report.address:
        return report.address
    if report.latitude is not None and report.longitude is not None:
        return f"{report.latitude:.6f}, {report.longitude:.6f}"
    return ""


def _report_rows(reports: Sequence[DigestReport], labels: DigestLabels) -> list[list[Cell]]:
    zone = labels.zone
    return [
        [
            r.id,
            labels.kinds.get(r.kind, r.kind),
            category_name(labels, r.kind, r.category),
            unit_name(labels, r.unit_code),
            labels.hidden or r.reporter,
            local(r.occurred_at, zone),
            local(r.submitted_at, zone),
            place(r),
            free_text(r.description, labels.hidden is None),
            people_or_hidden(r.people, labels.hidden is None, labels.hidden or "") or "",
            labels.actions.get(r.action_taken, r.action_taken) if r.action_taken else "",
            r.participants,
            r.reached,
            r.duration_minutes,
            r.photo_count,
            labels.yes if r.urgent else labels.no,
            labels.statuses.get(r.status, r.status),
            labels.statuses.get(r.alert_state, r.alert_state) if r.alert_state else "",
        ]
        for r in reports
    ]


def _compliance_rows(digest: Digest, labels: DigestLabels) -> list[list[Cell]]:
    """Units, then their members, for the covered time, then the same for the year."""
    period = f"{labels.span_period} ({_period_text(digest, labels.zone)})"
    year = f"{labels.span_year} ({_period_text(digest, labels.zone, digest.year_start)})"
    spans = (
        (period, digest.units_period, digest.members_period),
        (year, digest.units_year, digest.members_year),
    )
    rows: list[list[Cell]] = []
    for span, unit_rates, member_rates in spans:
        for rate in (*unit_rates, *member_rates):
            member = labels.whole_unit if rate.member_id is None else labels.hidden or rate.name
            share = rate.tally.rate
            rows.append(
                [
                    span,
                    unit_name(labels, rate.unit_code),
                    member,
                    rate.tally.owed,
                    rate.tally.met,
                    rate.tally.missed,
                    None if share is None else Percent(share),
                ]
            )
    return rows


def _hot_spot_rows(digest: Digest, labels: DigestLabels) -> list[list[Cell]]:
    return [_hot_spot_row(spot, labels) for spot in digest.hot_spots]


def _hot_spot_row(spot: HotSpot, labels: DigestLabels) -> list[Cell]:
    if spot.unit_code is not None:
        where = unit_name(labels, spot.unit_code)
    else:
        where = labels.within.format(metres=round(spot.metres or 0))
    return [
        category_name(labels, "incident", spot.category),
        where,
        len(spot.report_ids),
        local(spot.first, labels.zone),
        local(spot.last, labels.zone),
        ", ".join(f"#{number}" for number in spot.report_ids),
    ]


def _silent_rows(silent: Sequence[SilentUnit], labels: DigestLabels) -> list[list[Cell]]:
    return [
        [
            unit_name(labels, unit.unit_code),
            local(unit.last_report, labels.zone) if unit.last_report else labels.never,
        ]
        for unit in silent
    ]
