"""Public holidays: `holidays import` and `holidays list`, the shipped defaults, the reads.

Driven through ``bot.cli.main`` exactly as ``python bot.py holidays ...`` runs, on a real
SQLite file per test; the shipped file is read here independently of the code under test.
"""

from __future__ import annotations

import asyncio
import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from botapi_sim.driver import Harness
from domain.holidays_csv import DEFAULT_FILE, default_holidays
from storage.db import Database
from storage.holidays import (
    all_holidays,
    holiday_days,
    holiday_name,
    holidays_between,
    is_holiday,
)
from tests.cli_support import BOM, cp1258, rows, run_cli, snapshot, write

SHIPPED_LINES = (
    "  01/01/2026  Thứ Năm   Tết Dương lịch / New Year's Day",
    "  02/01/2026  Thứ Sáu   Nghỉ hoán đổi dịp Tết Dương lịch (CBCCVC; làm bù thứ Bảy 10/01/2026)"
    " / Swapped day off for civil servants (make-up workday Sat 10 Jan 2026)",
    "  16/02/2026  Thứ Hai   Tết Nguyên đán: 29 tháng Chạp Ất Tỵ (Tất niên)"
    " / Lunar New Year holiday: New Year's Eve",
    "  17/02/2026  Thứ Ba    Tết Nguyên đán: Mùng 1 Tết Bính Ngọ / Lunar New Year's Day",
    "  18/02/2026  Thứ Tư    Tết Nguyên đán: Mùng 2 Tết / Lunar New Year, 2nd day",
    "  19/02/2026  Thứ Năm   Tết Nguyên đán: Mùng 3 Tết / Lunar New Year, 3rd day",
    "  20/02/2026  Thứ Sáu   Tết Nguyên đán: Mùng 4 Tết / Lunar New Year, 4th day",
    "  26/04/2026  Chủ nhật  Giỗ Tổ Hùng Vương (10/3 âm lịch) / Hung Kings Commemoration Day",
    "  27/04/2026  Thứ Hai   Nghỉ bù Giỗ Tổ Hùng Vương"
    " / Compensatory day off for Hung Kings Day (fell on Sunday)",
    "  30/04/2026  Thứ Năm   Ngày Chiến thắng 30/4 / Reunification Day",
    "  01/05/2026  Thứ Sáu   Ngày Quốc tế Lao động / International Labour Day",
    "  31/08/2026  Thứ Hai   Nghỉ hoán đổi dịp Quốc khánh (CBCCVC; làm bù thứ Bảy 22/08/2026)"
    " / Swapped day off for civil servants (make-up workday Sat 22 Aug 2026)",
    "  01/09/2026  Thứ Ba    Quốc khánh (ngày nghỉ liền kề) / National Day holiday (adjacent day)",
    "  02/09/2026  Thứ Tư    Quốc khánh / National Day",
)

OWN_2026 = "date,name\n2026-01-01,Tết Dương lịch\n2026-09-02,Quốc khánh\n2026-09-03,Nghỉ thêm\n"


def shipped() -> dict[date, str]:
    """The shipped file, read with nothing but the csv module."""
    with DEFAULT_FILE.open(encoding="utf-8", newline="") as handle:
        return {date.fromisoformat(r["date"]): r["name"] for r in csv.DictReader(handle)}


def stored(db_path: Path) -> dict[date, str]:
    return {
        date.fromisoformat(row["day"]): row["name"]
        for row in rows(db_path, "SELECT day, name FROM holidays ORDER BY day")
    }


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.sqlite3"


@pytest.fixture
def deployment(db_path: Path, tmp_path: Path) -> Path:
    """A deployment that imported its own 2026 and 2028, beside the shipped 2027."""
    own = write(tmp_path / "own.csv", OWN_2026 + "2028-01-01,Tết Dương lịch\n")
    assert run_cli(["holidays", "import", str(own)], db_path).status == 0
    return db_path


# --- the shipped defaults ------------------------------------------------------------


