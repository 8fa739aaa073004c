"""The admin command line, run in-process on real SQLite files.

`units import`, `invite` and `export` are driven through ``bot.cli.main`` exactly as
``python bot.py ...`` would run them, with a fake Telegram for the one call `invite`
makes (getMe) and the real bot (``Harness``) to redeem invites and to make reports.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from telegram.error import InvalidToken

from botapi_sim import BOT_USERNAME, FakeTelegram
from botapi_sim.driver import TOKEN, ZONE, Harness
from domain.models import Unit
from storage.db import Database
from storage.units import all_units, get_unit, unit_chain
from tests.cli_support import (
    BOM,
    Run,
    cp1258,
    rows,
    run_cli,
    run_cli_async,
    snapshot,
    write,
)

DATA = Path(__file__).parent / "data"
OFFICIAL = DATA / "units_nghe_an.csv"

HAMLETS = (
    "code,name,parent_code\n"
    # A child may come before its parent within one file.
    "16702-K01-T1,Tổ 1 Khối 1,16702-K01\n"
    "16702-K01,Khối 1,16702\n"
    "16702-K02,Khối 2,16702\n"
    "17464-X01,Xóm 1,17464\n"
)

VI_EXPORT_HEADER = [
    "Số", "Loại báo cáo", "Mã phân loại", "Phân loại", "Mã đơn vị", "Đơn vị", "Người báo",
    "Thời gian xảy ra", "Ngày", "Thời gian gửi", "Địa điểm", "Nội dung", "Người liên quan",
    "Xử lý", "Số tổ viên tham gia", "Số người/hộ dân (ngoài tổ viên)", "Thời lượng (phút)",
    "Số ảnh", "Khẩn cấp", "Trạng thái",
]  # fmt: skip
EN_EXPORT_HEADER = [
    "No.", "Report kind", "Category code", "Category", "Unit code", "Unit", "Reporter",
    "Occurred at", "Date", "Submitted at", "Location", "Description", "People involved",
    "Action taken", "Team members taking part", "People/households reached", "Duration (minutes)",
    "Photos", "Urgent", "Status",
]  # fmt: skip
FORMULA_STARTS = ("=", "+", "-", "@")


# --- running the command line -------------------------------------------------------


# --- looking at the database ----------------------------------------------------------


async def _units(db_path: Path) -> list[Unit]:
    db = Database(db_path)
    await db.open()
    try:
        return await all_units(db)
    finally:
        await db.close()


def units_in(db_path: Path) -> list[Unit]:
    return asyncio.run(_units(db_path))


async def _unit(db_path: Path, code: str) -> tuple[Unit | None, list[str]]:
    db = Database(db_path)
    await db.open()
    try:
        return await get_unit(db, code), [unit.code for unit in await unit_chain(db, code)]
    finally:
        await db.close()


def unit_and_chain(db_path: Path, code: str) -> tuple[Unit | None, list[str]]:
    """The unit and the codes of it and its ancestors, nearest first."""
    return asyncio.run(_unit(db_path, code))


def official_units() -> list[Unit]:
    """The official list read independently of the code under test."""
    with OFFICIAL.open(encoding="utf-8", newline="") as handle:
        return sorted(
            (Unit(r["code"], r["name"], r["parent_code"] or None) for r in csv.DictReader(handle)),
            key=lambda unit: unit.code,
        )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.sqlite3"


@pytest.fixture
def tree(db_path: Path, tmp_path: Path) -> Path:
    """A database holding the official list and a few hamlets, imported by the CLI."""
    assert run_cli(["units", "import", str(OFFICIAL)], db_path).status == 0
    hamlets = write(tmp_path / "hamlets.csv", HAMLETS)
    assert run_cli(["units", "import", str(hamlets)], db_path).status == 0
    return db_path


# --- units import: good files ---------------------------------------------------------


def test_official_list_imports_whole(db_path: Path) -> None:
    result = run_cli(["units", "import", str(OFFICIAL)], db_path)

    assert result.status == 0, result.err
    assert result.err == ""
    assert result.out.strip() == "Đã nhập đơn vị: thêm 131, đổi tên 0, chuyển chỗ 0."
    units = units_in(db_path)
    assert units == official_units()
    assert len(units) == 131
    roots = [unit for unit in units if unit.parent_code is None]
    assert roots == [Unit("40", "Tỉnh Nghệ An", None)]
    assert sum(1 for unit in units if unit.parent_code == "40") == 130


def test_official_list_imported_twice_says_nothing_changed(db_path: Path) -> None:
    assert run_cli(["units", "import", str(OFFICIAL)], db_path).status == 0
    before = units_in(db_path)

    again = run_cli(["units", "import", str(OFFICIAL)], db_path)

    assert again.status == 0
    assert again.out.strip() == (
        "Không có gì thay đổi: cả 131 đơn vị trong tệp đã có sẵn đúng như vậy."
    )
    assert units_in(db_path) == before


def test_hamlets_extend_the_tree_child_before_parent(db_path: Path, tmp_path: Path) -> None:
    assert run_cli(["units", "import", str(OFFICIAL)], db_path).status == 0
    hamlets = write(tmp_path / "hamlets.csv", HAMLETS)

    result = run_cli(["units", "import", str(hamlets)], db_path)

    assert result.status == 0, result.err
    assert result.out.strip() == "Đã nhập đơn vị: thêm 4, đổi tên 0, chuyển chỗ 0."
    assert len(units_in(db_path)) == 135
    unit, chain = unit_and_chain(db_path, "16702-K01-T1")
    assert unit == Unit("16702-K01-T1", "Tổ 1 Khối 1", "16702-K01")
    assert chain == ["16702-K01-T1", "16702-K01", "16702", "40"]
    assert unit_and_chain(db_path, "17464-X01") == (
        Unit("17464-X01", "Xóm 1", "17464"),
        ["17464-X01", "17464", "40"],
    )
    # The communes the second file does not mention are kept as they were.
    assert unit_and_chain(db_path, "16681")[0] == Unit("16681", "Phường Thành Vinh", "40")


def test_reimport_updates_names_and_parents(tree: Path, tmp_path: Path) -> None:
    before = {unit.code: unit for unit in units_in(tree)}
    changes = write(
        tmp_path / "changes.csv",
        "code,name,parent_code\n"
        "16702-K01,Khối 1 (sáp nhập),16702\n"  # renamed
        "16702-K01-T1,Tổ 1,16702-K02\n"  # renamed and moved to another hamlet
        "17464-X01,Xóm 1,16702\n"  # moved to another commune
        "17464-X02,Xóm 2,17464\n",  # new
    )

    result = run_cli(["units", "import", str(changes)], tree)

    assert result.status == 0, result.err
    assert result.out.strip() == "Đã nhập đơn vị: thêm 1, đổi tên 2, chuyển chỗ 2."
    after = {unit.code: unit for unit in units_in(tree)}
    assert after["16702-K01"] == Unit("16702-K01", "Khối 1 (sáp nhập)", "16702")
    assert after["16702-K01-T1"] == Unit("16702-K01-T1", "Tổ 1", "16702-K02")
    assert after["17464-X01"] == Unit("17464-X01", "Xóm 1", "16702")
    assert after["17464-X02"] == Unit("17464-X02", "Xóm 2", "17464")
    assert unit_and_chain(tree, "16702-K01-T1")[1] == ["16702-K01-T1", "16702-K02", "16702", "40"]
    untouched = set(before) - {"16702-K01", "16702-K01-T1", "17464-X01"}
    assert {code: after[code] for code in untouched} == {code: before[code] for code in untouched}


def test_excel_utf8_file_with_bom_and_crlf_is_accepted(db_path: Path, tmp_path: Path) -> None:
    # Excel's "CSV UTF-8" starts with a byte-order mark and ends lines with CRLF.
    content = "code,name,parent_code\r\n40,Tỉnh Nghệ An,\r\n16702,Phường Vinh Phú,40\r\n"
    excel = write(tmp_path / "excel.csv", BOM + content.encode("utf-8"))

    result = run_cli(["units", "import", str(excel)], db_path)

    assert result.status == 0, result.err
    assert result.out.strip() == "Đã nhập đơn vị: thêm 2, đổi tên 0, chuyển chỗ 0."
    # The mark is not part of the header nor of the first code.
    assert units_in(db_path) == [
        Unit("16702", "Phường Vinh Phú", "40"),
        Unit("40", "Tỉnh Nghệ An", None),
    ]


def test_blank_lines_and_spaces_around_cells_are_tolerated(db_path: Path, tmp_path: Path) -> None:
    sloppy = write(
        tmp_path / "sloppy.csv",
        " Code , Name , Parent_Code \n\n 40 , Tỉnh Nghệ An , \n,,\n16702,  Phường Vinh Phú ,40\n\n",
    )

    result = run_cli(["units", "import", str(sloppy)], db_path)

    assert result.status == 0, result.err
    assert units_in(db_path) == [
        Unit("16702", "Phường Vinh Phú", "40"),
        Unit("40", "Tỉnh Nghệ An", None),
    ]


def test_units_import_needs_no_bot_token(db_path: Path) -> None:
    result = run_cli(["units", "import", str(OFFICIAL)], db_path, token=None)

    assert result.status == 0, result.err
    assert len(units_in(db_path)) == 131


# --- units import: bad files are refused whole ----------------------------------------


@dataclass(frozen=True)
class BadFile:
    content: bytes
    # (line, reason in Vietnamese, reason in English) for every problem, in line order
    problems: tuple[tuple[int, str, str], ...]


def _utf8(text: str) -> bytes:
    return text.encode("utf-8")


BAD_FILES = {
    "unknown parent": BadFile(
        _utf8(
            "code,name,parent_code\n"
            "16702-K05,Khối 5,16702\n"
            "16702-K09,Khối 9,16702-K99\n"
        ),
        ((3, "đơn vị 16702-K09 có đơn vị cấp trên 16702-K99 không tồn tại",
          "unit 16702-K09 has parent 16702-K99, which does not exist"),),
    ),
    "two units parents of each other": BadFile(
        _utf8(
            "code,name,parent_code\n"
            "16702-K05,Khối 5,16702\n"
            "16702-A,Tổ A,16702-B\n"
            "16702-B,Tổ B,16702-A\n"
        ),
        ((3, "đơn vị 16702-A nằm trong vòng lặp cấp trên (là cấp trên của chính nó)",
          "unit 16702-A is in a cycle of parents (it is its own ancestor)"),
         (4, "đơn vị 16702-B nằm trong vòng lặp cấp trên (là cấp trên của chính nó)",
          "unit 16702-B is in a cycle of parents (it is its own ancestor)")),
    ),
    "unit its own parent": BadFile(
        _utf8("code,name,parent_code\n16702-K05,Khối 5,16702\n16702-C,Tổ C,16702-C\n"),
        ((3, "đơn vị 16702-C nằm trong vòng lặp cấp trên (là cấp trên của chính nó)",
          "unit 16702-C is in a cycle of parents (it is its own ancestor)"),),
    ),
    "cycle through units already stored": BadFile(
        # The province moved under one of its own hamlets.
        _utf8("code,name,parent_code\n40,Tỉnh Nghệ An,16702-K01\n"),
        ((2, "đơn vị 40 nằm trong vòng lặp cấp trên (là cấp trên của chính nó)",
          "unit 40 is in a cycle of parents (it is its own ancestor)"),),
    ),
    "duplicate code": BadFile(
        _utf8(
            "code,name,parent_code\n"
            "16702-K05,Khối 5,16702\n"
            "16702-K06,Khối 6,16702\n"
            "16702-K05,Khối 5 mới,16702\n"
        ),
        ((4, "mã 16702-K05 bị trùng (đã có ở dòng 2)",
          "code 16702-K05 appears twice (first on line 2)"),),
    ),
    "empty code": BadFile(
        _utf8("code,name,parent_code\n16702-K05,Khối 5,16702\n ,Khối không mã,16702\n"),
        ((3, "mã đơn vị đang trống", "the unit code is empty"),),
    ),
    "code too long": BadFile(
        _utf8(f"code,name,parent_code\n{'K' * 65},Khối dài,16702\n"),
        ((2, "mã đơn vị dài quá 64 ký tự", "the unit code is longer than 64 characters"),),
    ),
    "empty name": BadFile(
        _utf8("code,name,parent_code\n16702-K05,  ,16702\n"),
        ((2, "tên đơn vị 16702-K05 trống hoặc dài quá 200 ký tự",
          "the name of unit 16702-K05 is empty or longer than 200 characters"),),
    ),
    "wrong header": BadFile(
        _utf8("ma,ten,cap_tren\n16702-K05,Khối 5,16702\n"),
        ((1, "dòng tiêu đề phải đúng là code,name,parent_code",
          "the header must be exactly code,name,parent_code"),),
    ),
    "semicolons as Excel writes in some locales": BadFile(
        _utf8("code;name;parent_code\n16702-K05;Khối 5;16702\n"),
        ((1, "dòng tiêu đề phải đúng là code,name,parent_code",
          "the header must be exactly code,name,parent_code"),),
    ),
    "empty file": BadFile(
        b"",
        ((1, "dòng tiêu đề phải đúng là code,name,parent_code",
          "the header must be exactly code,name,parent_code"),),
    ),
    "wrong number of columns": BadFile(
        _utf8(
            "code,name,parent_code\n"
            "16702-K05,Khối 5\n"
            "16702-K06,Khối 6,16702\n"
            "16702-K07,Khối 7,16702,ghi chú\n"
        ),
        ((2, "cần 3 cột, có 2", "expected 3 columns, found 2"),
         (4, "cần 3 cột, có 4", "expected 3 columns, found 4")),
    ),
    "every kind of problem at once": BadFile(
        _utf8(
            "code,name,parent_code\n"
            "16702-K05,Khối 5,16702\n"
            ",Khối không mã,16702\n"
            "16702-K05,Khối 5 lặp,16702\n"
            "16702-K08,Khối 8,16702-K98\n"
            "16702-K09,Khối 9\n"
        ),
        ((3, "mã đơn vị đang trống", "the unit code is empty"),
         (4, "mã 16702-K05 bị trùng (đã có ở dòng 2)",
          "code 16702-K05 appears twice (first on line 2)"),
         (5, "đơn vị 16702-K08 có đơn vị cấp trên 16702-K98 không tồn tại",
          "unit 16702-K08 has parent 16702-K98, which does not exist"),
         (6, "cần 3 cột, có 2", "expected 3 columns, found 2")),
    ),
    "Windows-1258 (Vietnamese ANSI)": BadFile(
        cp1258(
            "code,name,parent_code\n16702-K05,Khoi 5,16702\n16702-K06,Khoi 6,16702\n"
            "17464-X05,Xóm Đông Hà,17464\n16702-K07,Khối 7,16702\n"
        ),
        ((4, "tệp không phải mã UTF-8 (hãy lưu lại dưới dạng CSV UTF-8)",
          "the file is not UTF-8 (save it again as CSV UTF-8)"),),
    ),
    "Latin-1 with CRLF": BadFile(
        (
            "code,name,parent_code\r\n16702-K05,Khoi 5,16702\r\n"
            "16702-K06,Khoi 6,16702\r\n17464-X05,Xóm Tân Hà,17464\r\n"
        ).encode("latin-1"),
        ((4, "tệp không phải mã UTF-8 (hãy lưu lại dưới dạng CSV UTF-8)",
          "the file is not UTF-8 (save it again as CSV UTF-8)"),),
    ),
    "Latin-1 after a byte-order mark": BadFile(
        BOM + "code,name,parent_code\n16702-K05,Khoi 5,16702\n17464-X05,Xóm 5,17464\n".encode(
            "latin-1"
        ),
        ((3, "tệp không phải mã UTF-8 (hãy lưu lại dưới dạng CSV UTF-8)",
          "the file is not UTF-8 (save it again as CSV UTF-8)"),),
    ),
}  # fmt: skip


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("case", list(BAD_FILES), ids=list(BAD_FILES))
def test_bad_file_is_refused_whole(tree: Path, tmp_path: Path, case: str, language: str) -> None:
    bad = BAD_FILES[case]
    path = write(tmp_path / "bad.csv", bad.content)
    before_units, before = units_in(tree), snapshot(tree)

    result = run_cli(["units", "import", str(path)], tree, language=language)

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
    assert units_in(tree) == before_units
    assert snapshot(tree) == before


def test_valid_rows_of_a_refused_file_are_not_imported(tree: Path, tmp_path: Path) -> None:
    path = write(
        tmp_path / "half.csv",
        "code,name,parent_code\n17464-X09,Xóm 9,17464\n16702-K01,Khối 1 đổi tên,16702-K99\n",
    )

    assert run_cli(["units", "import", str(path)], tree).status == 1

    assert unit_and_chain(tree, "17464-X09")[0] is None
    assert unit_and_chain(tree, "16702-K01")[0] == Unit("16702-K01", "Khối 1", "16702")


def test_not_utf8_on_first_import_leaves_no_units(db_path: Path, tmp_path: Path) -> None:
    ansi = write(tmp_path / "ansi.csv", cp1258("code,name,parent_code\n40,Tỉnh Nghệ An,\n"))

    result = run_cli(["units", "import", str(ansi)], db_path)

    assert result.status == 1
    assert "  dòng 2: tệp không phải mã UTF-8" in result.err
    assert units_in(db_path) == []


def test_not_utf8_line_is_right_after_a_bom_when_the_bad_byte_starts_a_line(
    tree: Path, tmp_path: Path
) -> None:
    # Line 3 starts with "Đ" in Latin-1/cp1258 (0xD0): the byte is at the start of the line.
    content = BOM + cp1258("code,name,parent_code\n16702-K05,Khoi 5,16702\nĐ01,Đội 1,16702\n")
    path = write(tmp_path / "bom.csv", content)
    before = snapshot(tree)

    result = run_cli(["units", "import", str(path)], tree)

    assert result.status == 1
    assert snapshot(tree) == before
    assert result.err.splitlines()[1:] == [
        "  dòng 3: tệp không phải mã UTF-8 (hãy lưu lại dưới dạng CSV UTF-8)"
    ]


def test_not_utf8_line_is_right_with_cr_line_endings(tree: Path, tmp_path: Path) -> None:
    content = "code,name,parent_code\r16702-K05,Khoi 5,16702\r17464-X05,Xóm 5,17464\r".encode(
        "latin-1"
    )
    path = write(tmp_path / "mac.csv", content)
    before = snapshot(tree)

    result = run_cli(["units", "import", str(path)], tree)

    assert result.status == 1
    assert snapshot(tree) == before
    assert result.err.splitlines()[1:] == [
        "  dòng 3: tệp không phải mã UTF-8 (hãy lưu lại dưới dạng CSV UTF-8)"
    ]


@pytest.mark.parametrize(
    ("language", "wording", "why"),
    [
        ("vi", "Không đọc được tệp", "không có tệp này, vui lòng kiểm tra tên và thư mục"),
        ("en", "Cannot read", "there is no such file; check its name and folder"),
    ],
)
def test_missing_file_is_refused(
    tree: Path, tmp_path: Path, language: str, wording: str, why: str
) -> None:
    missing = tmp_path / "không có.csv"
    before = snapshot(tree)

    result = run_cli(["units", "import", str(missing)], tree, language=language)

    assert result.status == 1
    assert result.out == ""
    assert result.err.strip() == f"{wording} {missing}: {why}"
    assert snapshot(tree) == before


def test_missing_file_does_not_create_a_database(db_path: Path, tmp_path: Path) -> None:
    result = run_cli(["units", "import", str(tmp_path / "nope.csv")], db_path)

    assert result.status == 1
    assert not db_path.exists()


def test_a_folder_instead_of_a_file_is_refused(tree: Path, tmp_path: Path) -> None:
    before = snapshot(tree)

    result = run_cli(["units", "import", str(tmp_path)], tree)

    assert result.status == 1
    assert result.err.startswith(f"Không đọc được tệp {tmp_path}: ")
    assert snapshot(tree) == before


# --- invite -----------------------------------------------------------------------------

LINK = re.compile(rf"^https://t\.me/{BOT_USERNAME}\?start=([A-Za-z0-9_-]{{22}})$")


def invite_code(result: Run) -> str:
    lines = result.out.splitlines()
    assert len(lines) == 2, result.out
    match = LINK.match(lines[1])
    assert match, lines[1]
    return match.group(1)


def files_of(db: Path) -> bytes:
    """The raw bytes of the database and any journal beside it."""
    siblings = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-journal")]
    return b"".join(path.read_bytes() for path in siblings if path.exists())


def test_invite_prints_a_link_and_stores_only_the_hash(tree: Path) -> None:
    telegram = FakeTelegram()
    started = datetime.now(UTC)

    result = run_cli(
        ["invite", "--unit", "16702-K01", "--role", "member", "--expires-in", "2d"],
        tree,
        telegram=telegram,
    )

    assert result.status == 0, result.err
    assert result.err == ""
    code = invite_code(result)
    invites = rows(tree, "SELECT * FROM invites")
    assert len(invites) == 1
    invite = invites[0]
    assert invite["code_hash"] == hashlib.sha256(code.encode("ascii")).hexdigest()
    assert invite["unit_code"] == "16702-K01"
    assert invite["role"] == "member"
    assert invite["used_at"] is None and invite["used_by"] is None
    created = datetime.fromisoformat(invite["created_at"])
    expires = datetime.fromisoformat(invite["expires_at"])
    assert started - timedelta(seconds=1) <= created <= datetime.now(UTC)
    assert abs(expires - (started + timedelta(days=2))) < timedelta(minutes=1)
    local_expiry = expires.astimezone(ZONE).strftime("%H:%M %d/%m/%Y")
    assert result.out.splitlines()[0] == (
        f"Link mời (tổ viên, Khối 1), dùng được một lần, hết hạn lúc {local_expiry}:"
    )
    # The code itself is nowhere: not in any row, not in the file's bytes.
    assert not any(code in line for line in snapshot(tree))
    assert code.encode("ascii") not in files_of(tree)
    # Telegram was only asked who the bot is.
    assert [call.method for call in telegram.calls] == ["getMe"]


def test_each_invite_gets_a_new_code(tree: Path) -> None:
    codes = [
        invite_code(
            run_cli(
                ["invite", "--unit", "16702", "--role", "supervisor"], tree, telegram=FakeTelegram()
            )
        )
        for _ in range(3)
    ]

    assert len(set(codes)) == 3
    stored = rows(tree, "SELECT code_hash, role, expires_at, created_at FROM invites ORDER BY id")
    assert [row["code_hash"] for row in stored] == [
        hashlib.sha256(code.encode("ascii")).hexdigest() for code in codes
    ]
    assert {row["role"] for row in stored} == {"supervisor"}
    for row in stored:  # the default lifetime is 7 days
        lifetime = datetime.fromisoformat(row["expires_at"]) - datetime.fromisoformat(
            row["created_at"]
        )
        assert abs(lifetime - timedelta(days=7)) < timedelta(seconds=5)


@pytest.mark.parametrize(
    ("text", "lifetime"),
    [
        ("30m", timedelta(minutes=30)),
        ("12h", timedelta(hours=12)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("3D", timedelta(days=3)),
    ],
)
def test_expiry_forms(tree: Path, text: str, lifetime: timedelta) -> None:
    started = datetime.now(UTC)

    result = run_cli(
        ["invite", "--unit", "17464-X01", "--role", "admin", f"--expires-in={text}"],
        tree,
        telegram=FakeTelegram(),
    )

    assert result.status == 0, result.err
    (row,) = rows(tree, "SELECT role, expires_at FROM invites")
    assert row["role"] == "admin"
    assert abs(datetime.fromisoformat(row["expires_at"]) - (started + lifetime)) < timedelta(
        minutes=1
    )


def test_invite_speaks_english_when_asked(tree: Path) -> None:
    result = run_cli(
        ["invite", "--unit", "16702-K02", "--role", "supervisor"],
        tree,
        language="en",
        telegram=FakeTelegram(),
    )

    assert result.status == 0, result.err
    assert result.out.splitlines()[0].startswith(
        "Single-use invite link (supervisor, Khối 2), expires at "
    )
    invite_code(result)


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("vi", "Không có đơn vị mã 16702-K99. Hãy nhập danh sách đơn vị trước: "
               "python bot.py units import TỆP.csv"),
        ("en", "There is no unit with code 16702-K99. Import the units first: "
               "python bot.py units import FILE.csv"),
    ],
)  # fmt: skip
def test_invite_to_an_unknown_unit_is_refused(tree: Path, language: str, message: str) -> None:
    telegram = FakeTelegram()
    before = snapshot(tree)

    result = run_cli(
        ["invite", "--unit", "16702-K99", "--role", "member"],
        tree,
        language=language,
        telegram=telegram,
    )

    assert result.status == 1
    assert result.out == ""
    assert result.err.strip() == message
    assert snapshot(tree) == before
    assert telegram.calls == []


def test_invite_before_any_units_are_imported_is_refused(db_path: Path) -> None:
    result = run_cli(
        ["invite", "--unit", "40", "--role", "admin"], db_path, telegram=FakeTelegram()
    )

    assert result.status == 1
    # No database yet: the admin is told where it was looked for, and none is made.
    assert "Không thấy cơ sở dữ liệu" in result.err
    assert "units import" in result.err
    assert not db_path.exists()


@pytest.mark.parametrize("text", ["0d", "7", "3y", "1.5h", "abc", "10000d", "", "d", "-1d"])
def test_bad_expiry_is_refused_with_status_2(tree: Path, text: str) -> None:
    telegram = FakeTelegram()
    before = snapshot(tree)

    result = run_cli(
        ["invite", "--unit", "16702-K01", "--role", "member", f"--expires-in={text}"],
        tree,
        telegram=telegram,
    )

    assert result.status == 2
    assert result.out == ""
    assert result.err.strip() == f"Thời hạn không hợp lệ: {text}. Dùng dạng 30m, 12h, 7d hoặc 2w."
    assert snapshot(tree) == before
    assert telegram.calls == []


def test_bad_expiry_in_english(tree: Path) -> None:
    result = run_cli(
        ["invite", "--unit", "16702-K01", "--role", "member", "--expires-in", "soon"],
        tree,
        language="en",
        telegram=FakeTelegram(),
    )

    assert result.status == 2
    assert result.err.strip() == "Bad expiry: soon. Use a form like 30m, 12h, 7d or 2w."


def test_bad_expiry_does_not_create_a_database(db_path: Path) -> None:
    result = run_cli(
        ["invite", "--unit", "40", "--role", "admin", "--expires-in", "1y"],
        db_path,
        telegram=FakeTelegram(),
    )

    assert result.status == 2
    assert not db_path.exists()


@pytest.mark.parametrize("token", [None, "", "   "])
def test_invite_without_a_token_points_to_botfather(tree: Path, token: str | None) -> None:
    telegram = FakeTelegram()
    before = snapshot(tree)

    result = run_cli(
        ["invite", "--unit", "16702-K01", "--role", "member"], tree, token=token, telegram=telegram
    )

    assert result.status != 0
    assert result.out == ""
    assert "TELEGRAM_BOT_TOKEN" in result.err
    assert "@BotFather" in result.err
    assert snapshot(tree) == before
    assert telegram.calls == []


def test_malformed_token_points_to_botfather(db_path: Path) -> None:
    result = run_cli(
        ["invite", "--unit", "40", "--role", "admin"],
        db_path,
        token="not-a-token",
        telegram=FakeTelegram(),
    )

    assert result.status != 0
    assert "@BotFather" in result.err
    assert not db_path.exists()


def test_token_rejected_by_telegram_stores_no_invite(tree: Path) -> None:
    telegram = FakeTelegram()
    telegram.fail_next("getMe", 401, "Unauthorized")

    try:
        status: int | None = run_cli(
            ["invite", "--unit", "16702-K01", "--role", "member"], tree, telegram=telegram
        ).status
    except InvalidToken:
        status = None

    assert status != 0
    assert rows(tree, "SELECT * FROM invites") == []


def test_token_rejected_by_telegram_is_reported_plainly(tree: Path) -> None:
    telegram = FakeTelegram()
    telegram.fail_next("getMe", 401, "Unauthorized")

    result = run_cli(["invite", "--unit", "16702-K01", "--role", "member"], tree, telegram=telegram)

    assert result.status != 0
    assert "@BotFather" in result.err


def test_unknown_role_is_a_usage_error(tree: Path) -> None:
    before = snapshot(tree)

    result = run_cli(["invite", "--unit", "16702-K01", "--role", "boss"], tree)

    assert result.status == 2
    assert result.out == ""
    assert result.err.startswith(
        "--role không nhận “boss”. Hãy chọn một trong: member, leader, deputy, supervisor, admin."
    ), result.err
    assert snapshot(tree) == before


@pytest.mark.parametrize(
    ("role", "vi_role"),
    [("member", "tổ viên"), ("supervisor", "cán bộ phụ trách"), ("admin", "quản trị viên")],
)
async def test_printed_invite_lets_exactly_one_person_join(
    tree: Path, role: str, vi_role: str
) -> None:
    result = await run_cli_async(
        ["invite", "--unit", "16702-K01", "--role", role, "--expires-in", "2d"],
        tree,
        telegram=FakeTelegram(),
    )
    assert result.status == 0, result.err
    code = invite_code(result)

    bot = Harness(tree)
    await bot.start()
    try:
        bot.now = datetime.now(UTC)
        lan = bot.user(601, "Lan", "Nguyễn")
        await lan.send(f"/start {code}")
        welcome = lan.last_text()
        binh = bot.user(602, "Bình", "Trần")
        await binh.send(f"/start {code}")
        refusal = binh.last_text()
    finally:
        await bot.stop()

    assert "Chào mừng Lan Nguyễn!" in welcome
    assert f"Đồng chí đã tham gia Khối 1 – Phường Vinh Phú với vai trò {vi_role}." in welcome
    assert refusal == (
        "Mã mời này đã được dùng. Mỗi mã chỉ dùng được một lần, vui lòng xin link mới."
    )
    members = rows(tree, "SELECT id, telegram_user_id, full_name, unit_code, role FROM members")
    assert [tuple(member)[1:] for member in members] == [(601, "Lan Nguyễn", "16702-K01", role)]
    (invite,) = rows(tree, "SELECT used_at, used_by FROM invites")
    assert invite["used_by"] == members[0]["id"]
    assert invite["used_at"] is not None


async def test_printed_invite_expires(tree: Path) -> None:
    result = await run_cli_async(
        ["invite", "--unit", "16702-K02", "--role", "member", "--expires-in", "30m"],
        tree,
        telegram=FakeTelegram(),
    )
    code = invite_code(result)

    bot = Harness(tree)
    await bot.start()
    try:
        bot.now = datetime.now(UTC) + timedelta(minutes=31)
        late = bot.user(603, "Hoa", "Lê")
        await late.send(f"/start {code}")
        answer = late.last_text()
    finally:
        await bot.stop()

    assert answer == "Mã mời này đã hết hạn. Vui lòng xin link mới từ cán bộ phụ trách."
    assert rows(tree, "SELECT * FROM members") == []


# --- export -----------------------------------------------------------------------------

# Moments of the reports below, chosen so that local (UTC+7) and UTC dates differ.
NOTHING_AT = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)  # 03:00 on 25/11 in Vietnam
INCIDENT_AT = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)  # 06:30 on 26/11 in Vietnam
ACTIVITY_AT = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # 10:00 on 26/11, about 24/11
DESCRIPTION = '=HYPERLINK("http://x","Bấm vào đây") Mất trộm xe máy trước nhà số 12, Khối 1'
PEOPLE = "+84 912 345 678 (anh Bình, chủ xe)"
SUMMARY = "@Tổ 1 tuần tra đêm quanh chợ Vinh, không phát hiện vụ việc"


async def make_reports(bot: Harness) -> None:
    """A /nothing, an urgent incident and an activity, through the real bot."""
    bot.now = NOTHING_AT
    tuan = await bot.join(701, "16702-K02", first_name="=Tuấn")
    await tuan.send("/nothing")
    assert "Đã ghi nhận" in tuan.last_text()

    bot.now = INCIDENT_AT
    lan = await bot.join(702, "16702-K01")
    await lan.send("/incident")
    await lan.tap("Trộm cắp tài sản")
    await lan.tap("Vừa xảy ra")
    await lan.send("Ngõ 5, đường Lê Lợi")
    await lan.send(DESCRIPTION)
    await lan.send(PEOPLE)
    await lan.send_photo("photo-1")
    await lan.tap("Xong (1 ảnh)")
    await lan.tap("Đã chuyển Công an xã/phường")
    await lan.tap("🚨 Khẩn cấp")
    await lan.tap("Gửi báo cáo")
    assert "Đã gửi báo cáo số 2" in lan.last_text()

    bot.now = ACTIVITY_AT
    await lan.send("/activity")
    await lan.tap("Tuần tra, canh gác")
    await lan.tap("Ngày khác")
    await lan.send("24/11/2026")
    await lan.send("19:00-21:30")
    await lan.tap("5")
    await lan.send_location(18.679585, 105.681335)
    await lan.send(SUMMARY)
    await lan.tap("Bỏ qua")
    await lan.tap("Gửi báo cáo")
    assert "Đã gửi báo cáo số 3" in lan.last_text()


def read_export(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(BOM)
    assert not raw[len(BOM) :].startswith(BOM)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def local(stored: str) -> str:
    return datetime.fromisoformat(stored).astimezone(ZONE).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
async def reports_db(harness: Harness) -> Path:
    """The harness's database with three reports, the bot stopped."""
    await make_reports(harness)
    await harness.stop()
    return harness.db_path


