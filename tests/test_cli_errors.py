"""Every word of the admin command line in the deployment's language (issue 9, "An admin
who is not a developer"): argparse's usage errors and --help, a bad setting at start-up,
and each command's bad input, with a non-zero status and never a Python exception text.

Each test runs the real command line (bot/cli.py) against a real SQLite file; the few
that start ``python bot.py`` do so as a child process, as the administrator would.
"""

from __future__ import annotations

import io
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from bot import cli
from botapi_sim import FakeTelegram
from botapi_sim.driver import TOKEN
from domain.settings import load_settings
from presentation.i18n import Translator
from storage.db import DatabaseUnusable, Unusable
from tests.cli_support import Run, cp1258, run_cli, snapshot, write

REPO_ROOT = Path(__file__).resolve().parent.parent
UNITS = "code,name,parent_code\n40,Tỉnh Nghệ An,\n16702,Phường Vinh Phú,40\n"
OUT = "<the export file>"
T = Translator.load("vi")
# What argparse, Python and the system say in English: none of it may reach a
# Vietnamese administrator.
ENGLISH = (
    "Traceback",
    "Error:",
    "error:",
    "usage:",
    "Usage:",
    "invalid choice",
    "the following arguments",
    "unrecognized arguments",
    "expected one argument",
    "positional arguments",
    "options:",
    "show this help",
    "invalid int value",
    "ignored explicit",
    "Errno",
    "No such file",
    "Permission denied",
    "directory",
    "httpx",
)


def assert_vietnamese_only(text: str) -> None:
    found = [phrase for phrase in ENGLISH if phrase in text]
    assert found == [], text


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.sqlite3"


@pytest.fixture
def tree(db_path: Path, tmp_path: Path) -> Path:
    units = write(tmp_path / "units.csv", UNITS)
    assert run_cli(["units", "import", str(units)], db_path).status == 0
    return db_path


def run_main(argv: list[str], environ: Mapping[str, str], env_file: Path | None = None) -> Run:
    """The command line with exactly this environment (and .env file, if any)."""
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(argv, environ=environ, env_file=env_file, out=out, err=err)
    return Run(status, out.getvalue(), err.getvalue())


# --- argparse's usage errors ------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "problem", "usage", "hint"),
    [
        (
            ["foo"],
            "Không có lệnh “foo”. Các lệnh có: run, units, members, invites, invite, export,",
            "Cách dùng: python bot.py [-h] LỆNH ...",
            "Xem hướng dẫn: python bot.py --help",
        ),
        (
            ["units"],
            "Cần ghi thêm một lệnh: import, list.",
            "Cách dùng: python bot.py units [-h] LỆNH ...",
            "Xem hướng dẫn: python bot.py units --help",
        ),
        (
            ["units", "import"],
            "Lệnh này còn thiếu: TỆP.",
            "Cách dùng: python bot.py units import [-h] TỆP",
            "Xem hướng dẫn: python bot.py units import --help",
        ),
        (
            ["invite", "--unit", "40"],
            "Lệnh này còn thiếu: --role.",
            "Cách dùng: python bot.py invite [-h] --unit MÃ --role",
            "Xem hướng dẫn: python bot.py invite --help",
        ),
        (
            ["invite", "--unit", "40", "--role", "tổ trưởng"],
            "--role không nhận “tổ trưởng”. Hãy chọn một trong: member, leader, deputy,"
            " supervisor, admin.",
            "Cách dùng: python bot.py invite [-h] --unit MÃ --role",
            "Xem hướng dẫn: python bot.py invite --help",
        ),
        (
            ["export", "--out"],
            "Sau --out cần ghi một giá trị.",
            "Cách dùng: python bot.py export [-h] --out TỆP",
            "Xem hướng dẫn: python bot.py export --help",
        ),
        (
            ["holidays", "list", "--year", "hai nghìn"],
            "--year cần một số, không phải “hai nghìn”.",
            "Cách dùng: python bot.py holidays list [-h] [--year NĂM]",
            "Xem hướng dẫn: python bot.py holidays list --help",
        ),
        (
            # Words left over are refused by the subcommand that was given them.
            ["members", "list", "thêm"],
            "Lệnh này không nhận: thêm.",
            "Cách dùng: python bot.py members list [-h] [--unit MÃ]",
            "Xem hướng dẫn: python bot.py members list --help",
        ),
        (
            ["holidays", "list", "--year", "2026", "extra", "words"],
            "Lệnh này không nhận: extra words.",
            "Cách dùng: python bot.py holidays list [-h] [--year NĂM]",
            "Xem hướng dẫn: python bot.py holidays list --help",
        ),
        (
            ["invites", "list", "--all"],
            "Lệnh này không nhận: --all.",
            "Cách dùng: python bot.py invites list [-h]",
            "Xem hướng dẫn: python bot.py invites list --help",
        ),
        (
            ["--verbose"],  # before any command: the program's own
            "Lệnh này không nhận: --verbose.",
            "Cách dùng: python bot.py [-h] LỆNH ...",
            "Xem hướng dẫn: python bot.py --help",
        ),
        (
            ["--help=x"],
            "-h/--help không đi kèm giá trị nào (đã ghi “x”).",
            "Cách dùng: python bot.py [-h] LỆNH ...",
            "Xem hướng dẫn: python bot.py --help",
        ),
    ],
)
def test_usage_errors_are_explained_in_vietnamese(
    db_path: Path, argv: list[str], problem: str, usage: str, hint: str
) -> None:
    result = run_cli(argv, db_path)

    assert result.status == 2
    assert result.out == ""
    lines = result.err.splitlines()
    assert lines[0].startswith(problem), result.err
    assert lines[1].startswith(usage), result.err
    assert lines[-1] == hint
    assert_vietnamese_only(result.err)
    assert not db_path.exists()