def test_shipped_file_is_vietnams_2026_and_2027() -> None:
    holidays = shipped()
    assert len(holidays) == 28
    assert sum(day.year == 2026 for day in holidays) == 14
    assert sum(day.year == 2027 for day in holidays) == 14
    assert (
        holidays[date(2026, 2, 17)] == "Tết Nguyên đán: Mùng 1 Tết Bính Ngọ / Lunar New Year's Day"
    )
    assert default_holidays() == holidays


def test_a_new_database_starts_with_the_shipped_holidays(db_path: Path, tmp_path: Path) -> None:
    units = write(tmp_path / "units.csv", "code,name,parent_code\n40,Tỉnh Nghệ An,\n")

    assert run_cli(["units", "import", str(units)], db_path).status == 0

    assert stored(db_path) == shipped()


async def test_the_bot_seeds_them_too(tmp_path: Path) -> None:
    bot = Harness(tmp_path / "bot.sqlite3")
    await bot.start()
    try:
        assert await all_holidays(bot.db) == shipped()
    finally:
        await bot.stop()


def test_the_shipped_file_imports_over_a_deployments_own_years(deployment: Path) -> None:
    result = run_cli(["holidays", "import", str(DEFAULT_FILE)], deployment)

    assert result.status == 0, result.err
    assert result.err == ""
    assert result.out.splitlines() == [
        "Đã nhập 28 ngày nghỉ lễ cho năm 2026, 2027 (thêm 12, bỏ 1, đổi tên 2)."
        " Ngày nghỉ lễ của các năm khác giữ nguyên."
    ]
    assert stored(deployment) == shipped() | {date(2028, 1, 1): "Tết Dương lịch"}


def test_the_shipped_file_on_a_new_database_changes_nothing(db_path: Path) -> None:
    result = run_cli(["holidays", "import", str(DEFAULT_FILE)], db_path)

    assert result.status == 0, result.err
    assert result.out.strip() == (
        "Không có gì thay đổi: 28 ngày nghỉ lễ của năm 2026, 2027 đã đúng như trong tệp."
    )
    assert stored(db_path) == shipped()


def test_defaults_are_not_brought_back_once_replaced(deployment: Path, tmp_path: Path) -> None:
    units = write(tmp_path / "units.csv", "code,name,parent_code\n40,Tỉnh Nghệ An,\n")
    before = stored(deployment)

    assert run_cli(["units", "import", str(units)], deployment).status == 0

    assert stored(deployment) == before


# --- importing a deployment's own file -------------------------------------------------


def test_own_import_replaces_only_the_years_it_covers(db_path: Path, tmp_path: Path) -> None:
    own = write(tmp_path / "own.csv", OWN_2026)

    result = run_cli(["holidays", "import", str(own)], db_path)

    assert result.status == 0, result.err
    assert result.out.strip() == (
        "Đã nhập 3 ngày nghỉ lễ cho năm 2026 (thêm 1, bỏ 12, đổi tên 2)."
        " Ngày nghỉ lễ của các năm khác giữ nguyên."
    )
    expected_2027 = {day: name for day, name in shipped().items() if day.year == 2027}
    assert stored(db_path) == {
        date(2026, 1, 1): "Tết Dương lịch",
        date(2026, 9, 2): "Quốc khánh",
        date(2026, 9, 3): "Nghỉ thêm",
        **expected_2027,
    }


def test_reimporting_an_unchanged_file_says_nothing_changed(
    deployment: Path, tmp_path: Path
) -> None:
    own = write(tmp_path / "again.csv", OWN_2026 + "2028-01-01,Tết Dương lịch\n")
    before = snapshot(deployment)

    result = run_cli(["holidays", "import", str(own)], deployment)

    assert result.status == 0, result.err
    assert result.out.strip() == (
        "Không có gì thay đổi: 4 ngày nghỉ lễ của năm 2026, 2028 đã đúng như trong tệp."
    )
    assert snapshot(deployment) == before