async def test_export_writes_every_report_for_excel(reports_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "exports" / "2026-11" / "báo cáo.csv"
    before = snapshot(reports_db)

    result = await run_cli_async(["export", "--out", str(out)], reports_db)

    assert result.status == 0, result.err
    assert result.out.strip() == f"Đã xuất 3 báo cáo ra {out}."
    assert snapshot(reports_db) == before  # exporting only reads
    table = read_export(out)
    assert table[0] == VI_EXPORT_HEADER
    assert len(table) == 4
    header = table[0]
    records = [dict(zip(header, row, strict=True)) for row in table[1:]]
    submitted = {
        row["id"]: local(row["submitted_at"])
        for row in rows(reports_db, "SELECT id, submitted_at FROM reports")
    }
    nothing, incident, activity = records
    assert nothing == {
        "Số": "1",
        "Loại báo cáo": "Không có gì mới",
        "Mã phân loại": "",
        "Phân loại": "",
        "Mã đơn vị": "16702-K02",
        "Đơn vị": "Khối 2",
        "Người báo": "'=Tuấn Nguyễn",
        "Thời gian xảy ra": "2026-11-25 03:00",
        "Ngày": "2026-11-25",
        "Thời gian gửi": submitted[1],
        "Địa điểm": "",
        "Nội dung": "",
        "Người liên quan": "",
        "Xử lý": "",
        "Số tổ viên tham gia": "",
        "Số người/hộ dân (ngoài tổ viên)": "",
        "Thời lượng (phút)": "",
        "Số ảnh": "0",
        "Khẩn cấp": "Không",
        "Trạng thái": "đã gửi",
    }
    assert incident == {
        "Số": "2",
        "Loại báo cáo": "Vụ việc",
        "Mã phân loại": "THEFT",
        "Phân loại": "Trộm cắp tài sản",
        "Mã đơn vị": "16702-K01",
        "Đơn vị": "Khối 1",
        "Người báo": "Lan Nguyễn",
        "Thời gian xảy ra": "2026-11-26 06:30",
        "Ngày": "2026-11-26",
        "Thời gian gửi": submitted[2],
        "Địa điểm": "Ngõ 5, đường Lê Lợi",
        "Nội dung": "'" + DESCRIPTION,
        "Người liên quan": "'" + PEOPLE,
        "Xử lý": "Đã chuyển Công an xã/phường",
        "Số tổ viên tham gia": "",
        "Số người/hộ dân (ngoài tổ viên)": "",
        "Thời lượng (phút)": "",
        "Số ảnh": "1",
        "Khẩn cấp": "Có",
        "Trạng thái": "đã gửi",
    }
    assert activity == {
        "Số": "3",
        "Loại báo cáo": "Hoạt động",
        "Mã phân loại": "PATROL",
        "Phân loại": "Tuần tra, canh gác bảo đảm an ninh, trật tự",
        "Mã đơn vị": "16702-K01",
        "Đơn vị": "Khối 1",
        "Người báo": "Lan Nguyễn",
        "Thời gian xảy ra": "2026-11-24 19:00",
        "Ngày": "2026-11-24",
        "Thời gian gửi": submitted[3],
        "Địa điểm": "18.679585,105.681335",
        "Nội dung": "'" + SUMMARY,
        "Người liên quan": "",
        "Xử lý": "",
        "Số tổ viên tham gia": "5",
        "Số người/hộ dân (ngoài tổ viên)": "",  # a patrol reaches nobody outside the team
        "Thời lượng (phút)": "150",
        "Số ảnh": "0",
        "Khẩn cấp": "Không",
        "Trạng thái": "đã gửi",
    }
    # No cell of the file is a formula Excel would run.
    for row in table:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), cell
    # Vietnamese is stored as UTF-8, not as a legacy code page.
    assert "Trộm cắp tài sản".encode() in out.read_bytes()


