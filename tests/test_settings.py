"""Start-up settings (domain/settings.py): environment, .env file, defaults and refusals."""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from domain.deadlines import Period
from domain.settings import (
    DEFAULT_API_BASE_URL,
    DEFAULT_FILE_BASE_URL,
    Settings,
    SettingsError,
    load_settings,
    read_env_file,
)
from presentation.i18n import Translator

REPO_ROOT = Path(__file__).resolve().parent.parent
# The example token from Telegram's own documentation: the right shape, not a real bot.
TOKEN = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
OTHER_TOKEN = "987654321:ZYXwvuTSRqpoNMLkjiHGFedcba_-98765"


def settings_from(**environ: str) -> Settings:
    return load_settings(environ, None)


TRANSLATOR = Translator.load("vi")


def told(error: SettingsError, language: str = "en") -> str:
    """What the administrator reads: the refusal rendered from the catalogue."""
    return TRANSLATOR.plain(language, error.key, **error.values)


def refusal(**environ: str) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ, None)
    assert caught.value.key.startswith("settings.")
    return told(caught.value)


def write_env(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    return path


# --- the token ---------------------------------------------------------------------


@pytest.mark.parametrize("environ", [{}, {"TELEGRAM_BOT_TOKEN": ""}, {"TELEGRAM_BOT_TOKEN": "  "}])
def test_missing_token_says_to_ask_botfather(environ: dict[str, str]) -> None:
    message = refusal(**environ)
    assert "@BotFather" in message
    assert "TELEGRAM_BOT_TOKEN" in message
    assert ".env" in message


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "110201543",
        "110201543:",
        "110201543:short_secret",  # fewer than 20 characters after the colon
        ":AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        "bot110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        "110201543:AAHdqTcvCH1vGWJx fSeofSAs0K5PALDsaw",
        "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw!",
        "110201543;AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
    ],
)
def test_malformed_token_is_refused_without_echoing_it(token: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"TELEGRAM_BOT_TOKEN": token}, None)
    for message in (told(caught.value, "en"), told(caught.value, "vi"), str(caught.value)):
        assert "TELEGRAM_BOT_TOKEN" in message
        assert token not in message
    assert "@BotFather" in told(caught.value, "en")
    assert "@BotFather" in told(caught.value, "vi")


def test_token_is_taken_with_surrounding_spaces_trimmed() -> None:
    assert settings_from(TELEGRAM_BOT_TOKEN=f"  {TOKEN}\t").token == TOKEN


def test_require_token_false_allows_a_missing_token() -> None:
    settings = load_settings({}, None, require_token=False)
    assert settings.token == ""
    assert settings.language == "vi"


def test_require_token_false_still_refuses_a_malformed_token() -> None:
    with pytest.raises(SettingsError, match="TELEGRAM_BOT_TOKEN"):
        load_settings({"TELEGRAM_BOT_TOKEN": "oops"}, None, require_token=False)


def test_repr_and_str_never_show_the_token() -> None:
    settings = settings_from(TELEGRAM_BOT_TOKEN=TOKEN)
    secret = TOKEN.split(":", 1)[1]
    for shown in (repr(settings), str(settings), f"{settings}", f"{settings!r}", f"{[settings]}"):
        assert secret not in shown
        assert "110201543" not in shown
    assert "Asia/Ho_Chi_Minh" in repr(settings)


# --- defaults and overrides ----------------------------------------------------------


def test_defaults_suit_a_vietnamese_deployment_on_telegrams_servers() -> None:
    settings = settings_from(TELEGRAM_BOT_TOKEN=TOKEN)
    assert settings.token == TOKEN
    assert settings.timezone.key == "Asia/Ho_Chi_Minh"
    assert settings.language == "vi"
    assert settings.db_path == Path("data/bot.sqlite3")
    assert settings.api_base_url == DEFAULT_API_BASE_URL == "https://api.telegram.org/bot"
    assert settings.file_base_url == DEFAULT_FILE_BASE_URL == "https://api.telegram.org/file/bot"


