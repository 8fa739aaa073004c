"""Settings read once at start-up from the environment and an optional .env file."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.alerts import DEFAULT_ESCALATE_AFTER, parse_interval
from domain.deadlines import Period
from domain.digest import DigestSchedule, Thresholds, parse_schedule
from domain.privacy import DEFAULT_PRIVACY_LEVEL, MAX_PRIVACY_LEVEL
from domain.review import DEFAULT_EDIT_WINDOW, parse_edit_window

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_FILE_BASE_URL = "https://api.telegram.org/file/bot"
SUPPORTED_LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
# When each digest is sent, as BOT_DIGEST_DAILY, _WEEKLY and _MONTHLY take them.
DIGEST_DEFAULTS = {Period.DAILY: "07:00", Period.WEEKLY: "mon 07:30", Period.MONTHLY: "1 08:00"}
# The message that says what each digest's setting takes.
_DIGEST_REFUSALS = {
    Period.DAILY: "settings.bad_digest_daily",
    Period.WEEKLY: "settings.bad_digest_weekly",
    Period.MONTHLY: "settings.bad_digest_monthly",
}
_OFF = {"off", "none", "no", "false", "0", "tắt"}
_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")


class SettingsError(Exception):
    """A setting is missing or has a bad value.

    ``key`` is the message id (presentation/locales) that tells the administrator what
    to set, in the deployment's language; ``values`` fill its placeholders and always
    name the variable or the file. ``str()`` is for logs and tests, never a token.
    """

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key, values)
        self.key = key
        self.values = values

    def __str__(self) -> str:
        shown = ", ".join(f"{name}={value}" for name, value in self.values.items())
        return f"{self.key}: {shown}"


@dataclass(frozen=True)
class Settings:
    token: str
    api_base_url: str
    file_base_url: str
    db_path: Path
    timezone: ZoneInfo
    language: str
    # Each digest's schedule; a missing one is turned off.
    digests: tuple[DigestSchedule, ...] = field(
        default_factory=lambda: tuple(
            schedule
            for period, text in DIGEST_DEFAULTS.items()
            if (schedule := parse_schedule(period, text)) is not None
        )
    )
    thresholds: Thresholds = field(default_factory=Thresholds)
    # The depth of the unit tree from which names are shown (BOT_PRIVACY_LEVEL,
    # domain/privacy.py): 0 the province, 1 communes and wards, 2 hamlets...
    privacy_level: int = DEFAULT_PRIVACY_LEVEL
    # How long after submitting a member may edit or withdraw their report (BOT_EDIT_WINDOW).
    edit_window: timedelta = DEFAULT_EDIT_WINDOW
    # How long an urgent alert waits to be acknowledged before it goes one level up.
    escalate_after: timedelta = DEFAULT_ESCALATE_AFTER

    def __repr__(self) -> str:
        # The token must never reach a log line, even through a debug print.
        return (
            f"Settings(api_base_url={self.api_base_url!r}, db_path={str(self.db_path)!r}, "
            f"timezone={self.timezone.key!r}, language={self.language!r})"
        )


def _env_line(raw: str) -> tuple[str, str] | None:
    """One line of a .env file: its (key, value), or None for a blank or a comment.

    Raises ValueError for a line that is not KEY=VALUE.
    """
    line = raw.strip()
    if not line or line.startswith("#"):
        return None
    if line.startswith("export "):
        line = line[len("export ") :].lstrip()
    key, sep, value = line.partition("=")
    if not sep or not key.strip():
        raise ValueError("not KEY=VALUE")
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    else:
        value = value.split(" #", 1)[0].rstrip()
    return key.strip(), value


def read_env_file(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines of a .env file; blank lines and # comments are skipped."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    # utf-8-sig: Windows Notepad saves a byte-order mark that would hide the first key.
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise SettingsError("settings.env_not_utf8", path=path) from error
    for number, raw in enumerate(text.splitlines(), start=1):
        try:
            parsed = _env_line(raw)
        except ValueError:
            # The line itself is not repeated: it may be a pasted token.
            raise SettingsError("settings.env_line", path=path, line=number) from None
        if parsed is not None:
            key, value = parsed
            values[key] = value
    return values


def env_file_value(path: Path, name: str) -> str:
    """One variable of a .env file, read past whatever else is wrong with the file.

    For the language to say what is wrong with it in: a line that is not KEY=VALUE, or
    bytes that are not UTF-8 elsewhere in the file, do not hide ``BOT_LANGUAGE=en``.
    "" if the file cannot be read or does not set it; the last line setting it wins, as
    in read_env_file.
    """
    try:
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError:
        return ""
    found = ""
    for raw in text.splitlines():
        try:
            parsed = _env_line(raw)
        except ValueError:
            continue  # load_settings says what is wrong with it
        if parsed is not None and parsed[0] == name:
            found = parsed[1]
    return found


def language_setting(text: str) -> str:
    """BOT_LANGUAGE as written ("EN", " vi ") as the language code it names."""
    return text.strip().lower()


def load_settings(
    environ: Mapping[str, str] | None = None,
    env_file: Path | None = Path(".env"),
    *,
    require_token: bool = True,
) -> Settings:
    """Build Settings from the environment, falling back to the .env file.

    Admin commands that never talk to Telegram (units import, export) pass
    require_token=False.
    """
    values: dict[str, str] = read_env_file(env_file) if env_file is not None else {}
    environment = os.environ if environ is None else environ
    # Where an empty value means "off" (a digest), an empty variable counts too.
    given = {**values, **environment}
    # The environment wins, but an empty variable does not blank out the file's value.
    values.update({k: v for k, v in environment.items() if v})

    def get(name: str, default: str = "") -> str:
        return values.get(name, "").strip() or default

    token = get("TELEGRAM_BOT_TOKEN")
    if not token and require_token:
        raise SettingsError("settings.token_missing", name="TELEGRAM_BOT_TOKEN")
    if token and not _TOKEN_SHAPE.match(token):
        # The value itself is never repeated: it may be a real token with a typo.
        raise SettingsError("settings.token_malformed", name="TELEGRAM_BOT_TOKEN")

    # The token is appended to these, so a trailing slash would break every call.
    api_base_url = get("TELEGRAM_API_BASE_URL", DEFAULT_API_BASE_URL).rstrip("/")
    file_base_url = get("TELEGRAM_FILE_BASE_URL").rstrip("/")
    for name, url in (
        ("TELEGRAM_API_BASE_URL", api_base_url),
        ("TELEGRAM_FILE_BASE_URL", file_base_url),
    ):
        if url and not url.startswith(("http://", "https://")):
            raise SettingsError("settings.bad_url", name=name, value=url)
    if not file_base_url:
        file_base_url = (
            DEFAULT_FILE_BASE_URL
            if api_base_url == DEFAULT_API_BASE_URL
            else _file_url_beside(api_base_url)
        )

    zone_name = get("BOT_TIMEZONE", "Asia/Ho_Chi_Minh")
    try:
        timezone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        # OSError: a tzdata folder name such as "Asia" is not a zone.
        raise SettingsError(
            "settings.bad_timezone", name="BOT_TIMEZONE", value=zone_name
        ) from error

    language_text = get("BOT_LANGUAGE", DEFAULT_LANGUAGE)
    language = language_setting(language_text)  # "EN" is English too
    if language not in SUPPORTED_LANGUAGES:
        raise SettingsError(
            "settings.bad_language",
            name="BOT_LANGUAGE",
            value=language_text,
            accepted=", ".join(SUPPORTED_LANGUAGES),
        )

    digests = []
    for period, default in DIGEST_DEFAULTS.items():
        name = f"BOT_DIGEST_{period.value.upper()}"
        text = given[name].strip() if name in given else default
        if not text or text.lower() in _OFF:
            continue
        schedule = parse_schedule(period, text)
        if schedule is None:
            raise SettingsError(_DIGEST_REFUSALS[period], name=name, value=text)
        digests.append(schedule)

    def whole(name: str, default: int, low: int, high: int) -> int:
        text = get(name, str(default))
        if not text.isdigit() or not low <= int(text) <= high:
            raise SettingsError("settings.bad_number", name=name, value=text, low=low, high=high)
        return int(text)

    thresholds = Thresholds(
        hot_spot_count=whole("BOT_HOTSPOT_COUNT", 3, 2, 1000),
        hot_spot_days=whole("BOT_HOTSPOT_DAYS", 7, 1, 366),
        hot_spot_metres=float(whole("BOT_HOTSPOT_METRES", 300, 1, 100_000)),
        silent_days=whole("BOT_SILENT_DAYS", 7, 1, 366),
    )
    privacy_level = whole("BOT_PRIVACY_LEVEL", DEFAULT_PRIVACY_LEVEL, 0, MAX_PRIVACY_LEVEL)

    window_text = get("BOT_EDIT_WINDOW", "2h")
    edit_window = parse_edit_window(window_text)
    if edit_window is None:
        raise SettingsError("settings.bad_edit_window", name="BOT_EDIT_WINDOW", value=window_text)

    escalate_text = get("BOT_ESCALATE_AFTER", "15m")
    escalate_after = parse_interval(escalate_text)
    if escalate_after is None:
        raise SettingsError(
            "settings.bad_escalate_after", name="BOT_ESCALATE_AFTER", value=escalate_text
        )

    return Settings(
        token=token,
        api_base_url=api_base_url,
        file_base_url=file_base_url,
        db_path=Path(get("BOT_DB_PATH", "data/bot.sqlite3")),
        timezone=timezone,
        language=language,
        digests=tuple(digests),
        thresholds=thresholds,
        privacy_level=privacy_level,
        edit_window=edit_window,
        escalate_after=escalate_after,
    )


def _file_url_beside(api_base_url: str) -> str:
    """Guess the file URL of a self-hosted server the way Telegram lays its own out."""
    if api_base_url.endswith("/bot"):
        return api_base_url[: -len("/bot")] + "/file/bot"
    return api_base_url