async def test_submission_times_follow_the_bot_clock(reports_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"

    assert (await run_cli_async(["export", "--out", str(out)], reports_db)).status == 0

    submitted = [row[9] for row in read_export(out)[1:]]
    assert submitted == ["2026-11-25 03:00", "2026-11-26 06:30", "2026-11-26 10:00"]


async def test_export_in_english(reports_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "en.csv"

    result = await asyncio.to_thread(
        lambda: run_cli(["export", "--out", str(out)], reports_db, language="en")
    )

    assert result.status == 0, result.err
    assert result.out.strip() == f"Exported 3 reports to {out}."
    table = read_export(out)
    assert table[0] == EN_EXPORT_HEADER
    assert [row[1] for row in table[1:]] == ["Nothing to report", "Incident", "Activity"]
    assert [row[3] for row in table[1:]] == [
        "",
        "Theft of property",
        "Patrol and guard duty for security and order",
    ]
    assert [row[13] for row in table[1:]] == ["", "Handed to commune police", ""]
    assert [(row[18], row[19]) for row in table[1:]] == [
        ("No", "submitted"),
        ("Yes", "submitted"),
        ("No", "submitted"),
    ]


@pytest.mark.parametrize(
    ("bounds", "ids"),
    [
        ([], ["1", "2", "3"]),
        (["--from", "2026-11-25", "--to", "2026-11-25"], ["1"]),
        # 06:30 on 26/11 in Vietnam is still 25/11 in UTC: the local day counts.
        (["--from", "2026-11-26"], ["2"]),
        (["--to", "2026-11-25"], ["1", "3"]),
        (["--from", "2026-11-24", "--to", "2026-11-24"], ["3"]),
        (["--from", "2026-11-24", "--to", "2026-11-26"], ["1", "2", "3"]),
        (["--from", "2026-11-25", "--to", "2026-11-26"], ["1", "2"]),
        (["--from", "2026-11-27"], []),
        (["--to", "2026-11-23"], []),
    ],
)
async def test_export_date_range_is_local_and_inclusive(
    reports_db: Path, tmp_path: Path, bounds: list[str], ids: list[str]
) -> None:
    out = tmp_path / "range.csv"
    out.write_text("an older export that must be replaced\n", encoding="utf-8")

    result = await run_cli_async(["export", "--out", str(out), *bounds], reports_db)

    assert result.status == 0, result.err
    assert result.out.strip() == f"Đã xuất {len(ids)} báo cáo ra {out}."
    table = read_export(out)
    assert table[0] == VI_EXPORT_HEADER
    assert [row[0] for row in table[1:]] == ids


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("vi", "Ngày bắt đầu (--from) phải trước hoặc bằng ngày kết thúc (--to)."),
        ("en", "The start date (--from) must be on or before the end date (--to)."),
    ],
)
async def test_export_range_backwards_is_refused(
    reports_db: Path, tmp_path: Path, language: str, message: str
) -> None:
    out = tmp_path / "backwards.csv"
    before = snapshot(reports_db)

    result = await asyncio.to_thread(
        lambda: run_cli(
            ["export", "--out", str(out), "--from", "2026-11-26", "--to", "2026-11-25"],
            reports_db,
            language=language,
        )
    )

    assert result.status == 2
    assert result.out == ""
    assert result.err.strip() == message
    assert not out.exists()
    assert snapshot(reports_db) == before


