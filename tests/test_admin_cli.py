"""The admin command line for an administrator who is not a developer: the shipped units
file, units list, members list/deactivate, invites list/revoke and day-first dates."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import parse_day
from botapi_sim import FakeTelegram
from botapi_sim.driver import Harness
from domain.models import Role
from storage.audit import AuditAction, audit_entries
from tests.cli_support import rows, run_cli, run_cli_async, snapshot, write

ROOT = Path(__file__).parent.parent
EXAMPLE_UNITS = ROOT / "examples" / "units_nghe_an.csv"
EXAMPLE_HAMLETS = ROOT / "examples" / "units_hamlets_example.csv"
START = re.compile(r"\?start=([A-Za-z0-9_-]+)$")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.sqlite3"


@pytest.fixture
def tree(db_path: Path) -> Path:
    assert run_cli(["units", "import", str(EXAMPLE_UNITS)], db_path).status == 0
    assert run_cli(["units", "import", str(EXAMPLE_HAMLETS)], db_path).status == 0
    return db_path


# --- the shipped units file and re-imports ------------------------------------------------


def test_readme_names_the_shipped_units_file_and_it_imports_on_a_fresh_database(
    db_path: Path,
) -> None:
    assert "examples/units_nghe_an.csv" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "examples/units_nghe_an.csv" in (ROOT / "README.vi.md").read_text(encoding="utf-8")

    result = run_cli(["units", "import", str(EXAMPLE_UNITS)], db_path)

    assert result.status == 0, result.err
    assert result.out.strip() == "Đã nhập đơn vị: thêm 131, đổi tên 0, chuyển chỗ 0."
    hamlets = run_cli(["units", "import", str(EXAMPLE_HAMLETS)], db_path)
    assert hamlets.out.strip() == "Đã nhập đơn vị: thêm 4, đổi tên 0, chuyển chỗ 0."
    [(count,)] = rows(db_path, "SELECT COUNT(*) FROM units")
    assert count == 135


def test_unchanged_reimport_says_nothing_changed(tree: Path) -> None:
    before = snapshot(tree)

    result = run_cli(["units", "import", str(EXAMPLE_UNITS)], tree, language="en")

    assert result.status == 0
    assert result.out.strip() == (
        "Nothing changed: all 131 units in the file are already there as they are."
    )
    assert snapshot(tree) == before


def test_changed_reimport_counts_added_renamed_and_moved(tree: Path, tmp_path: Path) -> None:
    changes = write(
        tmp_path / "changes.csv",
        "code,name,parent_code\n"
        "16702-K01,Khối 1 mới,16702\n"  # renamed
        "16702-K02,Khối 2,17464\n"  # moved
        "17464-X01,Xóm Một,16702\n"  # renamed and moved
        "17464-X02,Xóm 2,17464\n"  # unchanged
        "17464-X03,Xóm 3,17464\n",  # new
    )

    result = run_cli(["units", "import", str(changes)], tree)

    assert result.status == 0, result.err
    assert result.out.strip() == "Đã nhập đơn vị: thêm 1, đổi tên 2, chuyển chỗ 2."


# --- units list -----------------------------------------------------------------------------


def test_units_list_prints_the_tree_indented_code_then_name(tree: Path) -> None:
    result = run_cli(["units", "list"], tree)

    assert result.status == 0, result.err
    lines = result.out.splitlines()
    assert len(lines) == 135
    assert lines[0] == "40  Tỉnh Nghệ An"
    assert "  16702  Phường Vinh Phú" in lines
    vinh_phu = lines.index("  16702  Phường Vinh Phú")
    assert lines[vinh_phu + 1 : vinh_phu + 3] == ["    16702-K01  Khối 1", "    16702-K02  Khối 2"]


def test_units_list_under_a_commune(tree: Path) -> None:
    result = run_cli(["units", "list", "--under", "17464"], tree)

    assert result.status == 0, result.err
    assert result.out.splitlines() == [
        "17464  Xã Diễn Châu",
        "  17464-X01  Xóm 1",
        "  17464-X02  Xóm 2",
    ]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("vi", "Không có đơn vị mã 99999."),
        ("en", "There is no unit with code 99999."),
    ],
)
def test_units_list_under_an_unknown_code_is_refused(
    tree: Path, language: str, expected: str
) -> None:
    result = run_cli(["units", "list", "--under", "99999"], tree, language=language)

    assert result.status == 1
    assert result.out == ""
    assert result.err.startswith(expected), result.err


def test_units_list_without_a_database_says_so(db_path: Path) -> None:
    result = run_cli(["units", "list"], db_path)

    assert result.status == 1
    assert "Không thấy cơ sở dữ liệu" in result.err
    assert not db_path.exists()


# --- members list and deactivate -------------------------------------------------------------


async def test_members_list_and_deactivate(harness: Harness) -> None:
    db = harness.db_path
    lan = await harness.join(501, "16702-K01", Role.MEMBER, "Lan")
    await harness.join(502, "17464-X01", Role.LEADER, "Bình")
    harness.now = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)  # 26/11 at 03:00 in Vinh
    await lan.send("/nothing")
    assert "Đã ghi nhận" in lan.last_text()
    [(lan_id,)] = rows(db, "SELECT id FROM members WHERE telegram_user_id = 501")
    [(binh_id,)] = rows(db, "SELECT id FROM members WHERE telegram_user_id = 502")

    listed = await run_cli_async(["members", "list"], db)
    assert listed.status == 0, listed.err
    assert listed.out.splitlines() == [
        f"{lan_id}. Lan Nguyễn | tổ viên | Khối 1 (16702-K01) | đang hoạt động"
        " | báo cáo gần nhất: 26/11/2026",
        f"{binh_id}. Bình Nguyễn | tổ trưởng | Xóm 1 (17464-X01) | đang hoạt động"
        " | báo cáo gần nhất: chưa có",
    ]
    under = await run_cli_async(["members", "list", "--unit", "16702"], db)
    assert [line.split(".")[0] for line in under.out.splitlines()] == [str(lan_id)]
    unknown_unit = await run_cli_async(["members", "list", "--unit", "nowhere"], db)
    assert unknown_unit.status == 1
    assert "Không có đơn vị mã nowhere." in unknown_unit.err

    done = await run_cli_async(["members", "deactivate", str(lan_id)], db)
    assert done.status == 0, done.err
    assert done.out.strip().startswith(f"Đã ngừng quyền của Lan Nguyễn (số {lan_id})")
    for attempt in ("/incident", "/nothing"):
        await lan.send(attempt)
        assert "chỉ dành cho thành viên" in lan.last_text(), attempt
    [entry] = await audit_entries(harness.db)
    assert entry.action is AuditAction.DEACTIVATE
    assert entry.actor_id is None and entry.target_member == lan_id

    again = await run_cli_async(["members", "deactivate", str(lan_id)], db)
    assert again.status == 0
    assert "đã bị ngừng quyền từ trước" in again.out
    assert len(await audit_entries(harness.db)) == 1
    listed = await run_cli_async(["members", "list"], db)
    assert "| đã ngừng quyền |" in listed.out.splitlines()[0]


@pytest.mark.parametrize(
    ("argument", "status", "expected"),
    [
        ("999", 1, "Không có thành viên số 999."),
        ("abc", 2, "abc không phải số của một thành viên."),
        ("-1", 2, "-1 không phải số của một thành viên."),
    ],
)
def test_deactivating_a_wrong_member_is_refused(
    tree: Path, argument: str, status: int, expected: str
) -> None:
    before = snapshot(tree)

    result = run_cli(["members", "deactivate", argument], tree)

    assert result.status == status
    assert result.err.startswith(expected), result.err
    assert result.out == ""
    assert snapshot(tree) == before


def test_members_list_of_an_empty_deployment(tree: Path) -> None:
    result = run_cli(["members", "list"], tree, language="en")

    assert result.status == 0
    assert result.out.strip() == "There are no members yet."


# --- invites list and revoke -----------------------------------------------------------------


def _invite(db: Path, unit: str, role: str) -> str:
    result = run_cli(["invite", "--unit", unit, "--role", role], db, telegram=FakeTelegram())
    assert result.status == 0, result.err
    match = START.search(result.out.splitlines()[1])
    assert match
    return match.group(1)


async def _redeem(db: Path, code: str) -> str:
    """What a newcomer is told who opens the invite link now."""
    bot = Harness(db)
    await bot.start()
    try:
        bot.now = datetime.now(UTC) + timedelta(seconds=1)
        newcomer = bot.user(610, "Hoa", "Lê")
        await newcomer.send(f"/start {code}")
        return newcomer.last_text()
    finally:
        await bot.stop()


def test_invites_list_then_revoke_makes_the_code_unusable(tree: Path) -> None:
    assert run_cli(["invites", "list"], tree).out.strip() == (
        "Không có mã mời nào chưa dùng và còn hạn."
    )
    code = _invite(tree, "16702-K01", "member")
    _invite(tree, "17464", "supervisor")
    hashes = [row[0] for row in rows(tree, "SELECT code_hash FROM invites ORDER BY id")]

    listed = run_cli(["invites", "list"], tree)

    assert listed.status == 0, listed.err
    header, first, second = listed.out.splitlines()
    assert "Mã gốc không được lưu" in header
    assert first.startswith(f"{hashes[0][:8]} | tổ viên | Khối 1 (16702-K01) | tạo lúc ")
    assert second.startswith(f"{hashes[1][:8]} | cán bộ phụ trách | Xã Diễn Châu (17464) |")

    revoked = run_cli(["invites", "revoke", hashes[0][:6].upper()], tree)
    assert revoked.status == 0, revoked.err
    assert revoked.out.strip() == (
        f"Đã thu hồi mã mời {hashes[0][:8]}: không ai dùng được mã này nữa."
    )
    assert len(run_cli(["invites", "list"], tree).out.splitlines()) == 2
    twice = run_cli(["invites", "revoke", hashes[0][:8]], tree)
    assert twice.status == 1
    assert "Không có mã mời chưa dùng, còn hạn nào" in twice.err

    answer = asyncio.run(_redeem(tree, code))
    assert "hết hạn" in answer
    assert rows(tree, "SELECT COUNT(*) FROM members")[0][0] == 0


def test_revoking_an_ambiguous_or_unknown_handle_is_refused(tree: Path) -> None:
    expires = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    for code_hash in ("abc1" + "0" * 60, "abc2" + "0" * 60):
        with sqlite3.connect(tree) as connection:
            connection.execute(
                "INSERT INTO invites (code_hash, unit_code, role, created_at, expires_at)"
                " VALUES (?, '16702', 'member', ?, ?)",
                (code_hash, expires, expires),
            )
    before = snapshot(tree)

    ambiguous = run_cli(["invites", "revoke", "abc"], tree)
    none = run_cli(["invites", "revoke", "fff"], tree, language="en")
    empty = run_cli(["invites", "revoke", " "], tree)

    assert ambiguous.status == 1
    assert ambiguous.err.startswith("Có nhiều mã mời có ký hiệu bắt đầu bằng abc.")
    assert none.status == 1
    assert none.err.startswith("No unused, unexpired invite has a handle starting with fff.")
    assert empty.status == 1
    assert snapshot(tree) == before
    assert run_cli(["invites", "revoke", "abc2"], tree).status == 0


# --- dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("26/11/2026", date(2026, 11, 26)),
        ("1/2/2026", date(2026, 2, 1)),
        ("2026-11-26", date(2026, 11, 26)),
        (" 26/11/2026 ", date(2026, 11, 26)),
        ("31/02/2026", None),
        ("11/26/2026", None),
        ("26-11-2026", None),
        ("2026/11/26", None),
        ("", None),
        ("hôm nay", None),
    ],
)
def test_days_are_read_day_first_or_iso(text: str, expected: date | None) -> None:
    assert parse_day(text) == expected


def test_export_takes_day_first_dates(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"

    result = run_cli(
        ["export", "--out", str(out), "--from", "01/11/2026", "--to", "30/11/2026"], tree
    )

    assert result.status == 0, result.err
    assert result.out.strip() == f"Đã xuất 0 báo cáo ra {out}."
    backwards = run_cli(
        ["export", "--out", str(out), "--from", "30/11/2026", "--to", "2026-11-01"], tree
    )
    assert backwards.status == 2
    assert "--from" in backwards.err


# --- messages in the deployment's language, never the system's --------------------------------


@pytest.mark.parametrize(
    ("language", "missing", "folder"),
    [
        ("vi", "không có tệp này, vui lòng kiểm tra tên và thư mục", "đây là một thư mục"),
        ("en", "there is no such file; check its name and folder", "this is a folder"),
    ],
)
def test_unreadable_files_are_explained_in_the_deployment_language(
    db_path: Path, tmp_path: Path, language: str, missing: str, folder: str
) -> None:
    absent = tmp_path / "absent.csv"

    gone = run_cli(["units", "import", str(absent)], db_path, language=language)
    directory = run_cli(["holidays", "import", str(tmp_path)], db_path, language=language)

    assert gone.status == 1
    assert gone.err.strip().endswith(f"{absent}: {missing}")
    assert "No such file" not in gone.err
    assert directory.status == 1
    assert f"{tmp_path}: {folder}" in directory.err
    assert "Errno" not in directory.err