@pytest.mark.parametrize(
    ("argv", "problem", "usage"),
    [
        (["units"], "A command is needed after this: import, list.", "Usage: python bot.py units"),
        (
            ["invite", "--unit", "40"],
            "This command also needs: --role.",
            "Usage: python bot.py invite [-h] --unit CODE --role",
        ),
    ],
)
def test_usage_errors_in_english(db_path: Path, argv: list[str], problem: str, usage: str) -> None:
    result = run_cli(argv, db_path, language="en")

    assert result.status == 2
    problem_line, usage_line, *_, hint = result.err.splitlines()
    assert problem_line == problem
    assert usage_line.startswith(usage)
    assert hint.startswith("For help: python bot.py")
    assert "error:" not in result.err


def test_a_message_argparse_did_not_have_before_is_still_not_english() -> None:
    parser = cli._parser(partial(T.plain, "vi"))
    error = cli.UsageError(parser, "argument --unit: some wording of a later Python")

    told = cli._usage_message(error, T, "vi")

    assert told.splitlines()[0] == "Lệnh chưa được ghi đúng cách."
    assert told.splitlines()[-1] == "Xem hướng dẫn: python bot.py --help"
    assert "wording" not in told


# --- --help of every command ------------------------------------------------------------


def every_command(parser: cli.CliParser, words: tuple[str, ...] = ()) -> Iterator[list[str]]:
    """The words that reach each command and subcommand, the bare program first."""
    yield list(words)
    if parser.subcommands is not None:
        for name, child in parser.subcommands.choices.items():
            yield from every_command(child, (*words, name))


def test_every_command_has_help_in_vietnamese(db_path: Path) -> None:
    parser = cli._parser(partial(T.plain, "vi"))
    commands = list(every_command(parser))
    assert ["units", "import"] in commands and ["audit"] in commands

    for words in commands:
        result = run_cli([*words, "--help"], db_path)

        assert result.status == 0, words
        assert result.err == ""
        assert result.out.startswith(" ".join(["Cách dùng: python bot.py", *words])), words
        assert "Tùy chọn:" in result.out
        assert "-h, --help" in result.out and "hiện hướng dẫn này" in result.out
        assert_vietnamese_only(result.out)
    assert not db_path.exists()