def test_export_range_backwards_does_not_create_a_database(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"

    result = run_cli(
        ["export", "--out", str(out), "--from", "2026-12-01", "--to", "2026-11-01"], db_path
    )

    assert result.status == 2
    assert not db_path.exists()
    assert not out.exists()


def test_export_bad_date_is_a_usage_error(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    before = snapshot(tree)

    result = run_cli(["export", "--out", str(out), "--from", "31/02/2026"], tree)

    assert result.status == 2
    assert result.err.strip() == (
        "Ngày 31/02/2026 không hợp lệ. Vui lòng ghi theo dạng ngày/tháng/năm,"
        " ví dụ 31/12/2026 (hoặc 2026-12-31)."
    )
    assert not out.exists()
    assert snapshot(tree) == before


def test_export_of_no_reports_is_just_the_header(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "empty.csv"

    result = run_cli(["export", "--out", str(out)], tree, token=None)

    assert result.status == 0, result.err
    assert result.out.strip() == f"Đã xuất 0 báo cáo ra {out}."
    assert read_export(out) == [VI_EXPORT_HEADER]


# --- refusals leave the database alone -------------------------------------------------


def refusals(tmp_path: Path) -> Iterator[tuple[str, list[str], str | None]]:
    """(what is wrong, command line, bot token) for each way a command refuses."""
    bad_units = write(tmp_path / "cycle.csv", "code,name,parent_code\nX,Xóm X,X\n")
    yield "bad units file", ["units", "import", str(bad_units)], TOKEN
    yield "missing units file", ["units", "import", str(tmp_path / "none.csv")], TOKEN
    yield "unknown unit", ["invite", "--unit", "nowhere", "--role", "member"], TOKEN
    yield "bad expiry", ["invite", "--unit", "40", "--role", "member", "--expires-in", "1y"], TOKEN
    yield "no token", ["invite", "--unit", "40", "--role", "member"], None
    out = str(tmp_path / "x.csv")
    backwards = ["export", "--out", out, "--from", "2026-02-02", "--to", "2026-02-01"]
    yield "backwards range", backwards, TOKEN


def test_no_refusal_writes_to_the_database(tree: Path, tmp_path: Path) -> None:
    before = snapshot(tree)
    for name, argv, token in refusals(tmp_path):
        telegram = FakeTelegram()
        result = run_cli(argv, tree, token=token, telegram=telegram)
        assert result.status != 0, name
        assert result.err, name
        assert result.out == "", name
        assert telegram.calls == [], name
        assert snapshot(tree) == before, name


def test_stray_quote_is_refused_with_its_line_not_a_traceback(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    units = tmp_path / "units.csv"
    body = "code,name,parent_code\n40,Tỉnh Nghệ An,\n" + '16702,"Phường Vinh Phú,40\n'
    body += "".join(f"K{n},{'x' * 200},40\n" for n in range(800))
    units.write_text(body, encoding="utf-8")
    result = run_cli(["units", "import", str(units)], db)
    assert result.status == 1
    assert "dấu ngoặc kép" in result.err
    assert not db.exists()


def test_control_characters_in_names_are_refused(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    units = tmp_path / "units.csv"
    units.write_text('code,name,parent_code\n40,"Tỉnh\nNghệ An",\n41,A\x00B,\n', encoding="utf-8")
    result = run_cli(["units", "import", str(units)], db)
    assert result.status == 1
    assert result.err.count("ký tự điều khiển") == 2


def test_export_with_a_wrong_database_path_makes_no_file(tmp_path: Path) -> None:
    db = tmp_path / "typo" / "bot.sqlite3"
    result = run_cli(["export", "--out", str(tmp_path / "out.csv")], db)
    assert result.status == 1
    assert "Không thấy cơ sở dữ liệu" in result.err
    assert not db.exists() and not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize(("role", "shown"), [("leader", "tổ trưởng"), ("deputy", "tổ phó")])
def test_invite_takes_the_team_roles(tree: Path, role: str, shown: str) -> None:
    result = run_cli(
        ["invite", "--unit", "16702-K01", "--role", role], tree, telegram=FakeTelegram()
    )
    assert result.status == 0, result.err
    assert result.out.splitlines()[0].startswith(f"Link mời ({shown}, Khối 1)")
    assert [invite["role"] for invite in rows(tree, "SELECT role FROM invites")] == [role]


def test_invite_refuses_a_role_that_does_not_exist(tree: Path) -> None:
    refused = run_cli(["invite", "--unit", "16702-K01", "--role", "captain"], tree, language="en")
    assert refused.status == 2
    assert refused.err.startswith("--role does not take “captain”; choose one of: member,")
    assert rows(tree, "SELECT * FROM invites") == []