def test_in_english_too(deployment: Path, tmp_path: Path) -> None:
    own = write(tmp_path / "own.csv", "date,name\n2028-01-01,New Year\n2028-01-03,Extra\n")

    result = run_cli(["holidays", "import", str(own)], deployment, language="en")

    assert result.status == 0, result.err
    assert result.out.strip() == (
        "Imported 2 public holidays for 2028 (1 added, 0 removed, 1 renamed)."
        " Other years' holidays are unchanged."
    )


@pytest.mark.parametrize(
    "written",
    [
        "02/09/2026,Quốc khánh\n1/1/2026,Tết Dương lịch\n",
        "2026-09-02,Quốc khánh\n01/01/2026,Tết Dương lịch\n",
        " 02/09/2026 , Quốc khánh \n\n,\n2026-01-01,Tết Dương lịch\n\n",
    ],
    ids=["dd/mm/yyyy and d/m/yyyy", "both forms in one file", "spaces and blank lines"],
)
def test_day_month_year_is_read_as_vietnamese_write_it(
    db_path: Path, tmp_path: Path, written: str
) -> None:
    path = write(tmp_path / "dmy.csv", " Date , Name \n" + written)

    result = run_cli(["holidays", "import", str(path)], db_path)

    assert result.status == 0, result.err
    assert {day: name for day, name in stored(db_path).items() if day.year == 2026} == {
        date(2026, 1, 1): "Tết Dương lịch",
        date(2026, 9, 2): "Quốc khánh",
    }


@pytest.mark.parametrize(
    "content",
    [
        BOM + "date,name\r\n2026-01-01,Tết Dương lịch\r\n02/09/2026,Quốc khánh\r\n".encode(),
        "date,name\r2026-01-01,Tết Dương lịch\r02/09/2026,Quốc khánh\r".encode(),
        "date,name\n2026-01-01,Te\u0302\u0301t\u00a0Dương lịch\n02/09/2026,Quốc khánh".encode(),
    ],
    ids=["Excel: BOM and CRLF", "old Mac: CR", "decomposed marks, no-break space, no last EOL"],
)
def test_excel_and_other_writers_are_read_alike(
    db_path: Path, tmp_path: Path, content: bytes
) -> None:
    path = write(tmp_path / "excel.csv", content)

    result = run_cli(["holidays", "import", str(path)], db_path)

    assert result.status == 0, result.err
    assert {day: name for day, name in stored(db_path).items() if day.year == 2026} == {
        date(2026, 1, 1): "Tết Dương lịch",
        date(2026, 9, 2): "Quốc khánh",
    }


def test_a_name_may_hold_commas_in_quotes_and_quotes_doubled(db_path: Path, tmp_path: Path) -> None:
    path = write(
        tmp_path / "quoted.csv",
        'date,name\n2026-09-01,"Quốc khánh, ngày liền kề"\n2026-09-02,"Lễ ""Quốc khánh"""\n'
        '2026-09-03,Ngày "thêm"\n',
    )

    assert run_cli(["holidays", "import", str(path)], db_path).status == 0

    assert {day: name for day, name in stored(db_path).items() if day.year == 2026} == {
        date(2026, 9, 1): "Quốc khánh, ngày liền kề",
        date(2026, 9, 2): 'Lễ "Quốc khánh"',
        date(2026, 9, 3): 'Ngày "thêm"',
    }


def test_a_name_of_exactly_200_characters_is_taken(db_path: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "long.csv", f"date,name\n2026-01-01,{'Ư' * 200}\n")

    assert run_cli(["holidays", "import", str(path)], db_path).status == 0

    assert stored(db_path)[date(2026, 1, 1)] == "Ư" * 200


# --- bad files are refused whole -------------------------------------------------------


@dataclass(frozen=True)
class BadFile:
    content: bytes
    # (line, reason in Vietnamese, reason in English) for every problem, in line order
    problems: tuple[tuple[int, str, str], ...]