def test_blank_optional_values_fall_back_to_defaults() -> None:
    settings = settings_from(
        TELEGRAM_BOT_TOKEN=TOKEN,
        BOT_TIMEZONE="",
        BOT_LANGUAGE=" ",
        BOT_DB_PATH="",
        TELEGRAM_API_BASE_URL="",
        TELEGRAM_FILE_BASE_URL="",
    )
    assert settings.timezone.key == "Asia/Ho_Chi_Minh"
    assert settings.language == "vi"
    assert settings.db_path == Path("data/bot.sqlite3")
    assert settings.api_base_url == DEFAULT_API_BASE_URL
    assert settings.file_base_url == DEFAULT_FILE_BASE_URL


def test_every_setting_can_be_overridden() -> None:
    settings = settings_from(
        TELEGRAM_BOT_TOKEN=TOKEN,
        BOT_TIMEZONE="UTC",
        BOT_LANGUAGE="en",
        BOT_DB_PATH="/srv/bot/reports.sqlite3",
    )
    assert settings.timezone.key == "UTC"
    assert settings.language == "en"
    assert settings.db_path == Path("/srv/bot/reports.sqlite3")


def test_self_hosted_api_server_gets_its_file_url_beside_it() -> None:
    settings = settings_from(
        TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL="http://127.0.0.1:8081/bot"
    )
    assert settings.api_base_url == "http://127.0.0.1:8081/bot"
    assert settings.file_base_url == "http://127.0.0.1:8081/file/bot"


def test_explicit_file_url_wins_over_the_guess() -> None:
    settings = settings_from(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL="https://tg.example.vn/bot",
        TELEGRAM_FILE_BASE_URL="https://files.example.vn/file/bot",
    )
    assert settings.api_base_url == "https://tg.example.vn/bot"
    assert settings.file_base_url == "https://files.example.vn/file/bot"


def test_settings_cannot_be_changed_after_start_up() -> None:
    settings = settings_from(TELEGRAM_BOT_TOKEN=TOKEN)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.language = "en"  # type: ignore[misc]


# --- bad values name the variable to fix ---------------------------------------------


@pytest.mark.parametrize("zone", ["Mars/Olympus", "Asia/Hanoi_City", "asia/ho_chi_minh", "../etc"])
def test_unknown_time_zone_is_refused_naming_the_variable(zone: str) -> None:
    message = refusal(TELEGRAM_BOT_TOKEN=TOKEN, BOT_TIMEZONE=zone)
    assert f"BOT_TIMEZONE={zone}" in message


def test_time_zone_folder_name_is_refused_as_a_setting_error() -> None:
    message = refusal(TELEGRAM_BOT_TOKEN=TOKEN, BOT_TIMEZONE="Asia")
    assert "BOT_TIMEZONE" in message


@pytest.mark.parametrize("language", ["fr", "FR", "vietnamese", "vi-VN"])
def test_unsupported_language_is_refused_naming_the_variable(language: str) -> None:
    message = refusal(TELEGRAM_BOT_TOKEN=TOKEN, BOT_LANGUAGE=language)
    # As the administrator wrote it, not as it was compared.
    assert f"BOT_LANGUAGE={language}" in message
    assert "vi, en" in message


@pytest.mark.parametrize(("written", "language"), [("EN", "en"), ("Vi", "vi"), (" en ", "en")])
def test_the_language_is_taken_in_any_case(written: str, language: str) -> None:
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, "BOT_LANGUAGE": written}, None)
    assert settings.language == language


@pytest.mark.parametrize("name", ["TELEGRAM_API_BASE_URL", "TELEGRAM_FILE_BASE_URL"])
@pytest.mark.parametrize("url", ["ftp://127.0.0.1/bot", "127.0.0.1:8081/bot", "file:///tmp/bot"])
def test_url_without_http_scheme_is_refused_naming_the_variable(name: str, url: str) -> None:
    message = refusal(TELEGRAM_BOT_TOKEN=TOKEN, **{name: url})
    assert f"{name}={url}" in message
    assert "http://" in message


# --- the .env file -------------------------------------------------------------------