def test_help_lists_the_commands_with_their_vietnamese_help(db_path: Path) -> None:
    top = run_cli(["-h"], db_path)
    units = run_cli(["units", "--help"], db_path)
    export = run_cli(["export", "--help"], db_path)

    assert "Lệnh quản trị bot: chạy bot, nhập đơn vị, tạo link mời" in top.out
    assert "Tham số:" in top.out
    assert "    members   xem danh sách hoặc ngừng quyền thành viên" in top.out.splitlines()
    assert "Quản lý cây đơn vị" in units.out  # its own help starts a sentence
    assert "    import    nhập đơn vị từ tệp CSV" in units.out.splitlines()
    assert "--from NGÀY/THÁNG/NĂM" in export.out
    assert "ví dụ 01/11/2026 (hoặc 2026-11-01)" in export.out


def test_help_in_english(db_path: Path) -> None:
    result = run_cli(["invite", "--help"], db_path, language="en")

    assert result.status == 0
    assert result.out.startswith("Usage: python bot.py invite [-h] --unit CODE --role")
    assert "Options:" in result.out
    assert "-h, --help            show this help" in result.out
    assert "member (team member)" in result.out


def sections(help_text: str) -> dict[str, str]:
    """--help's sections ("Tùy chọn:", "Bắt buộc:") by heading, each its lines as one text."""
    found: dict[str, str] = {}
    heading = ""
    for line in help_text.splitlines():
        if line.endswith(":") and not line.startswith(" "):
            heading = line
            found[heading] = ""
        elif heading:
            found[heading] += line + "\n"
    return found


@pytest.mark.parametrize(
    ("language", "required", "optional"),
    [("vi", "Bắt buộc:", "Tùy chọn:"), ("en", "Required:", "Options:")],
)
def test_required_options_are_listed_apart_from_the_optional_ones(
    db_path: Path, language: str, required: str, optional: str
) -> None:
    parser = cli._parser(partial(Translator.load(language).plain, language))
    checked = []
    for words in every_command(parser):
        command = parser
        for word in words:
            assert command.subcommands is not None
            command = command.subcommands.choices[word]
        flags = {
            action.option_strings[0]: action.required
            for action in command._actions
            if action.option_strings
        }
        shown = sections(run_cli([*words, "--help"], db_path, language=language).out)
        for flag, is_required in flags.items():
            under = required if is_required else optional
            other = optional if is_required else required
            assert f"\n  {flag}" in "\n" + shown[under], (words, flag, shown)
            assert f"\n  {flag}" not in "\n" + shown.get(other, ""), (words, flag, shown)
        # The required ones come first, before the options that may be left out.
        headings = list(shown)
        if any(flags.values()):
            assert headings.index(required) < headings.index(optional), headings
            checked.append(words)
        else:
            assert required not in shown
    assert ["invite"] in checked and ["export"] in checked and ["deadlines", "add"] in checked