BAD_DATE_VI = (
    "không đọc được ngày “{}”: hãy ghi theo dạng YYYY-MM-DD (ví dụ 2026-09-02)"
    " hoặc dd/mm/yyyy (ví dụ 02/09/2026)"
)
BAD_DATE_EN = (
    "cannot read the date “{}”: write it as YYYY-MM-DD (e.g. 2026-09-02)"
    " or dd/mm/yyyy (e.g. 02/09/2026)"
)
NOT_UTF8 = (
    "tệp không phải mã UTF-8 (hãy lưu lại dưới dạng CSV UTF-8)",
    "the file is not UTF-8 (save it again as CSV UTF-8)",
)
HEADER = ("dòng tiêu đề phải đúng là date,name", "the header must be exactly date,name")
QUOTES = (
    'dấu ngoặc kép (") ở dòng này không được đóng đúng chỗ, tệp bị lỗi định dạng CSV',
    'a double quote (") on this line is not closed where it should be; the CSV is malformed',
)
COLUMNS = (
    "cần 2 cột (ngày, tên), có {}; nếu tên có dấu phẩy, hãy đặt cả tên trong ngoặc kép",
    "expected 2 columns (date, name), found {}; if the name contains a comma,"
    " put the whole name in double quotes",
)
CONTROL = (
    "có ký tự điều khiển (tab, NUL…) trong ngày hoặc tên",
    "a control character (tab, NUL…) in the date or the name",
)
EMPTY_NAME = ("tên ngày nghỉ lễ đang trống", "the holiday's name is empty")
GOOD = "date,name\n2026-01-01,Tết Dương lịch\n"