def test_env_file_skips_comments_and_blanks_and_unquotes_values(tmp_path: Path) -> None:
    path = write_env(
        tmp_path,
        "# Settings for the Nghi Phú team\n"
        "\n"
        "   # an indented comment\n"
        f'export TELEGRAM_BOT_TOKEN="{TOKEN}"\n'
        "BOT_LANGUAGE='en'\n"
        "  BOT_TIMEZONE = UTC  \n"
        "BOT_DB_PATH=/srv/db=main.sqlite3\n"
        "EMPTY=\n"
        'LONE_QUOTE="\n'
        "GREETING=Xin chào\n",
    )
    assert read_env_file(path) == {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "BOT_LANGUAGE": "en",
        "BOT_TIMEZONE": "UTC",
        "BOT_DB_PATH": "/srv/db=main.sqlite3",
        "EMPTY": "",
        "LONE_QUOTE": '"',
        "GREETING": "Xin chào",
    }
    settings = load_settings({}, path)
    assert settings.token == TOKEN
    assert settings.language == "en"
    assert settings.timezone.key == "UTC"
    assert settings.db_path == Path("/srv/db=main.sqlite3")


@pytest.mark.parametrize("bad_line", ["JUST_A_WORD", "=value-without-a-key", "export", "   = x"])
def test_malformed_env_line_is_refused_with_its_line_number(tmp_path: Path, bad_line: str) -> None:
    path = write_env(tmp_path, f"# header\nBOT_LANGUAGE=vi\n{bad_line}\nBOT_TIMEZONE=UTC\n")
    with pytest.raises(SettingsError) as caught:
        load_settings({"TELEGRAM_BOT_TOKEN": TOKEN}, path)
    assert told(caught.value).startswith(f"{path}, line 3: expected KEY=VALUE")
    assert told(caught.value, "vi").startswith(f"{path}, dòng 3: cần có dạng TÊN=GIÁ_TRỊ")


def test_missing_env_file_is_no_error(tmp_path: Path) -> None:
    assert read_env_file(tmp_path / "absent.env") == {}
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN}, tmp_path / "absent.env")
    assert settings.token == TOKEN


def test_environment_wins_over_env_file(tmp_path: Path) -> None:
    path = write_env(
        tmp_path,
        f"TELEGRAM_BOT_TOKEN={OTHER_TOKEN}\nBOT_LANGUAGE=en\nBOT_DB_PATH=from-file.sqlite3\n",
    )
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, "BOT_LANGUAGE": "vi"}, path)
    assert settings.token == TOKEN
    assert settings.language == "vi"
    assert settings.db_path == Path("from-file.sqlite3")  # not in the environment: file's


def test_bad_value_from_env_file_is_refused_like_one_from_the_environment(
    tmp_path: Path,
) -> None:
    path = write_env(tmp_path, f"TELEGRAM_BOT_TOKEN={TOKEN}\nBOT_LANGUAGE=fr\n")
    with pytest.raises(SettingsError, match="BOT_LANGUAGE"):
        load_settings({}, path)