def test_help_piped_into_a_reader_that_stops_early_prints_no_traceback(tmp_path: Path) -> None:
    """`python bot.py --help | head -1`: head is gone before the help is written."""
    reading, writing = os.pipe()
    os.close(reading)  # the reader has already stopped
    try:
        result = subprocess.run(  # noqa: S603 - our own interpreter and script, no shell
            [sys.executable, str(REPO_ROOT / "bot.py"), "--help"],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            stdin=subprocess.DEVNULL,
            stdout=writing,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(writing)

    assert result.stderr == ""
    assert result.returncode == 1


def test_help_piped_into_head_shows_its_first_line(tmp_path: Path) -> None:
    result = subprocess.run(  # noqa: S603 - our own interpreter and script, no shell
        ["/bin/sh", "-c", f'"{sys.executable}" "{REPO_ROOT / "bot.py"}" --help | head -1'],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "BOT_LANGUAGE": "vi"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.stdout == "Cách dùng: python bot.py [-h] LỆNH ...\n"
    assert result.stderr == ""


def test_help_works_whatever_the_settings_say(db_path: Path) -> None:
    """An administrator with a broken .env still gets the help, in the language it names."""
    result = run_main(
        ["--help"], {"BOT_LANGUAGE": "en", "BOT_TIMEZONE": "Mars/Base", "BOT_DB_PATH": "x"}
    )

    assert result.status == 0
    assert result.out.startswith("Usage: python bot.py")


# --- settings at start-up ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "environ", "expected"),
    [
        (
            ["run"],
            {},
            "Chưa đặt TELEGRAM_BOT_TOKEN. Hãy nhắn @BotFather trên Telegram, gửi /newbot,",
        ),
        (
            ["units", "list"],
            {"TELEGRAM_BOT_TOKEN": "123456:abc"},
            "TELEGRAM_BOT_TOKEN không giống token của bot",
        ),
        (
            ["units", "list"],
            {"BOT_TIMEZONE": "Asia/Hanoi"},
            "BOT_TIMEZONE=Asia/Hanoi: không có múi giờ này. Hãy dùng tên múi giờ như"
            " Asia/Ho_Chi_Minh.",
        ),
        (
            ["units", "list"],
            {"BOT_LANGUAGE": "fr"},
            "BOT_LANGUAGE=fr: ngôn ngữ này chưa được hỗ trợ. Hãy dùng một trong: vi, en.",
        ),
        (
            ["units", "list"],
            {"BOT_HOTSPOT_COUNT": "ba"},
            "BOT_HOTSPOT_COUNT=ba: cần một số nguyên từ 2 đến 1000.",
        ),
        (
            ["units", "list"],
            {"BOT_DIGEST_WEEKLY": "thứ hai 7h"},
            "BOT_DIGEST_WEEKLY=thứ hai 7h: không phải lịch gửi. Hãy ghi thứ trong tuần",
        ),
        (
            ["units", "list"],
            {"BOT_EDIT_WINDOW": "mãi mãi"},
            "BOT_EDIT_WINDOW=mãi mãi: không dùng được.",
        ),
        (
            ["units", "list"],
            {"BOT_ESCALATE_AFTER": "1 tuần"},
            "BOT_ESCALATE_AFTER=1 tuần: không dùng được.",
        ),
        (
            ["units", "list"],
            {"TELEGRAM_API_BASE_URL": "127.0.0.1:8081/bot"},
            "TELEGRAM_API_BASE_URL=127.0.0.1:8081/bot: địa chỉ phải bắt đầu bằng http://",
        ),
    ],
)
def test_a_bad_setting_is_one_vietnamese_line(
    db_path: Path, argv: list[str], environ: dict[str, str], expected: str
) -> None:
    result = run_main(argv, {"BOT_DB_PATH": str(db_path), **environ})

    assert result.status == 2
    assert result.out == ""
    assert len(result.err.splitlines()) == 1, result.err
    assert result.err.startswith(expected), result.err
    assert_vietnamese_only(result.err)
    assert not db_path.exists()


def test_a_bad_setting_in_english_when_the_deployment_is_english(db_path: Path) -> None:
    result = run_main(
        ["units", "list"],
        {"BOT_DB_PATH": str(db_path), "BOT_LANGUAGE": "en", "BOT_SILENT_DAYS": "-3"},
    )

    assert result.status == 2
    assert result.err.strip() == "BOT_SILENT_DAYS=-3 must be a whole number from 1 to 366."


def test_a_bad_env_line_is_named_with_its_line_number(tmp_path: Path) -> None:
    env_file = write(tmp_path / ".env", "BOT_LANGUAGE=en\nTELEGRAM_BOT_TOKEN\n")

    # The file's other lines still name the language, unless the environment does.
    in_english = run_main(["units", "list"], {}, env_file)
    in_vietnamese = run_main(["units", "list"], {"BOT_LANGUAGE": "vi"}, env_file)

    assert (in_english.status, in_vietnamese.status) == (2, 2)
    assert in_english.err.strip() == (
        f"{env_file}, line 2: expected KEY=VALUE, such as BOT_LANGUAGE=vi."
    )
    assert in_vietnamese.err.strip() == (
        f"{env_file}, dòng 2: cần có dạng TÊN=GIÁ_TRỊ, ví dụ BOT_LANGUAGE=vi."
    )


@pytest.mark.parametrize(
    "text",
    [
        b"# deployment\nTELEGRAM_BOT_TOKEN\nBOT_LANGUAGE=EN\n",  # after the bad line, upper case
        b"export BOT_LANGUAGE='en'\n=oops\n",
    ],
)
def test_an_english_env_file_with_a_bad_line_is_refused_in_english(
    tmp_path: Path, text: bytes
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_bytes(text)

    result = run_main(["units", "list"], {}, env_file)

    assert result.status == 2
    assert result.err.startswith(f"{env_file}, line "), result.err
    assert "such as BOT_LANGUAGE=vi." in result.err


def test_an_english_env_file_that_is_not_utf8_is_refused_in_english(tmp_path: Path) -> None:
    env_file = write(tmp_path / ".env", cp1258("# Cấu hình của tổ Nghi Phú\nBOT_LANGUAGE=en\n"))

    result = run_main(["units", "list"], {}, env_file)

    assert result.status == 2
    assert result.err.strip() == f"{env_file} is not UTF-8 text; save it again as UTF-8."


@pytest.mark.parametrize("written", ["EN", "En", " en "])
def test_the_language_is_read_in_any_case(db_path: Path, tmp_path: Path, written: str) -> None:
    from_environment = run_main(["--help"], {"BOT_LANGUAGE": written})
    env_file = write(tmp_path / ".env", f"BOT_LANGUAGE={written}\nBOT_DB_PATH={db_path}\n")
    from_file = run_main(["units", "list"], {}, env_file)

    assert from_environment.out.startswith("Usage: python bot.py"), from_environment.out
    # Settings accept it too: the command runs, and speaks English.
    assert from_file.status == 1, from_file.err
    assert "BOT_LANGUAGE" not in from_file.err
    assert from_file.err.startswith(f"No database at {db_path}."), from_file.err


def test_an_env_file_that_is_not_utf8_is_refused_plainly(tmp_path: Path) -> None:
    env_file = write(tmp_path / ".env", cp1258("# Cấu hình của tổ Nghi Phú\nBOT_LANGUAGE=vi\n"))

    result = run_main(["units", "list"], {}, env_file)

    assert result.status == 2
    assert result.err.strip() == (
        f"{env_file}: tệp không phải mã UTF-8. Hãy lưu lại tệp dưới dạng UTF-8."
    )
    assert_vietnamese_only(result.err)


def _child(argv: list[str], environ: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TELEGRAM_", "BOT_", "PYTHON"))
    }
    env.update(environ, PYTHONPATH=str(REPO_ROOT))
    return subprocess.run(  # noqa: S603 - our own interpreter and script, no shell
        [sys.executable, str(REPO_ROOT / "bot.py"), *argv],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_python_bot_py_with_a_bad_setting_prints_one_line_and_no_traceback(
    tmp_path: Path,
) -> None:
    result = _child([], {"TELEGRAM_BOT_TOKEN": TOKEN, "BOT_TIMEZONE": "GMT+7"}, tmp_path)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "BOT_TIMEZONE=GMT+7: không có múi giờ này. Hãy dùng tên múi giờ như Asia/Ho_Chi_Minh."
    ]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_the_bot_says_plainly_when_telegram_cannot_be_reached(tmp_path: Path) -> None:
    environ = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{_closed_port()}/bot",
        "BOT_DB_PATH": str(tmp_path / "bot.sqlite3"),
    }

    result = _child([], environ, tmp_path)

    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"Không kết nối được tới Telegram ({environ['TELEGRAM_API_BASE_URL']}): hãy kiểm tra"
        " kết nối mạng, tường lửa và TELEGRAM_API_BASE_URL"
    )
    assert_vietnamese_only(result.stderr)