BAD_FILES = {
    "wrong header": BadFile("ngay,ten\n2026-01-01,Tết\n".encode(), ((1, *HEADER),)),
    "units file by mistake": BadFile(
        b"code,name,parent_code\n40,Tinh,\n", ((1, *HEADER),)
    ),
    "semicolons as Excel writes in some locales": BadFile(
        "date;name\n2026-01-01;Tết\n".encode(), ((1, *HEADER),)
    ),
    "empty file": BadFile(b"", ((1, *HEADER),)),
    "header only": BadFile(
        b"date,name\r\n",
        ((2, "tệp không có ngày nghỉ lễ nào dưới dòng tiêu đề",
          "the file lists no holidays below its header"),),
    ),
    "empty date": BadFile(
        (GOOD + " ,Ngày không rõ\n").encode(),
        ((3, "ngày đang trống", "the date is empty"),),
    ),
    "words for a date": BadFile(
        (GOOD + "mùng 1 Tết,Tết\n").encode(),
        ((3, BAD_DATE_VI.format("mùng 1 Tết"), BAD_DATE_EN.format("mùng 1 Tết")),),
    ),
    "date with a time": BadFile(
        (GOOD + "2026-09-02 00:00,Quốc khánh\n").encode(),
        ((3, BAD_DATE_VI.format("2026-09-02 00:00"), BAD_DATE_EN.format("2026-09-02 00:00")),),
    ),
    "two-digit year": BadFile(
        (GOOD + "02/09/26,Quốc khánh\n").encode(),
        ((3, BAD_DATE_VI.format("02/09/26"), BAD_DATE_EN.format("02/09/26")),),
    ),
    "a very long cell shown shortened": BadFile(
        (GOOD + "2026-09-02 là ngày Quốc khánh nước ta,Quốc khánh\n").encode(),
        ((3, BAD_DATE_VI.format("2026-09-02 là ngày Quốc…"),
          BAD_DATE_EN.format("2026-09-02 là ngày Quốc…")),),
    ),
    "no such day": BadFile(
        (GOOD + "2026-02-29,Ngày nhuận\n31/04/2026,Ngày 31/4\n13/13/2026,Tháng 13\n").encode(),
        ((3, "không có ngày 2026-02-29 trên lịch (hãy kiểm tra lại ngày và tháng)",
          "there is no such day as 2026-02-29 (check the day and the month)"),
         (4, "không có ngày 31/04/2026 trên lịch (hãy kiểm tra lại ngày và tháng)",
          "there is no such day as 31/04/2026 (check the day and the month)"),
         (5, "không có ngày 13/13/2026 trên lịch (hãy kiểm tra lại ngày và tháng)",
          "there is no such day as 13/13/2026 (check the day and the month)")),
    ),
    "month and day swapped": BadFile(
        (GOOD + "12/25/2026,Ngày sai thứ tự\n").encode(),
        ((3, "không có ngày 12/25/2026 trên lịch (hãy kiểm tra lại ngày và tháng)",
          "there is no such day as 12/25/2026 (check the day and the month)"),),
    ),
    "year mistyped": BadFile(
        (GOOD + "0226-09-02,Quốc khánh\n02/09/2926,Quốc khánh\n").encode(),
        ((3, "năm 0226 nằm ngoài khoảng 2000–2100", "the year 0226 is outside 2000–2100"),
         (4, "năm 2926 nằm ngoài khoảng 2000–2100", "the year 2926 is outside 2000–2100")),
    ),
    "duplicate date, in either form": BadFile(
        (GOOD + "2026-09-02,Quốc khánh\n01/01/2026,Tết lặp\n2026-09-02,Quốc khánh\n").encode(),
        ((4, "ngày 01/01/2026 bị trùng (đã có ở dòng 2)",
          "01/01/2026 appears twice (first on line 2)"),
         (5, "ngày 02/09/2026 bị trùng (đã có ở dòng 3)",
          "02/09/2026 appears twice (first on line 3)")),
    ),
    "empty name": BadFile((GOOD + "2026-09-02,  \n2026-09-03\n").encode(), (
        (3, *EMPTY_NAME),
        (4, COLUMNS[0].format(1), COLUMNS[1].format(1)),
    )),
    "overlong name": BadFile(
        (GOOD + f"2026-09-02,{'Ư' * 201}\n").encode(),
        ((3, "tên ngày nghỉ lễ dài 201 ký tự, quá giới hạn 200 ký tự",
          "the holiday's name is 201 characters long, over the limit of 200"),),
    ),
    "comma in a name without quotes": BadFile(
        (GOOD + "2026-09-01,Quốc khánh, ngày liền kề\n").encode(),
        ((3, COLUMNS[0].format(3), COLUMNS[1].format(3)),),
    ),
    "quote never closed": BadFile(
        (GOOD + '2026-09-01,"Quốc khánh\n2026-09-02,Quốc khánh\n').encode(),
        ((3, *QUOTES),),
    ),
    "text after a closing quote": BadFile(
        (GOOD + '2026-09-01,"Quốc khánh" ngày liền kề\n2026-09-02,Quốc khánh\n').encode(),
        ((3, *QUOTES),),
    ),
    "stray quote closed lines later": BadFile(
        (GOOD + '2026-09-01,"Quốc khánh\n2026-09-02,Quốc khánh"\n2026-09-03,Nghỉ\n').encode(),
        ((3, "ô trong ngoặc kép kéo dài từ dòng này tới dòng 4: có thể thiếu một dấu ngoặc kép"
             ' (") đóng; tên ngày nghỉ lễ không được xuống dòng',
          "a quoted cell runs from this line to line 4: a closing double quote (\") may be"
          " missing; a holiday's name cannot span lines"),),
    ),
    "control characters": BadFile(
        (GOOD + "2026-09-01,Quốc\tkhánh\n2026-09-02,Quốc\x00khánh\n2026\x0b-09-03,Nghỉ\n"
         "2026-09-04,Nghỉ\u200bthêm\n").encode(),
        ((3, *CONTROL), (4, *CONTROL), (5, *CONTROL), (6, *CONTROL)),
    ),
    "every kind of problem at once": BadFile(
        (GOOD + ",Không ngày\n2026-02-30,Ngày 30/2\n01/01/2026,Tết lặp\n2026-09-02,\n"
         "2026-09-03,Nghỉ,thêm\n").encode(),
        ((3, "ngày đang trống", "the date is empty"),
         (4, "không có ngày 2026-02-30 trên lịch (hãy kiểm tra lại ngày và tháng)",
          "there is no such day as 2026-02-30 (check the day and the month)"),
         (5, "ngày 01/01/2026 bị trùng (đã có ở dòng 2)",
          "01/01/2026 appears twice (first on line 2)"),
         (6, *EMPTY_NAME),
         (7, COLUMNS[0].format(3), COLUMNS[1].format(3))),
    ),
    "Windows-1258 (Vietnamese ANSI)": BadFile(
        cp1258("date,name\n2026-01-01,Tet\n2026-09-02,Quốc khánh\n"), ((3, *NOT_UTF8),)
    ),
    "Latin-1 after a byte-order mark": BadFile(
        BOM + "date,name\r\n2026-01-01,Tet\r\n2026-09-02,Fête\r\n".encode("latin-1"),
        ((3, *NOT_UTF8),),
    ),
    "Latin-1 with CR line endings": BadFile(
        "date,name\r2026-01-01,Tet\r2026-09-02,Fête\r".encode("latin-1"), ((3, *NOT_UTF8),)
    ),
    "UTF-16 as Excel's Unicode text": BadFile(
        "date,name\n2026-01-01,Tết\n".encode("utf-16"), ((1, *NOT_UTF8),)
    ),
}  # fmt: skip


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("case", list(BAD_FILES), ids=list(BAD_FILES))
def test_bad_file_is_refused_whole(
    deployment: Path, tmp_path: Path, case: str, language: str
) -> None:
    bad = BAD_FILES[case]
    path = write(tmp_path / "bad.csv", bad.content)
    before_holidays, before = stored(deployment), snapshot(deployment)

    result = run_cli(["holidays", "import", str(path)], deployment, language=language)

    assert result.status == 1
    assert result.out == ""
    count = len(bad.problems)
    if language == "vi":
        headline = f"Không nhập {path}: có {count} lỗi, chưa thay đổi gì."
        lines = [f"  dòng {line}: {vi}" for line, vi, _ in bad.problems]
    else:
        noun = "problem" if count == 1 else "problems"
        headline = f"Not imported {path}: {count} {noun}, nothing was changed."
        lines = [f"  line {line}: {en}" for line, _, en in bad.problems]
    assert result.err.splitlines() == [headline, *lines]
    assert stored(deployment) == before_holidays
    assert snapshot(deployment) == before


