"""python bot.py deadlines add|list|remove: rules an admin sets, refused clearly when wrong."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest

from bot import cli

UNITS = (
    "code,name,parent_code\n40,Tỉnh Nghệ An,\n16702,Phường Vinh Phú,40\n16702-K01,Khối 1,16702\n"
)


def run(argv: list[str], db: Path, language: str = "vi") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    environ = {"BOT_DB_PATH": str(db), "BOT_LANGUAGE": language}
    status = cli.main(argv, environ=environ, env_file=None, out=out, err=err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    units = tmp_path / "units.csv"
    units.write_text(UNITS, encoding="utf-8")
    path = tmp_path / "data" / "bot.sqlite3"
    assert run(["units", "import", str(units)], path)[0] == 0
    return path


def rules(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as connection:
        return connection.execute(
            "SELECT id, unit_code, kind, period, due_time, weekday, month_day, needed, remind,"
            " removed_at IS NOT NULL FROM deadline_rules ORDER BY id"
        ).fetchall()


def test_a_rule_is_added_listed_and_removed(db: Path) -> None:
    status, out, err = run(
        ["deadlines", "add", "--unit", "16702", "--kind", "any", "--period", "weekly",
         "--due", "17:30", "--weekday", "fri", "--remind", "24h,2h,30m"],
        db,
    )  # fmt: skip
    assert (status, err) == (0, "")
    assert out.strip() == (
        "Đã thêm quy định hạn nộp số 1: Phường Vinh Phú (16702) và các đơn vị trực thuộc;"
        " mọi loại báo cáo; hằng tuần vào thứ Sáu lúc 17:30; cần 1 báo cáo;"
        " nhắc trước: 24h, 2h, 30m"
    )
    assert rules(db) == [(1, "16702", "any", "weekly", "17:30", 4, None, 1, "1440,120,30", 0)]
    run(["deadlines", "add", "--unit", "16702-K01", "--kind", "activity", "--period", "monthly",
         "--due", "8:00", "--day", "1", "--count", "2"], db)  # fmt: skip
    status, out, _ = run(["deadlines", "list"], db, language="en")
    assert status == 0
    assert out.splitlines() == [
        "No. 1: Phường Vinh Phú (16702) and the units under it; any report; every week on"
        " Friday at 17:30; 1 report needed; reminders before: 24h, 2h, 30m",
        "No. 2: Khối 1 (16702-K01) and the units under it; activity reports; every month on"
        " day 1 at 08:00; 2 reports needed; reminders before: none",
    ]
    assert run(["deadlines", "remove", "1"], db)[1].strip() == "Đã bỏ quy định hạn nộp số 1."
    assert [line.split(":")[0] for line in run(["deadlines", "list"], db)[1].splitlines()] == [
        "Số 2"
    ]
    status, _, err = run(["deadlines", "remove", "1"], db)
    assert status == 1 and "Không có quy định hạn nộp số 1" in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--kind", "reports"], "--kind không hợp lệ: reports"),
        (["--period", "yearly"], "--period không hợp lệ: yearly"),
        (["--due", "25:00"], "--due không hợp lệ: 25:00"),
        (["--due", "8h"], "--due không hợp lệ: 8h"),
        (["--period", "weekly"], "Hạn hằng tuần cần --weekday"),
        (["--period", "weekly", "--weekday", "friyay"], "--weekday không hợp lệ: friyay"),
        (["--weekday", "fri"], "--weekday chỉ dùng với --period weekly"),
        (["--period", "monthly"], "Hạn hằng tháng cần --day"),
        (["--period", "monthly", "--day", "31"], "--day không hợp lệ: 31"),
        (["--period", "monthly", "--day", "²"], "--day không hợp lệ: ²"),
        (["--day", "3"], "--day chỉ dùng với --period monthly"),
        (["--count", "0"], "--count không hợp lệ: 0"),
        (["--count", "many"], "--count không hợp lệ: many"),
        (["--remind", "25h"], "--remind không hợp lệ: 25h"),
        (["--remind", "2h;30m"], "--remind không hợp lệ: 2h;30m"),
        (["--unit", "99999"], "Không có đơn vị mã 99999"),
    ],
)
def test_a_bad_argument_is_named_and_changes_nothing(
    db: Path, extra: list[str], message: str
) -> None:
    base = {"--unit": "16702", "--kind": "any", "--period": "daily", "--due": "20:00"}
    overrides = dict(zip(extra[::2], extra[1::2], strict=True))
    argv = ["deadlines", "add"]
    for name, value in {**base, **overrides}.items():
        argv += [name, value]
    status, out, err = run(argv, db)
    assert status in (1, 2)
    assert out == ""
    assert message in err
    assert "Traceback" not in err
    assert rules(db) == []


def test_an_unknown_rule_number_is_refused(db: Path) -> None:
    status, _, err = run(["deadlines", "remove", "x1"], db)
    assert status == 2 and "Số quy định không hợp lệ: x1" in err