# --- each command's bad input -----------------------------------------------------------


def _invites(db: Path, *hashes: str) -> None:
    expires = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    with sqlite3.connect(db) as connection:
        for code_hash in hashes:
            connection.execute(
                "INSERT INTO invites (code_hash, unit_code, role, created_at, expires_at)"
                " VALUES (?, '16702', 'member', ?, ?)",
                (code_hash, expires, expires),
            )


@pytest.mark.parametrize(
    ("argv", "status", "expected"),
    [
        (["units", "list", "--under", "99999"], 1, "Không có đơn vị mã 99999."),
        (["members", "list", "--unit", "Khối 1"], 1, "Không có đơn vị mã Khối 1."),
        (["invite", "--unit", "16702-K09", "--role", "member"], 1, "Không có đơn vị mã 16702-K09"),
        (["members", "deactivate", "số 5"], 2, "số 5 không phải số của một thành viên."),
        (["members", "deactivate", "12345"], 1, "Không có thành viên số 12345."),
        (
            ["invites", "revoke", "fff"],
            1,
            "Không có mã mời chưa dùng, còn hạn nào có ký hiệu bắt đầu bằng fff.",
        ),
        (["invites", "revoke", "abc"], 1, "Có nhiều mã mời có ký hiệu bắt đầu bằng abc."),
        (["export", "--out", OUT, "--from", "31/02/2026"], 2, "Ngày 31/02/2026 không hợp lệ."),
        (["export", "--out", OUT, "--to", "2026-13-01"], 2, "Ngày 2026-13-01 không hợp lệ."),
        (["export", "--out", OUT, "--from", "hôm qua"], 2, "Ngày hôm qua không hợp lệ."),
        (["deadlines", "remove", "9" * 30], 2, f"Số quy định không hợp lệ: {'9' * 30}."),
        (["audit", "--report", "năm"], 2, "«năm» không phải số báo cáo;"),
    ],
)
def test_bad_input_to_each_command_is_refused_in_vietnamese(
    tree: Path, tmp_path: Path, argv: list[str], status: int, expected: str
) -> None:
    _invites(tree, "abc1" + "0" * 60, "abc2" + "0" * 60)
    before = snapshot(tree)
    telegram = FakeTelegram()

    out = tmp_path / "x.csv"

    result = run_cli([str(out) if word == OUT else word for word in argv], tree, telegram=telegram)

    assert result.status == status
    assert result.out == ""
    assert result.err.startswith(expected), result.err
    assert_vietnamese_only(result.err)
    assert snapshot(tree) == before
    assert telegram.calls == []
    assert not out.exists()