def test_the_good_rows_of_a_refused_file_are_not_imported(deployment: Path, tmp_path: Path) -> None:
    path = write(
        tmp_path / "half.csv", "date,name\n2026-09-04,Nghỉ mới\n2029-01-01,Tết 2029\nx,y\n"
    )

    assert run_cli(["holidays", "import", str(path)], deployment).status == 1

    assert date(2026, 9, 4) not in stored(deployment)
    assert date(2029, 1, 1) not in stored(deployment)
    assert stored(deployment)[date(2026, 9, 3)] == "Nghỉ thêm"


def test_a_refused_first_import_leaves_no_database(db_path: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "bad.csv", cp1258("date,name\n2026-09-02,Quốc khánh\n"))

    result = run_cli(["holidays", "import", str(path)], db_path)

    assert result.status == 1
    assert not db_path.exists()


def test_a_missing_file_is_refused_without_a_traceback(deployment: Path, tmp_path: Path) -> None:
    before = snapshot(deployment)
    for path in (tmp_path / "không có.csv", tmp_path):
        result = run_cli(["holidays", "import", str(path)], deployment)

        assert result.status == 1
        assert result.err.startswith(f"Không đọc được tệp {path}: ")
        assert "Traceback" not in result.err
    assert snapshot(deployment) == before


def test_holidays_need_no_bot_token(db_path: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "own.csv", OWN_2026)

    assert run_cli(["holidays", "import", str(path)], db_path, token=None).status == 0
    assert run_cli(["holidays", "list"], db_path, token=None).status == 0


# --- list --------------------------------------------------------------------------------


