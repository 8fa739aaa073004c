"""The digest's chart and spreadsheet (presentation/digest_files.py).

The digests here are built by hand from domain/digest.py's dataclasses, so these tests
say what the files show for given numbers, whatever computes them.
"""

from __future__ import annotations

import io
import pickle
import re
import zipfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from matplotlib.image import imread

from domain.digest import (
    CategoryTotal,
    Digest,
    DigestReport,
    HotSpot,
    Rate,
    SilentUnit,
    Tally,
    UnitTotal,
    series_key,
)
from presentation.digest_files import (
    DigestLabels,
    chart_series,
    digest_labels,
    rate_text,
    render_chart,
    render_sheet,
    sheet_name,
    short_name,
)
from presentation.i18n import Translator

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2026, 12, 1, tzinfo=ZONE).astimezone(UTC)
END = datetime(2026, 12, 4, tzinfo=ZONE).astimezone(UTC)
YEAR_START = datetime(2026, 11, 15, tzinfo=ZONE).astimezone(UTC)
DAYS = (date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HOSTILE_TEXTS = ('=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)")
CATEGORIES = {
    "incident:THEFT": "Trộm cắp",
    "incident:FIGHT": "<b>=1+1</b>",
    "activity:PATROL": "Tuần tra",
}
UNITS = {"K01": "Tổ 1 – Khu phố Đông", "K02": "Tổ 2 $x^2$", "K03": "Tổ 3"}
SHEET_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
EXCEL_EPOCH = datetime(1899, 12, 30)  # noqa: DTZ001 - Excel's serial dates have no zone


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of December 2026, local time, as UTC like storage gives it."""
    return datetime(2026, 12, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


def report(
    number: int, kind: str, category: str | None, moment: datetime, **more: Any
) -> DigestReport:
    """A report of K01's first member, half an hour after what it reports, unless told."""
    base = DigestReport(
        id=number,
        kind=kind,
        category=category,
        unit_code="K01",
        member_id=1,
        reporter="Nguyễn Văn An",
        submitted_at=moment,
        occurred_at=moment - timedelta(minutes=30),
        description=f"Báo cáo số {number}",
    )
    return replace(base, **more)


REPORTS = (
    report(
        101, "incident", "THEFT", at(1, 8, 15), urgent=True, alert_state="acknowledged",
        address="12 Lê Lợi", people="2 thanh niên", action_taken="police", photo_count=2,
        description="Mất xe máy trước nhà số 12",
    ),
    report(102, "incident", "FIGHT", at(1, 21), latitude=10.7769, longitude=106.7009,
           description=HOSTILE_TEXTS[0], status="verified"),
    report(103, "activity", "PATROL", at(2, 19), unit_code="K02", member_id=2,
           reporter="Trần Thị Bình", participants=4, reached=35, duration_minutes=90,
           description=HOSTILE_TEXTS[1]),
    report(104, "incident", "THEFT", at(2, 22), description=HOSTILE_TEXTS[2]),
    report(105, "nothing", None, at(3, 7), unit_code="K02", member_id=2,
           reporter="=cmd|' /C calc'!A0", description=HOSTILE_TEXTS[3]),
    report(106, "incident", "THEFT", at(3, 23, 59), status="returned"),
)  # fmt: skip


def per_day(reports: Sequence[DigestReport]) -> dict[str, tuple[int, ...]]:
    counts = Counter(
        (series_key(r.kind, r.category), r.submitted_at.astimezone(ZONE).date()) for r in reports
    )
    keys = sorted({key for key, _ in counts})
    return {key: tuple(counts[key, day] for day in DAYS) for key in keys}


def by_category(reports: Sequence[DigestReport]) -> tuple[CategoryTotal, ...]:
    counts = Counter((r.kind, r.category) for r in reports)
    return tuple(CategoryTotal(kind, code, n) for (kind, code), n in sorted(counts.items()))


UNITS_PERIOD = (
    Rate("K01", None, "K01", Tally(6, 5)),
    Rate("K02", None, "K02", Tally(3, 1)),
)
MEMBERS_PERIOD = (
    Rate("K01", 1, "Nguyễn Văn An", Tally(3, 3)),
    Rate("K01", 3, "@Lê Văn Cường", Tally(3, 2)),
    Rate("K02", 2, "Trần Thị Bình", Tally(3, 1)),
)
HOT_SPOTS = (
    HotSpot("THEFT", "K01", (101, 104, 106), at(1, 8, 15), at(3, 23, 59)),
    HotSpot("FIGHT", None, (90, 95, 102), at(1, 1), at(1, 21), metres=241.6),
)
SILENT = (SilentUnit("K03", at(1, 6) - timedelta(days=9)), SilentUnit("K04", None))


def sample_digest(reports: Sequence[DigestReport] = REPORTS) -> Digest:
    return Digest(
        start=START,
        end=END,
        year_start=YEAR_START,
        roots=("P01",),
        by_category=by_category(reports),
        by_unit=(UnitTotal("K01", incidents=4, urgent=1), UnitTotal("K02", 0, 1, 1)),
        urgent=tuple(r for r in reports if r.urgent),
        hot_spots=HOT_SPOTS,
        silent=SILENT,
        units_period=UNITS_PERIOD,
        members_period=MEMBERS_PERIOD,
        units_year=(Rate("K01", None, "K01", Tally(20, 18)),),
        members_year=(Rate("K01", 1, "Nguyễn Văn An", Tally(10, 10)),),
        days=DAYS,
        per_day=per_day(reports),
        reports=tuple(reports),
        deadlines=Tally(9, 6),
    )


def empty_digest() -> Digest:
    return Digest(
        start=START, end=END, year_start=YEAR_START, roots=("P01",), by_category=(),
        by_unit=(), urgent=(), hot_spots=(), silent=(), units_period=(), members_period=(),
        units_year=(), members_year=(), days=DAYS, per_day={}, reports=(),
    )  # fmt: skip


@pytest.fixture(scope="module")
def translator() -> Translator:
    return Translator.load("vi")


@pytest.fixture(scope="module")
def labels(translator: Translator) -> DigestLabels:
    return digest_labels(translator, "vi", ZONE, CATEGORIES, UNITS)


# --- reading the files back -----------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) in pixels, read by a real PNG decoder."""
    assert data.startswith(PNG_SIGNATURE)
    image = imread(io.BytesIO(data), format="png")
    return image.shape[1], image.shape[0]


def xlsx_parts(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def worksheets(parts: Mapping[str, str]) -> list[str]:
    names = sorted(n for n in parts if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))
    return [parts[name] for name in names]


def shared_strings(parts: Mapping[str, str]) -> list[str]:
    if "xl/sharedStrings.xml" not in parts:
        return []
    root = ElementTree.fromstring(parts["xl/sharedStrings.xml"])  # noqa: S314 - ours
    return [
        "".join(text.text or "" for text in item.iter(f"{{{SHEET_NS['m']}}}t"))
        for item in root.findall("m:si", SHEET_NS)
    ]


def cells(parts: Mapping[str, str], sheet: int) -> dict[str, str | float]:
    """One worksheet's cells by reference ("A1"): text as str, numbers as float."""
    strings = shared_strings(parts)
    root = ElementTree.fromstring(worksheets(parts)[sheet])  # noqa: S314 - ours
    found: dict[str, str | float] = {}
    for cell in root.iter(f"{{{SHEET_NS['m']}}}c"):
        value = cell.find("m:v", SHEET_NS)
        if value is None or value.text is None:
            continue
        if cell.get("t") == "s":
            found[cell.get("r", "")] = strings[int(value.text)]
        else:
            found[cell.get("r", "")] = float(value.text)
    return found


def row_of(table: Mapping[str, str | float], row: int, width: int) -> list[str | float | None]:
    return [table.get(f"{chr(ord('A') + column)}{row}") for column in range(width)]


def excel_time(moment: datetime) -> float:
    local = moment.astimezone(ZONE).replace(tzinfo=None)
    return (local - EXCEL_EPOCH) / timedelta(days=1)


# --- labels ---------------------------------------------------------------------------------


def test_labels_come_from_the_catalogue_in_the_recipients_language(
    labels: DigestLabels, translator: Translator
) -> None:
    assert labels.headers_reports[:4] == ("Số", "Loại báo cáo", "Phân loại", "Đơn vị")
    assert labels.kinds == {
        "incident": "Vụ việc",
        "activity": "Hoạt động",
        "nothing": "Không có gì mới",
    }
    assert labels.statuses["verified"] == "đã xác minh"
    assert labels.statuses["acknowledged"] == "đang xử lý"
    assert labels.actions["police"] == translator.plain("vi", "incident.action.police")
    assert (labels.yes, labels.no) == ("Có", "Không")
    assert labels.within.format(metres=240) == "trong phạm vi 240 m"
    every = [value for value in vars(labels).values() if isinstance(value, str)]
    every += [h for value in vars(labels).values() if isinstance(value, tuple) for h in value]
    assert all(text and "digest.file" not in text for text in every)
    english = digest_labels(translator, "en", ZONE, CATEGORIES, UNITS)
    assert english.chart_title_days == "Reports per day"
    assert english.headers_reports[0] != labels.headers_reports[0]


def test_labels_and_digest_survive_the_trip_to_a_worker_process(labels: DigestLabels) -> None:
    assert pickle.loads(pickle.dumps(labels)) == labels  # noqa: S301 - our own bytes
    assert pickle.loads(pickle.dumps(sample_digest())) == sample_digest()  # noqa: S301


def test_sheet_names_are_ones_excel_accepts() -> None:
    assert sheet_name("Báo cáo [1/2]: *?") == "Báo cáo  1 2"
    assert len(sheet_name("x" * 40)) == 31
    assert sheet_name("[]") == "-"


# --- the chart ------------------------------------------------------------------------------


def test_chart_is_a_phone_sized_png(labels: DigestLabels) -> None:
    data = render_chart(sample_digest(), labels)
    assert png_size(data) == (800, 900)


def test_chart_is_the_same_for_the_same_digest(labels: DigestLabels) -> None:
    assert render_chart(sample_digest(), labels) == render_chart(sample_digest(), labels)


def test_chart_draws_names_as_typed_never_as_mathtext(translator: Translator) -> None:
    # "$\frac{$" is a mathtext error: drawing it as math would raise.
    hostile = {
        "incident:THEFT": r"$x^2$ <b>bold</b> $\frac{$",
        "incident:FIGHT": "Đánh nhau 🚨 $$",
        "activity:PATROL": "\\ _ ^ { } % & #",
    }
    units = {"K01": r"$\sqrt{$ Tổ 1", "K02": "<i>Tổ 2</i> 🏠"}
    labels = digest_labels(translator, "vi", ZONE, hostile, units)
    assert png_size(render_chart(sample_digest(), labels)) == (800, 900)


def test_chart_of_an_empty_digest_still_renders(labels: DigestLabels) -> None:
    assert png_size(render_chart(empty_digest(), labels)) == (800, 900)


def test_chart_of_a_long_period_with_many_units_renders(labels: DigestLabels) -> None:
    month = tuple(date(2026, 12, 1) + timedelta(days=n) for n in range(31))
    long_name = "Tổ dân phố có tên rất dài"
    rates = tuple(Rate(f"U{n:02}", None, f"{long_name} {n}", Tally(31, n)) for n in range(30))
    digest = sample_digest()
    wide = Digest(
        **{
            **vars(digest),
            "days": month,
            "per_day": {f"incident:C{n}": tuple((n * d) % 4 for d in range(31)) for n in range(9)},
            "units_period": rates,
        }
    )
    assert png_size(render_chart(wide, labels)) == (800, 900)


def test_chart_shows_the_six_largest_series_and_adds_up_the_rest(labels: DigestLabels) -> None:
    counts = {f"incident:C{n}": (n, 1, 0) for n in range(9)}
    counts["nothing:"] = (0, 0, 0)  # nothing reported: no legend entry
    series = chart_series(counts, labels, 3)
    assert [name for name, _ in series] == ["C8", "C7", "C6", "C5", "C4", "C3", "Khác"]
    assert series[-1] == ("Khác", [0 + 1 + 2, 3, 0])
    named = chart_series(per_day(REPORTS), labels, 3)
    assert dict(named)["Trộm cắp"] == [1, 1, 1]
    assert dict(named)["Không có gì mới"] == [0, 0, 1]


def test_long_names_are_cut_in_the_middle_where_they_differ_least() -> None:
    assert short_name("Tổ 3") == "Tổ 3"
    cut = short_name("Tổ dân phố có tên rất dài số 12")
    assert cut == "Tổ dân phố có tên…dài số 12"
    assert len(cut) <= 28


def test_rate_text_gives_the_rounded_rate_then_met_of_owed() -> None:
    assert rate_text(Rate("K01", None, "K01", Tally(6, 5))) == "83% (5/6)"
    assert rate_text(Rate("K01", None, "K01", Tally(0, 0))) == "– (0/0)"


# --- the spreadsheet ------------------------------------------------------------------------


def test_sheet_has_the_four_tables_with_vietnamese_names(labels: DigestLabels) -> None:
    parts = xlsx_parts(render_sheet(sample_digest(), labels))
    workbook = parts["xl/workbook.xml"]
    for name in ("Báo cáo", "Đúng hạn", "Điểm nóng", "Đơn vị chưa báo cáo"):
        assert f'name="{name}"' in workbook
    assert len(worksheets(parts)) == 4


def test_reports_sheet_lists_every_report_with_local_times(labels: DigestLabels) -> None:
    parts = xlsx_parts(render_sheet(sample_digest(), labels))
    table = cells(parts, 0)
    width = len(labels.headers_reports)
    assert row_of(table, 1, width) == list(labels.headers_reports)
    assert "Người báo" in shared_strings(parts) and "Mô tả" not in labels.headers_reports
    first = row_of(table, 2, width)
    assert first == [
        101.0, "Vụ việc", "Trộm cắp", "Tổ 1 – Khu phố Đông", "Nguyễn Văn An",
        pytest.approx(excel_time(at(1, 7, 45))), pytest.approx(excel_time(at(1, 8, 15))),
        "12 Lê Lợi", "Mất xe máy trước nhà số 12", "2 thanh niên",
        labels.actions["police"], None, None, None, 2.0, "Có", "đã gửi", "đang xử lý",
    ]  # fmt: skip
    assert row_of(table, 3, width)[7] == "10.776900, 106.700900"
    patrol = row_of(table, 4, width)
    # Team members who took part, then people or households reached: two numbers.
    assert patrol[11:16] == [4.0, 35.0, 90.0, 0.0, "Không"]
    assert row_of(table, 6, width)[1:3] == ["Không có gì mới", None]
    assert row_of(table, 7, width)[16] == "cần bổ sung"
    assert f"B{len(REPORTS) + 2}" not in table
    assert "dd/mm/yyyy hh:mm" in parts["xl/styles.xml"]


def test_reports_sheet_has_a_bold_frozen_filtered_header(labels: DigestLabels) -> None:
    parts = xlsx_parts(render_sheet(sample_digest(), labels))
    for sheet in worksheets(parts):
        assert '<pane ySplit="1"' in sheet and 'state="frozen"' in sheet
        assert "<autoFilter " in sheet
        assert "<cols>" in sheet
    assert "<b/>" in parts["xl/styles.xml"]


def test_text_that_looks_like_a_formula_stays_text(labels: DigestLabels) -> None:
    parts = xlsx_parts(render_sheet(sample_digest(), labels))
    strings = shared_strings(parts)
    for text in (*HOSTILE_TEXTS, "<b>=1+1</b>", "=cmd|' /C calc'!A0", "@Lê Văn Cường"):
        assert text in strings
    assert "&lt;b&gt;=1+1&lt;/b&gt;" in parts["xl/sharedStrings.xml"]
    for sheet in worksheets(parts):
        assert "<f>" not in sheet and "<f " not in sheet
        assert "<hyperlink" not in sheet
    assert not any(name.startswith("xl/worksheets/_rels") for name in parts)


def test_compliance_sheet_lists_units_then_members_for_period_then_year(
    labels: DigestLabels,
) -> None:
    table = cells(xlsx_parts(render_sheet(sample_digest(), labels)), 1)
    width = len(labels.headers_compliance)
    assert row_of(table, 1, width) == list(labels.headers_compliance)
    period = "Kỳ này (01/12/2026 – 03/12/2026)"
    year = "Năm xếp loại (15/11/2026 – 03/12/2026)"
    rows = [row_of(table, n, width) for n in range(2, 9)]
    assert rows == [
        [period, "Tổ 1 – Khu phố Đông", "Cả đơn vị", 6.0, 5.0, 1.0, pytest.approx(5 / 6)],
        [period, "Tổ 2 $x^2$", "Cả đơn vị", 3.0, 1.0, 2.0, pytest.approx(1 / 3)],
        [period, "Tổ 1 – Khu phố Đông", "Nguyễn Văn An", 3.0, 3.0, 0.0, 1.0],
        [period, "Tổ 1 – Khu phố Đông", "@Lê Văn Cường", 3.0, 2.0, 1.0, pytest.approx(2 / 3)],
        [period, "Tổ 2 $x^2$", "Trần Thị Bình", 3.0, 1.0, 2.0, pytest.approx(1 / 3)],
        [year, "Tổ 1 – Khu phố Đông", "Cả đơn vị", 20.0, 18.0, 2.0, pytest.approx(0.9)],
        [year, "Tổ 1 – Khu phố Đông", "Nguyễn Văn An", 10.0, 10.0, 0.0, 1.0],
    ]


def test_hot_spot_and_silent_unit_sheets(labels: DigestLabels) -> None:
    parts = xlsx_parts(render_sheet(sample_digest(), labels))
    spots, silent = cells(parts, 2), cells(parts, 3)
    assert row_of(spots, 2, 6) == [
        "Trộm cắp", "Tổ 1 – Khu phố Đông", 3.0,
        pytest.approx(excel_time(at(1, 8, 15))), pytest.approx(excel_time(at(3, 23, 59))),
        "#101, #104, #106",
    ]  # fmt: skip
    assert row_of(spots, 3, 6)[:3] == ["<b>=1+1</b>", "trong phạm vi 242 m", 3.0]
    assert row_of(silent, 1, 2) == list(labels.headers_silent)
    last = excel_time(SILENT[0].last_report or END)
    assert row_of(silent, 2, 2) == ["Tổ 3", pytest.approx(last)]
    assert row_of(silent, 3, 2) == ["K04", "Chưa từng báo cáo"]


def test_sheet_of_an_empty_digest_has_headers_only(labels: DigestLabels) -> None:
    parts = xlsx_parts(render_sheet(empty_digest(), labels))
    tables = [cells(parts, n) for n in range(4)]
    headers = [f"{chr(ord('A') + n)}1" for n in range(len(labels.headers_reports))]
    assert list(tables[0]) == headers
    assert all(all(ref.endswith("1") and len(ref) == 2 for ref in table) for table in tables)


def test_sheet_is_the_same_for_the_same_digest(labels: DigestLabels) -> None:
    assert render_sheet(sample_digest(), labels) == render_sheet(sample_digest(), labels)