def test_files_that_cannot_be_read_are_refused_in_vietnamese(tree: Path, tmp_path: Path) -> None:
    before = snapshot(tree)
    absent = tmp_path / "không có.csv"
    windows = write(tmp_path / "ansi.csv", cp1258(UNITS + "16702-K01,Khối 1,16702\n"))
    holidays = write(tmp_path / "le.csv", cp1258("date,name\n02/09/2027,Quốc khánh\n"))

    missing = run_cli(["units", "import", str(absent)], tree)
    folder = run_cli(["holidays", "import", str(tmp_path)], tree)
    ansi = run_cli(["units", "import", str(windows)], tree)
    ansi_holidays = run_cli(["holidays", "import", str(holidays)], tree)

    assert (missing.status, folder.status, ansi.status, ansi_holidays.status) == (1, 1, 1, 1)
    assert missing.err.strip() == (
        f"Không đọc được tệp {absent}: không có tệp này, vui lòng kiểm tra tên và thư mục"
    )
    assert (
        folder.err.strip() == f"Không đọc được tệp {tmp_path}: đây là một thư mục, không phải tệp"
    )
    assert "tệp không phải mã UTF-8 (hãy lưu lại dưới dạng CSV UTF-8)" in ansi.err
    assert "tệp không phải mã UTF-8" in ansi_holidays.err
    for result in (missing, folder, ansi, ansi_holidays):
        assert_vietnamese_only(result.err)
    assert snapshot(tree) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_a_file_the_account_may_not_read_is_refused_in_vietnamese(
    tree: Path, tmp_path: Path
) -> None:
    locked = write(tmp_path / "locked.csv", UNITS)
    locked.chmod(0)
    try:
        result = run_cli(["units", "import", str(locked)], tree)
    finally:
        locked.chmod(0o600)

    assert result.status == 1
    assert result.err.strip() == (
        f"Không đọc được tệp {locked}: tài khoản đang chạy lệnh không có quyền đọc tệp này"
    )