def test_default_reads_process_environment_and_dot_env_in_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env(tmp_path, f"TELEGRAM_BOT_TOKEN={OTHER_TOKEN}\nBOT_LANGUAGE=en\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    for name in ("BOT_LANGUAGE", "BOT_TIMEZONE", "BOT_DB_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("TELEGRAM_API_BASE_URL", raising=False)
    monkeypatch.delenv("TELEGRAM_FILE_BASE_URL", raising=False)
    settings = load_settings()
    assert settings.token == TOKEN
    assert settings.language == "en"


# --- the command line ----------------------------------------------------------------


def test_cli_without_token_prints_the_botfather_hint_and_fails() -> None:
    out, err = io.StringIO(), io.StringIO()
    status = main([], environ={}, env_file=None, out=out, err=err)
    assert status != 0
    assert "@BotFather" in err.getvalue()
    assert out.getvalue() == ""


def test_running_bot_py_without_a_token_explains_how_to_get_one(tmp_path: Path) -> None:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TELEGRAM_", "BOT_", "PYTHON"))
    }
    env["PYTHONPATH"] = str(REPO_ROOT)
    assert not (tmp_path / ".env").exists()
    result = subprocess.run(  # noqa: S603 - our own interpreter and script, no shell
        [sys.executable, str(REPO_ROOT / "bot.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "@BotFather" in result.stderr
    assert "TELEGRAM_BOT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_inline_comment_after_an_unquoted_value_is_dropped(tmp_path: Path) -> None:
    path = write_env(tmp_path, f"TELEGRAM_BOT_TOKEN={TOKEN}\nBOT_LANGUAGE=en  # English\n")
    assert load_settings({}, path).language == "en"
    quoted = write_env(tmp_path, 'BOT_DB_PATH="data/a #1.sqlite3"\n')
    assert read_env_file(quoted)["BOT_DB_PATH"] == "data/a #1.sqlite3"


def test_a_pasted_token_on_a_malformed_line_is_not_repeated(tmp_path: Path) -> None:
    path = write_env(tmp_path, f"{TOKEN}\n")
    with pytest.raises(SettingsError) as caught:
        read_env_file(path)
    for shown in (str(caught.value), told(caught.value), told(caught.value, "vi")):
        assert TOKEN not in shown
    assert told(caught.value).startswith(f"{path}, line 1:")


def test_trailing_slash_on_the_server_url_is_ignored() -> None:
    settings = settings_from(
        TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL="http://127.0.0.1:8081/bot/"
    )
    assert settings.api_base_url == "http://127.0.0.1:8081/bot"
    assert settings.file_base_url == "http://127.0.0.1:8081/file/bot"


def test_env_file_saved_with_a_byte_order_mark_reads(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes(b"\xef\xbb\xbf" + f"TELEGRAM_BOT_TOKEN={TOKEN}\n".encode())
    assert load_settings({}, path).token == TOKEN


def test_an_empty_environment_variable_does_not_blank_the_env_file(tmp_path: Path) -> None:
    path = write_env(tmp_path, f"TELEGRAM_BOT_TOKEN={TOKEN}\nBOT_LANGUAGE=en\n")
    assert load_settings({"BOT_LANGUAGE": ""}, path).language == "en"


def test_digest_schedules_default_and_an_empty_value_turns_one_off() -> None:
    defaults = load_settings({}, None, require_token=False)
    assert [s.period for s in defaults.digests] == [Period.DAILY, Period.WEEKLY, Period.MONTHLY]
    off = load_settings({"BOT_DIGEST_WEEKLY": "", "BOT_DIGEST_MONTHLY": "off"}, None,
                        require_token=False)  # fmt: skip
    assert [s.period for s in off.digests] == [Period.DAILY]
    custom = load_settings({"BOT_DIGEST_WEEKLY": "fri 17:00"}, None, require_token=False)
    weekly = next(s for s in custom.digests if s.period is Period.WEEKLY)
    assert (weekly.weekday, weekly.due.hour) == (4, 17)


def test_an_empty_digest_setting_in_the_env_file_turns_it_off(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("BOT_DIGEST_DAILY=\n", encoding="utf-8")
    settings = load_settings({}, env_file, require_token=False)
    assert "daily" not in [s.period.value for s in settings.digests]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BOT_DIGEST_DAILY", "7h"),
        ("BOT_DIGEST_WEEKLY", "07:30"),
        ("BOT_DIGEST_MONTHLY", "31 08:00"),
        ("BOT_HOTSPOT_COUNT", "1"),
        ("BOT_HOTSPOT_METRES", "ba trăm"),
        ("BOT_SILENT_DAYS", "-3"),
    ],
)
def test_a_bad_digest_setting_names_itself(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value}, None, require_token=False)


def test_hot_spot_and_silence_thresholds_are_settings() -> None:
    settings = load_settings(
        {"BOT_HOTSPOT_COUNT": "4", "BOT_HOTSPOT_DAYS": "10", "BOT_HOTSPOT_METRES": "500",
         "BOT_SILENT_DAYS": "14"}, None, require_token=False,
    )  # fmt: skip
    thresholds = settings.thresholds
    assert (thresholds.hot_spot_count, thresholds.hot_spot_days) == (4, 10)
    assert (thresholds.hot_spot_metres, thresholds.silent_days) == (500.0, 14)