def test_list_of_a_year_shows_dates_weekdays_and_names(db_path: Path, tmp_path: Path) -> None:
    write(tmp_path / "units.csv", "code,name,parent_code\n40,Tỉnh Nghệ An,\n")
    assert run_cli(["units", "import", str(tmp_path / "units.csv")], db_path).status == 0

    result = run_cli(["holidays", "list", "--year", "2026"], db_path)

    assert result.status == 0, result.err
    assert result.err == ""
    assert result.out.splitlines() == ["Năm 2026: 14 ngày nghỉ lễ", *SHIPPED_LINES]


def test_list_of_every_year(deployment: Path) -> None:
    result = run_cli(["holidays", "list"], deployment)

    assert result.status == 0, result.err
    lines = result.out.splitlines()
    assert lines[:4] == [
        "Năm 2026: 3 ngày nghỉ lễ",
        "  01/01/2026  Thứ Năm   Tết Dương lịch",
        "  02/09/2026  Thứ Tư    Quốc khánh",
        "  03/09/2026  Thứ Năm   Nghỉ thêm",
    ]
    assert lines[4] == "Năm 2027: 14 ngày nghỉ lễ"
    assert lines[5] == "  01/01/2027  Thứ Sáu   Tết Dương lịch / New Year's Day"
    assert lines[-2:] == ["Năm 2028: 1 ngày nghỉ lễ", "  01/01/2028  Thứ Bảy   Tết Dương lịch"]
    assert len(lines) == 3 + 1 + 14 + 1 + 1 + 1


def test_list_in_english(deployment: Path) -> None:
    result = run_cli(["holidays", "list", "--year", "2026"], deployment, language="en")

    assert result.out.splitlines() == [
        "2026: 3 public holidays",
        "  01/01/2026  Thursday   Tết Dương lịch",
        "  02/09/2026  Wednesday  Quốc khánh",
        "  03/09/2026  Thursday   Nghỉ thêm",
    ]


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("vi", "Chưa có ngày nghỉ lễ nào cho năm 2030. Hãy nhập bằng lệnh:"
               " python bot.py holidays import TỆP.csv"),
        ("en", "No public holidays for 2030 yet. Import them with:"
               " python bot.py holidays import FILE.csv"),
    ],
)  # fmt: skip
def test_list_of_a_year_without_holidays_says_how_to_add_them(
    deployment: Path, language: str, message: str
) -> None:
    result = run_cli(["holidays", "list", "--year", "2030"], deployment, language=language)

    assert result.status == 0
    assert result.out.strip() == message


@pytest.mark.parametrize("year", ["0", "1999", "99999"])
def test_list_of_an_impossible_year_is_refused(deployment: Path, year: str) -> None:
    result = run_cli(["holidays", "list", "--year", year], deployment)

    assert result.status == 2
    assert result.err.strip() == "--year cần là một năm từ 2000 đến 2100, ví dụ --year 2026."


def test_list_refuses_a_database_that_does_not_exist(db_path: Path) -> None:
    result = run_cli(["holidays", "list"], db_path)

    assert result.status == 1
    assert "Không thấy cơ sở dữ liệu" in result.err
    assert not db_path.exists()


# --- what the deadline code reads ------------------------------------------------------


async def _reads(db_path: Path) -> None:
    db = Database(db_path)
    await db.open()
    try:
        assert await holidays_between(db, date(2026, 8, 31), date(2027, 1, 1)) == {
            date(2026, 9, 2): "Quốc khánh",
            date(2026, 9, 3): "Nghỉ thêm",
            date(2027, 1, 1): "Tết Dương lịch / New Year's Day",
        }
        assert await holidays_between(db, date(2026, 9, 4), date(2026, 12, 31)) == {}
        assert await holiday_days(db, date(2026, 9, 3), date(2026, 9, 3)) == {date(2026, 9, 3)}
        assert await is_holiday(db, date(2026, 9, 2))
        assert not await is_holiday(db, date(2026, 9, 1))
        assert await holiday_name(db, date(2028, 1, 1)) == "Tết Dương lịch"
        assert await holiday_name(db, date(2028, 1, 2)) is None
    finally:
        await db.close()


def test_reads_for_the_deadline_code(deployment: Path) -> None:
    asyncio.run(_reads(deployment))