@pytest.mark.parametrize(
    ("language", "folder", "under_a_file"),
    [
        (
            "vi",
            "Không ghi được tệp {path}: đây là một thư mục, không phải tệp",
            "Không ghi được tệp {path}: một phần của đường dẫn là tệp chứ không phải thư mục",
        ),
        (
            "en",
            "Cannot write {path}: this is a folder, not a file",
            "Cannot write {path}: part of the path is a file, not a folder",
        ),
    ],
)
def test_an_export_that_cannot_be_written_says_why(
    tree: Path, tmp_path: Path, language: str, folder: str, under_a_file: str
) -> None:
    a_file = write(tmp_path / "notes.txt", "ghi chú")
    inside = a_file / "reports.csv"

    into_folder = run_cli(["export", "--out", str(tmp_path)], tree, language=language)
    into_file = run_cli(["export", "--out", str(inside)], tree, language=language)

    assert (into_folder.status, into_file.status) == (1, 1)
    assert into_folder.err.strip() == folder.format(path=tmp_path)
    assert into_file.err.strip() == under_a_file.format(path=inside)
    assert "Traceback" not in into_folder.err + into_file.err
    assert a_file.read_text(encoding="utf-8") == "ghi chú"
    assert [path.name for path in tmp_path.iterdir() if path.name.endswith(".partial")] == []


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "vi",
            "Không tạo được cơ sở dữ liệu {db}: một phần của đường dẫn là tệp chứ không phải"
            " thư mục. Hãy kiểm tra BOT_DB_PATH.",
        ),
        (
            "en",
            "Cannot create the database {db}: part of the path is a file, not a folder."
            " Check BOT_DB_PATH.",
        ),
    ],
)
def test_a_database_path_that_cannot_exist_is_refused(
    tmp_path: Path, language: str, expected: str
) -> None:
    a_file = write(tmp_path / "data", "not a folder")
    db = a_file / "bot.sqlite3"
    units = write(tmp_path / "units.csv", UNITS)

    result = run_cli(["units", "import", str(units)], db, language=language)

    assert result.status == 1
    assert result.err.strip() == expected.format(db=db)
    assert "Traceback" not in result.err


def test_a_folder_given_as_the_database_is_named_as_a_folder(tmp_path: Path) -> None:
    result = run_cli(["units", "list"], tmp_path)

    assert result.status == 1
    assert result.err.strip().startswith(
        f"{tmp_path} không phải là cơ sở dữ liệu SQLite (đây là một thư mục, không phải tệp)."
    )
    assert_vietnamese_only(result.err)


def test_a_database_in_a_folder_that_does_not_exist_yet(tmp_path: Path) -> None:
    db = tmp_path / "mới" / "dữ liệu" / "bot.sqlite3"
    units = write(tmp_path / "units.csv", UNITS)

    listed = run_cli(["units", "list"], db)
    imported = run_cli(["units", "import", str(units)], db)

    assert listed.status == 1
    assert listed.err.startswith(f"Không thấy cơ sở dữ liệu {db}. Kiểm tra BOT_DB_PATH")
    assert imported.status == 0, imported.err
    assert imported.out.strip() == "Đã nhập đơn vị: thêm 2, đổi tên 0, chuyển chỗ 0."


@pytest.mark.parametrize(
    ("cause", "expected"),
    [
        (
            PermissionError(13, "Permission denied"),
            "tài khoản đang chạy lệnh không có quyền ghi vào đây",
        ),
        (OSError(30, "Read-only file system"), "ổ đĩa đang ở chế độ chỉ đọc"),
        (OSError(28, "No space left on device"), "ổ đĩa đã đầy"),
        (OSError(5, "Input/output error"), "lỗi hệ thống số 5 khi ghi tệp"),
    ],
)
def test_what_the_system_said_about_the_database_is_translated(
    tmp_path: Path, cause: OSError, expected: str
) -> None:
    """Faults this test cannot make as root: the system's own words are replaced."""
    db = tmp_path / "bot.sqlite3"
    error = DatabaseUnusable(db, Unusable.READ_ONLY, cause.strerror or "")
    error.__cause__ = cause
    settings = load_settings({"BOT_DB_PATH": str(db)}, None, require_token=False)

    told = cli._unusable_message(error, settings, T)

    assert told.startswith(f"Không ghi được vào cơ sở dữ liệu {db} ({expected}).")
    assert cause.strerror and cause.strerror not in told
