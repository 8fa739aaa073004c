"""The admin's command line: run the bot, import units, make invites, export reports."""

from __future__ import annotations

import argparse
import ast
import asyncio
import errno
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import aclosing
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, NoReturn, TextIO

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TimedOut
from telegram.request import BaseRequest

from domain.catalogue import default_catalogues
from domain.clock import Clock, SystemClock
from domain.deadlines import (
    Period,
    ReportKind,
    Rule,
    format_offset,
    parse_due,
    parse_remind,
    parse_weekday,
)
from domain.forms import FORMS
from domain.holidays_csv import (
    FIRST_YEAR,
    LAST_YEAR,
    default_holidays,
    parse_holidays_csv,
    shown_day,
)
from domain.invites import hash_invite_code, invite_link, new_invite_code, parse_expiry
from domain.models import Role, Unit
from domain.settings import (
    DEFAULT_LANGUAGE,
    SUPPORTED_LANGUAGES,
    Settings,
    SettingsError,
    env_file_value,
    language_setting,
    load_settings,
)
from domain.units_csv import parse_units_csv
from presentation.export import write_reports_csv
from presentation.i18n import Translator
from presentation.render import local_time
from storage.admin_cli import (
    import_units_counted,
    member_lines,
    open_invites,
    revoke_invite,
)
from storage.audit import create_invite_recorded, deactivate_member
from storage.catalogue import all_catalogues, seed_catalogues
from storage.db import Database, DatabaseUnusable, Unusable
from storage.deadlines import active_rules, add_rule, remove_rule
from storage.export import iterate_export_rows
from storage.holidays import all_holidays, holidays_between, replace_holidays, seed_holidays
from storage.members import member_by_id
from storage.review import report_view
from storage.units import all_units, get_unit

MAX_PROBLEMS_SHOWN = 50
# What to tell the administrator when the database cannot be used, by reason.
UNUSABLE_MESSAGES = {
    Unusable.READ_ONLY: "cli.db_read_only",
    Unusable.CORRUPT: "cli.db_corrupt",
    Unusable.NOT_A_DATABASE: "cli.db_not_a_database",
}


# The command as the administrator types it, in usage lines and hints.
PROG = "python bot.py"
# A message id and its values to text in the deployment's language.
Say = Callable[..., str]


class ShowHelp(Exception):
    """``--help`` was given: the text to print on stdout, then stop with status 0."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class UsageError(Exception):
    """argparse refused the command line: what it said, and the parser that said it."""

    def __init__(self, parser: CliParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message


class _Help(argparse.Action):
    """-h/--help: raise the help text instead of printing it and exiting the process."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        raise ShowHelp(parser.format_help())


class _Formatter(argparse.HelpFormatter):
    """argparse's layout, with the usage line introduced in the deployment's language."""

    def __init__(self, prog: str, usage_prefix: str) -> None:
        super().__init__(prog)
        self._usage_prefix = usage_prefix

    def add_usage(
        self,
        usage: str | None,
        actions: Iterable[argparse.Action],
        groups: Iterable[Any],
        prefix: str | None = None,
    ) -> None:
        # An explicit prefix ("" for the prog of a subcommand) is argparse's own business.
        super().add_usage(usage, actions, groups, self._usage_prefix if prefix is None else prefix)


class CliParser(argparse.ArgumentParser):
    """argparse speaking the deployment's language, and never ending the process itself.

    Help texts and metavars are handed in translated; argparse's own words (the usage
    prefix, the section titles, -h's help) come from ``say``, which turns a message id
    into text. --help and usage errors raise ``ShowHelp`` and ``UsageError`` instead of
    writing to sys.stdout/stderr and exiting: main() writes them to its own streams, a
    usage error translated (argparse's messages are English whatever the language).
    """

    def __init__(self, *args: Any, say: Say, **kwargs: Any) -> None:
        kwargs["add_help"] = False  # -h is added below, with a translated help
        super().__init__(*args, **kwargs)
        self.say = say
        self.subcommands: argparse._SubParsersAction[CliParser] | None = None
        self._positionals.title = say("cli.args.positionals")
        self._optionals.title = say("cli.args.options")
        self._required: argparse._ArgumentGroup | None = None
        self.add_argument("-h", "--help", action=_Help, help=say("cli.args.help"))

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        """An option given ``required=True`` is listed under its own heading ("Bắt
        buộc"), before the options that may be left out."""
        if kwargs.get("required") and args and str(args[0]).startswith("-"):
            if self._required is None:
                self._required = self.add_argument_group(self.say("cli.args.required"))
                # argparse lists groups in the order they were made: after the arguments.
                self._action_groups.remove(self._required)
                self._action_groups.insert(1, self._required)
            return self._required.add_argument(*args, **kwargs)
        return super().add_argument(*args, **kwargs)

    def add_commands(self, dest: str, *, required: bool = True) -> None:
        """Subcommands, chosen by the word after this parser's own."""
        self.subcommands = self.add_subparsers(
            dest=dest, required=required, metavar=self.say("cli.args.command")
        )

    def add_command(self, name: str, help_key: str) -> CliParser:
        """One subcommand, its help (in the list and atop its own --help) from the catalogue."""
        if self.subcommands is None:
            raise TypeError("add_commands() comes first")
        text = self.say(help_key)
        # Atop its own --help, the same words start a sentence.
        description = text[:1].upper() + text[1:]
        return self.subcommands.add_parser(name, help=text, description=description, say=self.say)

    def _get_formatter(self) -> argparse.HelpFormatter:
        return _Formatter(self.prog, f"{self.say('cli.args.usage')} ")

    def error(self, message: str) -> NoReturn:
        raise UsageError(self, message)

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        """argparse's parse_args, but words left over are refused by the subcommand that
        was given them, so its usage and its --help are shown, not the program's."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            self.innermost(parsed).error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed

    def innermost(self, parsed: argparse.Namespace) -> CliParser:
        """The parser of the deepest subcommand the command line chose."""
        parser = self
        while parser.subcommands is not None:
            chosen = getattr(parsed, parser.subcommands.dest, None)
            child = parser.subcommands.choices.get(chosen) if isinstance(chosen, str) else None
            if child is None:
                break
            parser = child
        return parser


def _parser(say: Say) -> CliParser:
    """The admin's command line; ``say`` gives each help text in the deployment's language."""
    parser = CliParser(prog=PROG, description=say("cli.help.description"), say=say)
    parser.add_commands("command", required=False)
    parser.add_command("run", "cli.help.run")
    code, number, file = say("cli.args.code"), say("cli.args.number"), say("cli.args.file")

    units = parser.add_command("units", "cli.help.units")
    units.add_commands("units_command")
    units_import = units.add_command("import", "cli.help.units.import")
    units_import.add_argument(
        "file", type=Path, metavar=file, help=say("cli.help.units.import.file")
    )
    units_list = units.add_command("list", "cli.help.units.list")
    units_list.add_argument("--under", metavar=code, help=say("cli.help.below"))

    members = parser.add_command("members", "cli.help.members")
    members.add_commands("members_command")
    members_list = members.add_command("list", "cli.help.members.list")
    members_list.add_argument("--unit", metavar=code, help=say("cli.help.below"))
    deactivate = members.add_command("deactivate", "cli.help.members.deactivate")
    deactivate.add_argument("id", metavar=number, help=say("cli.help.members.deactivate.id"))

    invites = parser.add_command("invites", "cli.help.invites")
    invites.add_commands("invites_command")
    invites.add_command("list", "cli.help.invites.list")
    revoke = invites.add_command("revoke", "cli.help.invites.revoke")
    revoke.add_argument(
        "handle", metavar=say("cli.args.handle"), help=say("cli.help.invites.revoke.handle")
    )

    invite = parser.add_command("invite", "cli.help.invite")
    invite.add_argument("--unit", required=True, metavar=code, help=say("cli.help.invite.unit"))
    invite.add_argument(
        "--role",
        required=True,
        choices=[role.value for role in Role],
        help=say(
            "cli.help.invite.role",
            roles=", ".join(f"{role.value} ({say(f'role.{role.value}')})" for role in Role),
        ),
    )
    invite.add_argument(
        "--expires-in",
        default="7d",
        metavar=say("cli.args.duration"),
        help=say("cli.help.invite.expires_in"),
    )

    export = parser.add_command("export", "cli.help.export")
    export.add_argument(
        "--out", required=True, type=Path, metavar=file, help=say("cli.help.export.out")
    )
    day = say("cli.args.date")
    export.add_argument("--from", dest="first_day", metavar=day, help=say("cli.help.export.from"))
    export.add_argument("--to", dest="last_day", metavar=day, help=say("cli.help.export.to"))

    deadlines = parser.add_command("deadlines", "cli.help.deadlines")
    deadlines.add_commands("deadlines_command")
    add = deadlines.add_command("add", "cli.help.deadlines.add")
    add.add_argument("--unit", required=True, metavar=code, help=say("cli.help.deadlines.add.unit"))
    for option, metavar, help_key in (
        ("--kind", "cli.args.kind", "cli.help.deadlines.add.kind"),
        ("--period", "cli.args.period", "cli.help.deadlines.add.period"),
        ("--due", "cli.args.time", "cli.help.deadlines.add.due"),
    ):
        add.add_argument(option, required=True, metavar=say(metavar), help=say(help_key))
    for option, metavar, help_key in (
        ("--weekday", "cli.args.weekday", "cli.help.deadlines.add.weekday"),
        ("--day", "cli.args.day", "cli.help.deadlines.add.day"),
    ):
        add.add_argument(option, metavar=say(metavar), help=say(help_key))
    add.add_argument(
        "--count", default="1", metavar=number, help=say("cli.help.deadlines.add.count")
    )
    add.add_argument(
        "--remind",
        default="",
        metavar=say("cli.args.remind"),
        help=say("cli.help.deadlines.add.remind"),
    )
    deadlines.add_command("list", "cli.help.deadlines.list")
    remove = deadlines.add_command("remove", "cli.help.deadlines.remove")
    remove.add_argument("number", metavar=number, help=say("cli.help.deadlines.remove.number"))

    holidays = parser.add_command("holidays", "cli.help.holidays")
    holidays.add_commands("holidays_command")
    holidays_import = holidays.add_command("import", "cli.help.holidays.import")
    holidays_import.add_argument(
        "file", type=Path, metavar=file, help=say("cli.help.holidays.import.file")
    )
    holidays_list = holidays.add_command("list", "cli.help.holidays.list")
    holidays_list.add_argument(
        "--year", type=int, metavar=say("cli.args.year"), help=say("cli.help.holidays.list.year")
    )

    audit = parser.add_command("audit", "cli.help.audit")
    audit.add_argument("--report", required=True, metavar=number, help=say("cli.help.audit.report"))
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    env_file: Path | None = Path(".env"),
    request: BaseRequest | None = None,
    clock: Clock | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Parse the command line and run one command; returns the exit status.

    Every word reaches the administrator in the deployment's language: argparse's
    usage errors and help, a bad setting, a file or a database that cannot be used.
    """
    # Everything the bot and its commands create (the database folder, the database and
    # its -wal and -shm, CSV exports) holds members' names, Telegram ids, report texts
    # and positions: readable by its owner only, whatever umask the shell or the
    # service manager gave. Restored on return for callers in the same process (tests).
    previous_umask = os.umask(0o077)
    try:
        lang = _language(environ, env_file)
        translator = Translator.load(lang)
        try:
            args = _parser(partial(translator.plain, lang)).parse_args(argv)
        except ShowHelp as shown:
            print(shown.text, end="", file=out)
            return 0
        except UsageError as error:
            print(_usage_message(error, translator, lang), file=err)
            return 2
        # The one clock, for every timestamp a command writes (tests hand in their own).
        args.clock = clock or SystemClock()
        command = args.command or "run"
        try:
            settings = load_settings(environ, env_file, require_token=command in ("run", "invite"))
        except SettingsError as error:
            print(translator.plain(lang, error.key, **error.values), file=err)
            return 2
        except OSError as error:  # only the .env file is read
            print(_cannot_read(translator, lang, env_file or Path(".env"), error), file=err)
            return 2
        if command == "run":
            return run_bot(settings, err)
        runner = {
            "units": manage_units,
            "members": manage_members,
            "invites": manage_invites,
            "invite": make_invite,
            "export": export_reports,
            "deadlines": manage_deadlines,
            "holidays": manage_holidays,
            "audit": audit_report,
        }[command]
        try:
            return asyncio.run(runner(args, settings, translator, request, out, err))
        except DatabaseUnusable as error:
            print(_unusable_message(error, settings, translator), file=err)
            return 1
        except DatabaseUncreatable as error:
            print(_uncreatable_message(error, settings, translator), file=err)
            return 1
    finally:
        os.umask(previous_umask)


def _language(environ: Mapping[str, str] | None, env_file: Path | None) -> str:
    """The language to speak before the settings are checked, and to say what is wrong
    with them: BOT_LANGUAGE read as load_settings reads it (the environment first, unless
    empty, then the .env file), the default if it cannot be read or is not supported."""
    environment = os.environ if environ is None else environ
    chosen = environment.get("BOT_LANGUAGE", "").strip()
    if not chosen and env_file is not None:
        # Line by line, past a bad line: load_settings then says what is wrong with the
        # file, in the language the file names.
        chosen = env_file_value(env_file, "BOT_LANGUAGE")
    chosen = language_setting(chosen)
    return chosen if chosen in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE


# --- argparse's messages (Lib/argparse.py), read back to be said in the deployment's
# language. argparse builds them in English from these templates and hands error() only
# the finished sentence; one it does not know becomes a plain "not the way it is used".
_ARGUMENT = re.compile(r"argument (?P<argument>.+?): (?P<detail>.+)", re.DOTALL)
_INVALID_CHOICE = re.compile(r"invalid choice: (?P<value>.+) \(choose from (?P<choices>.*)\)")
_INVALID_VALUE = re.compile(r"invalid (?P<type>\S+) value: (?P<value>.+)")
_EXPLICIT = re.compile(r"ignored explicit argument (?P<value>.+)")
_REQUIRED = re.compile(r"the following arguments are required: (?P<names>.+)")
_UNRECOGNIZED = re.compile(r"unrecognized arguments: (?P<words>.+)")
_AMBIGUOUS = re.compile(r"ambiguous option: (?P<option>\S+) could match (?P<matches>.+)")


def _unquote(text: str) -> str:
    """What the administrator typed, from argparse's repr() of it."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text
    return value if isinstance(value, str) else text


def _listed(text: str) -> str:
    """argparse's "'a', 'b'" as "a, b"."""
    return ", ".join(_unquote(part) for part in text.split(", "))


def _usage_problem(error: UsageError, t: Translator, lang: str) -> str:
    """What argparse found wrong, as a sentence in the deployment's language."""
    message = error.message.strip()
    commands = error.parser.subcommands
    command_word = None if commands is None else commands.metavar
    names = "" if commands is None else ", ".join(commands.choices)
    if match := _ARGUMENT.fullmatch(message):
        argument, detail = match["argument"], match["detail"]
        if found := _INVALID_CHOICE.fullmatch(detail):
            value = _unquote(found["value"])
            if argument == command_word:
                return t.plain(lang, "cli.usage.unknown_command", value=value, choices=names)
            choices = _listed(found["choices"])
            return t.plain(
                lang, "cli.usage.bad_choice", argument=argument, value=value, choices=choices
            )
        if detail == "expected one argument":
            return t.plain(lang, "cli.usage.needs_value", argument=argument)
        if found := _INVALID_VALUE.fullmatch(detail):
            key = "cli.usage.not_a_number" if found["type"] == "int" else "cli.usage.bad_value"
            return t.plain(lang, key, argument=argument, value=_unquote(found["value"]))
        if found := _EXPLICIT.fullmatch(detail):
            return t.plain(
                lang, "cli.usage.no_value", argument=argument, value=_unquote(found["value"])
            )
    elif match := _REQUIRED.fullmatch(message):
        if match["names"] == command_word:
            return t.plain(lang, "cli.usage.missing_command", choices=names)
        return t.plain(lang, "cli.usage.missing", names=match["names"])
    elif match := _UNRECOGNIZED.fullmatch(message):
        return t.plain(lang, "cli.usage.unrecognized", words=match["words"])
    elif match := _AMBIGUOUS.fullmatch(message):
        return t.plain(
            lang, "cli.usage.ambiguous", option=match["option"], matches=match["matches"]
        )
    return t.plain(lang, "cli.usage.other")


def _usage_message(error: UsageError, t: Translator, lang: str) -> str:
    """The problem, how the command is used, and where to read more."""
    return "\n".join(
        (
            _usage_problem(error, t, lang),
            error.parser.format_usage().rstrip(),
            t.plain(lang, "cli.usage.help_hint", prog=error.parser.prog),
        )
    )


class DatabaseUncreatable(Exception):
    """The database's file or folder cannot be made where BOT_DB_PATH points."""

    def __init__(self, path: Path, error: OSError) -> None:
        super().__init__(path, error)
        self.path = path
        self.error = error


def _unusable_message(error: DatabaseUnusable, settings: Settings, t: Translator) -> str:
    """Why the database cannot be used and what to do, in the deployment's language."""
    lang = settings.language
    key = UNUSABLE_MESSAGES[error.reason]
    cause = error.__cause__
    if isinstance(cause, OSError):
        why = _system_reason(t, lang, cause, writing=True)
    elif error.reason is Unusable.NOT_A_DATABASE:
        why = t.plain(lang, "cli.file.directory" if error.path.is_dir() else "cli.db.other_file")
    elif error.reason is Unusable.READ_ONLY:
        why = t.plain(lang, "cli.file.write_denied")
    else:
        # What SQLite found damaged: for whoever repairs the file, in SQLite's words.
        why = t.plain(lang, "cli.db.sqlite_says", detail=error.detail)
    return t.plain(lang, key, path=error.path, error=why)


def _uncreatable_message(error: DatabaseUncreatable, settings: Settings, t: Translator) -> str:
    lang = settings.language
    why = _system_reason(t, lang, error.error, writing=True)
    return t.plain(lang, "cli.db_cannot_create", path=error.path, error=why)


async def _open_database(path: Path, clock: Clock | None = None) -> Database:
    """Open (and create if need be) the database: raises ``DatabaseUnusable`` or
    ``DatabaseUncreatable``, never a bare OSError, when it cannot be used."""
    db = Database(path, clock)
    try:
        await db.open()
    except OSError as error:
        raise DatabaseUncreatable(path, error) from error
    return db


async def _check_database(settings: Settings) -> None:
    """Open the database once and close it: raises if it cannot be used."""
    db = await _open_database(settings.db_path)
    await db.close()


async def _check_telegram(settings: Settings) -> None:
    """Ask Telegram who the bot is: raises ``InvalidToken`` or ``NetworkError``."""
    bot = Bot(settings.token, base_url=settings.api_base_url, base_file_url=settings.file_base_url)
    async with bot:
        pass


def run_bot(settings: Settings, err: TextIO | None = None) -> int:
    """Poll Telegram until stopped; refuse at once a database that cannot be used."""
    from bot.app import build_application, configure_logging
    from handlers.inbox import ALLOWED_UPDATES

    err = err or sys.stderr
    lang = settings.language
    translator = Translator.load(lang)
    configure_logging(settings.token)
    # The Application opens the database only once polling has begun, where a refusal
    # would end in a traceback among python-telegram-bot's logs: check it first.
    try:
        asyncio.run(_check_database(settings))
    except DatabaseUnusable as error:
        print(_unusable_message(error, settings, translator), file=err)
        return 1
    except DatabaseUncreatable as error:
        print(_uncreatable_message(error, settings, translator), file=err)
        return 1
    try:
        # python-telegram-bot would log a refusal here as a traceback: ask first.
        asyncio.run(_check_telegram(settings))
        application = build_application(settings)
        # Only what the bot handles: anything else would only be stored and skipped.
        application.run_polling(allowed_updates=list(ALLOWED_UPDATES))
    except InvalidToken:
        # Its message carries the token itself: say what to do instead.
        print(translator.plain(lang, "cli.token_refused"), file=err)
        return 1
    except NetworkError as error:
        # Only at start-up: once polling, python-telegram-bot retries by itself.
        print(_unreachable(translator, lang, settings, error), file=err)
        return 1
    return 0


def _unreachable(t: Translator, lang: str, settings: Settings, error: NetworkError) -> str:
    """Telegram could not be reached: what to check, not what httpx said."""
    why = t.plain(lang, "cli.net.timeout" if isinstance(error, TimedOut) else "cli.net.failed")
    return t.plain(lang, "cli.telegram_unreachable", url=settings.api_base_url, error=why)


def _database_exists(settings: Settings, t: Translator, err: TextIO) -> bool:
    """Commands that read the deployment refuse a wrong path instead of making a new file."""
    if settings.db_path.exists():
        return True
    print(t.plain(settings.language, "cli.no_database", path=settings.db_path), file=err)
    return False


async def _open(settings: Settings, clock: Clock) -> Database:
    db = await _open_database(settings.db_path, clock)
    await seed_catalogues(db, default_catalogues())
    await seed_holidays(db, default_holidays())
    return db


async def _existing_units(settings: Settings, clock: Clock) -> list[Unit]:
    db = await _open(settings, clock)
    try:
        return await all_units(db)
    finally:
        await db.close()


def _system_reason(t: Translator, lang: str, error: OSError, *, writing: bool) -> str:
    """Why the system refused a file, in the deployment's language, not the system's."""
    if isinstance(error, FileNotFoundError):
        return t.plain(lang, "cli.file.missing")
    if isinstance(error, IsADirectoryError):
        return t.plain(lang, "cli.file.directory")
    if isinstance(error, NotADirectoryError | FileExistsError):
        # FileExistsError: a folder on the way could not be made, a file has its name.
        return t.plain(lang, "cli.file.not_a_folder")
    if isinstance(error, PermissionError):
        return t.plain(lang, "cli.file.write_denied" if writing else "cli.file.denied")
    if error.errno == errno.EROFS:
        return t.plain(lang, "cli.file.read_only_disk")
    if error.errno == errno.ENOSPC:
        return t.plain(lang, "cli.file.disk_full")
    key = "cli.file.other_write" if writing else "cli.file.other"
    return t.plain(lang, key, number=error.errno or 0)


def _cannot_read(t: Translator, lang: str, path: Path, error: OSError) -> str:
    """Why a file cannot be read, in the deployment's language, not the system's."""
    why = _system_reason(t, lang, error, writing=False)
    return t.plain(lang, "cli.cannot_read", path=path, error=why)


def _cannot_write(t: Translator, lang: str, path: Path, error: OSError) -> str:
    why = _system_reason(t, lang, error, writing=True)
    return t.plain(lang, "cli.cannot_write", path=path, error=why)


_DAY_FIRST = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MEMBER_ID = re.compile(r"[1-9][0-9]{0,17}")
# What SQLite's integers hold, and no more: a longer number is refused, not an overflow.
_RULE_NUMBER = re.compile(r"[0-9]{1,18}")


def parse_day(text: str) -> date | None:
    """A calendar day typed as dd/mm/yyyy (as Vietnamese write it) or yyyy-mm-dd."""
    text = text.strip()
    try:
        if match := _DAY_FIRST.fullmatch(text):
            day, month, year = (int(part) for part in match.groups())
            return date(year, month, day)
        if _ISO_DAY.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        return None
    return None


def _below(units: Sequence[Unit], code: str) -> list[tuple[Unit, int]]:
    """The unit and everything below it, depth first by code, with each one's depth."""
    children: dict[str | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_code, []).append(unit)
    found: list[tuple[Unit, int]] = []
    stack = [(unit, 0) for unit in units if unit.code == code]
    seen: set[str] = set()
    while stack:
        unit, depth = stack.pop()
        if unit.code in seen:
            continue
        seen.add(unit.code)
        found.append((unit, depth))
        kids = sorted(children.get(unit.code, []), key=lambda u: u.code, reverse=True)
        stack.extend((kid, depth + 1) for kid in kids)
    return found


def _tree(units: Sequence[Unit]) -> list[tuple[Unit, int]]:
    codes = {unit.code for unit in units}
    roots = sorted(
        (u for u in units if u.parent_code is None or u.parent_code not in codes),
        key=lambda u: u.code,
    )
    return [line for root in roots for line in _below(units, root.code)]


async def manage_units(
    args: argparse.Namespace,
    settings: Settings,
    t: Translator,
    request: BaseRequest | None,
    out: TextIO,
    err: TextIO,
) -> int:
    """Import the unit tree from CSV, or print it with codes."""
    if args.units_command == "import":
        return await import_units(args, settings, t, request, out, err)
    lang = settings.language
    if not _database_exists(settings, t, err):
        return 1
    units = await _existing_units(settings, args.clock)
    if not units:
        print(t.plain(lang, "cli.units.none"), file=out)
        return 0
    if args.under is None:
        lines = _tree(units)
    else:
        lines = _below(units, args.under.strip())
        if not lines:
            print(t.plain(lang, "cli.units.unknown", code=args.under), file=err)
            return 1
    for unit, depth in lines:
        print(f"{'  ' * depth}{unit.code}  {unit.name}", file=out)
    return 0


async def manage_members(
    args: argparse.Namespace,
    settings: Settings,
    t: Translator,
    request: BaseRequest | None,
    out: TextIO,
    err: TextIO,
) -> int:
    """List members (of a unit and below), or deactivate one, recorded in the audit log."""
    lang = settings.language
    if args.members_command == "deactivate" and not _MEMBER_ID.fullmatch(args.id.strip()):
        print(t.plain(lang, "cli.members.bad_id", value=args.id), file=err)
        return 2
    if not _database_exists(settings, t, err):
        return 1
    db = await _open(settings, args.clock)
    try:
        if args.members_command == "deactivate":
            return await _deactivate(db, int(args.id.strip()), lang, t, out, err)
        units = await all_units(db)
        codes = None
        if args.unit is not None:
            codes = [unit.code for unit, _ in _below(units, args.unit.strip())]
            if not codes:
                print(t.plain(lang, "cli.units.unknown", code=args.unit), file=err)
                return 1
        members = await member_lines(db, codes)
    finally:
        await db.close()
    if not members:
        print(t.plain(lang, "cli.members.none"), file=out)
        return 0
    names = {unit.code: unit.name for unit in units}
    for member in members:
        last = (
            member.last_report.astimezone(settings.timezone).strftime("%d/%m/%Y")
            if member.last_report
            else t.plain(lang, "cli.members.never")
        )
        line = t.plain(
            lang,
            "cli.members.line",
            id=member.id,
            name=member.name,
            role=t.plain(lang, f"role.{member.role.value}"),
            unit=names.get(member.unit_code, member.unit_code),
            code=member.unit_code,
            state=t.plain(lang, "cli.members.active" if member.active else "cli.members.inactive"),
            last=last,
        )
        print(line, file=out)
    return 0


async def _deactivate(
    db: Database, member_id: int, lang: str, t: Translator, out: TextIO, err: TextIO
) -> int:
    member = await member_by_id(db, member_id)
    if member is None:
        print(t.plain(lang, "cli.members.unknown", id=member_id), file=err)
        return 1
    # Recorded in the audit log with no actor: the server's administrator did it.
    if not await deactivate_member(db, member_id, None):
        print(t.plain(lang, "cli.members.already", id=member_id, name=member.full_name), file=out)
        return 0
    print(t.plain(lang, "cli.members.deactivated", id=member_id, name=member.full_name), file=out)
    return 0


async def manage_invites(
    args: argparse.Namespace,
    settings: Settings,
    t: Translator,
    request: BaseRequest | None,
    out: TextIO,
    err: TextIO,
) -> int:
    """List unused, unexpired invites by a handle (the start of the code's stored hash:
    the code itself is never stored), or revoke one by that handle."""
    lang = settings.language
    if not _database_exists(settings, t, err):
        return 1
    db = await _open(settings, args.clock)
    try:
        invites = await open_invites(db)
        names = {unit.code: unit.name for unit in await all_units(db)}
        if args.invites_command == "revoke":
            handle = args.handle.strip().lower()
            matching = [i for i in invites if handle and i.handle.startswith(handle)]
            if not matching:
                print(t.plain(lang, "cli.invites.unknown", handle=args.handle), file=err)
                return 1
            if len(matching) > 1:
                print(t.plain(lang, "cli.invites.ambiguous", handle=args.handle), file=err)
                return 1
            [invite] = matching
            if not await revoke_invite(db, invite.id):
                print(t.plain(lang, "cli.invites.unknown", handle=args.handle), file=err)
                return 1
            print(t.plain(lang, "cli.invites.revoked", handle=invite.handle), file=out)
            return 0
    finally:
        await db.close()
    if not invites:
        print(t.plain(lang, "cli.invites.none"), file=out)
        return 0
    print(t.plain(lang, "cli.invites.header"), file=out)
    for invite in invites:
        line = t.plain(
            lang,
            "cli.invites.line",
            handle=invite.handle,
            role=t.plain(lang, f"role.{invite.role.value}"),
            unit=names.get(invite.unit_code, invite.unit_code),
            code=invite.unit_code,
            created=local_time(invite.created_at, settings.timezone),
            expires=local_time(invite.expires_at, settings.timezone),
        )
        print(line, file=out)
    return 0


async def import_units(
    args: argparse.Namespace,
    settings: Settings,
    t: Translator,
    request: BaseRequest | None,
    out: TextIO,
    err: TextIO,
) -> int:
    """Load the unit tree from CSV; a file with any problem changes nothing."""
    lang = settings.language
    try:
        raw = args.file.read_bytes()
    except OSError as error:
        print(_cannot_read(t, lang, args.file, error), file=err)
        return 1
    # A new deployment's first import may be refused: leave no database behind then.
    existing = await _existing_units(settings, args.clock) if settings.db_path.exists() else []
    parsed = parse_units_csv(raw, existing)
    if parsed.problems:
        print(t.plain(lang, "units.refused", path=args.file, count=len(parsed.problems)), file=err)
        for problem in parsed.problems[:MAX_PROBLEMS_SHOWN]:
            reason = t.plain(lang, problem.reason, **problem.values)
            print(t.plain(lang, "units.problem", line=problem.line, reason=reason), file=err)
        return 1
    db = await _open(settings, args.clock)
    try:
        changes = await import_units_counted(db, parsed.units)
    finally:
        await db.close()
    if not changes.changed:
        print(t.plain(lang, "units.unchanged", count=len(parsed.units)), file=out)
        return 0
    imported = t.plain(
        lang,
        "units.imported_changes",
        added=changes.added,
        renamed=changes.renamed,
        moved=changes.moved,
    )
    print(imported, file=out)
    return 0


async def make_invite(
    args: argparse.Namespace,
    settings: Settings,
    t: Translator,
    request: BaseRequest | None,
    out: TextIO,
    err: TextIO,
) -> int:
    """Store a new invite's hash and print its link; the code itself is never stored."""
    lang = settings.language
    try:
        lifetime = parse_expiry(args.expires_in)
    except ValueError:
        print(t.plain(lang, "cli.bad_expiry", value=args.expires_in), file=err)
        return 2
    if not _database_exists(settings, t, err):
        return 1
    db = await _open(settings, args.clock)
    try:
        unit = await get_unit(db, args.unit)
        if unit is None:
            print(t.plain(lang, "cli.unknown_unit", code=args.unit), file=err)
            return 1
        bot = Bot(
            settings.token,
            base_url=settings.api_base_url,
            base_file_url=settings.file_base_url,
            request=request,
            get_updates_request=request,
        )
        try:
            async with bot:
                username = bot.username
        except InvalidToken:
            print(t.plain(lang, "cli.token_refused"), file=err)
            return 1
        except NetworkError as error:
            print(_unreachable(t, lang, settings, error), file=err)
            return 1
        code = new_invite_code()
        expires_at = args.clock.now() + lifetime
        # Recorded in the audit log with no actor: the server's administrator made it.
        await create_invite_recorded(
            db, hash_invite_code(code), unit.code, Role(args.role), expires_at, None
        )
    finally:
        await db.close()
    print(
        t.plain(
            lang,
            "cli.invite_created",
            role=t.plain(lang, f"role.{args.role}"),
            unit=unit.name,
            expires=local_time(expires_at, settings.timezone),
        ),
        file=out,
    )
    print(invite_link(username, code), file=out)
    return 0


async def export_reports(
    args: argparse.Namespace,
    settings: Settings,
    t: Translator,
    request: BaseRequest | None,
    out: TextIO,
    err: TextIO,
) -> int:
    """Write the reports of a date range (local days, inclusive) to CSV."""
    lang = settings.language
    for name in ("first_day", "last_day"):
        text = getattr(args, name)
        day = None if text is None else parse_day(text)
        if text is not None and day is None:
            print(t.plain(lang, "cli.bad_date", value=text), file=err)
            return 2
        setattr(args, name, day)
    if args.first_day and args.last_day and args.first_day > args.last_day:
        print(t.plain(lang, "cli.bad_range"), file=err)
        return 2
    if not _database_exists(settings, t, err):
        return 1
    db = await _open(settings, args.clock)
    try:
        catalogues = await all_catalogues(db)
        async with aclosing(iterate_export_rows(db, args.first_day, args.last_day)) as rows:
            count = await write_reports_csv(rows, args.out, t, lang, settings.timezone, catalogues)
    except OSError as error:  # the file or its folder; the database raises its own
        print(_cannot_write(t, lang, args.out, error), file=err)
        return 1
    finally:
        await db.close()
    print(t.plain(lang, "cli.exported", count=count, path=args.out), file=out)
    return 0


async def manage_deadlines(
    args: argparse.Namespace,
    settings: Settings,
    t: Translator,
    request: BaseRequest | None,
    out: TextIO,
    err: TextIO,
) -> int:
    """Add, list or remove deadline rules; a bad argument is named and changes nothing."""
    lang = settings.language
    if args.deadlines_command == "add":
        rule = _deadline_rule(args, t, lang, err)
        if rule is None:
            return 2
    if not _database_exists(settings, t, err):
        return 1
    db = await _open(settings, args.clock)
    try:
        if args.deadlines_command == "add":
            assert rule is not None
            unit = await get_unit(db, rule.unit_code)
            if unit is None:
                print(t.plain(lang, "cli.unknown_unit", code=rule.unit_code), file=err)
                return 1
            number = await add_rule(db, rule)
            shown = _describe_rule(t, lang, rule, unit.name)
            print(t.plain(lang, "cli.deadline.added", number=number, rule=shown), file=out)
            return 0
        if args.deadlines_command == "remove":
            if not _RULE_NUMBER.fullmatch(args.number.strip()):
                print(t.plain(lang, "cli.deadline.bad_number", value=args.number), file=err)
                return 2
            if not await remove_rule(db, int(args.number.strip())):
                print(t.plain(lang, "cli.deadline.unknown", number=args.number), file=err)
                return 1
            print(t.plain(lang, "cli.deadline.removed", number=args.number), file=out)
            return 0
        rules = await active_rules(db)
        names = {unit.code: unit.name for unit in await all_units(db)}
    finally:
        await db.close()
    if not rules:
        print(t.plain(lang, "cli.deadline.none"), file=out)
    for rule in rules:
        shown = _describe_rule(t, lang, rule, names.get(rule.unit_code, rule.unit_code))
        print(t.plain(lang, "cli.deadline.line", number=rule.id, rule=shown), file=out)
    return 0


def _deadline_rule(args: argparse.Namespace, t: Translator, lang: str, err: TextIO) -> Rule | None:
    """The rule the arguments describe, or None after saying which argument is wrong."""

    def refuse(key: str, value: object = "") -> Rule | None:
        print(t.plain(lang, key, value=value), file=err)
        return None

    kind = args.kind.strip().lower()
    period = args.period.strip().lower()
    if kind not in {k.value for k in ReportKind}:
        return refuse("cli.deadline.bad_kind", args.kind)
    if period not in {p.value for p in Period}:
        return refuse("cli.deadline.bad_period", args.period)
    due = parse_due(args.due)
    if due is None:
        return refuse("cli.deadline.bad_due", args.due)
    weekday = month_day = None
    if period == Period.WEEKLY:
        if args.weekday is None:
            return refuse("cli.deadline.weekday_needed")
        weekday = parse_weekday(args.weekday)
        if weekday is None:
            return refuse("cli.deadline.bad_weekday", args.weekday)
    elif args.weekday is not None:
        return refuse("cli.deadline.weekday_unwanted")
    if period == Period.MONTHLY:
        if args.day is None:
            return refuse("cli.deadline.day_needed")
        if not (args.day.isascii() and args.day.isdigit() and 1 <= int(args.day) <= 28):
            return refuse("cli.deadline.bad_day", args.day)
        month_day = int(args.day)
    elif args.day is not None:
        return refuse("cli.deadline.day_unwanted")
    if not (args.count.isascii() and args.count.isdigit() and 1 <= int(args.count) <= 100):
        return refuse("cli.deadline.bad_count", args.count)
    remind = parse_remind(args.remind, Period(period))
    if remind is None:
        return refuse("cli.deadline.bad_remind", args.remind)
    return Rule(
        0, args.unit.strip(), ReportKind(kind), Period(period), due, weekday, month_day,
        int(args.count), remind,
    )  # fmt: skip


def _describe_rule(t: Translator, lang: str, rule: Rule, unit_name: str) -> str:
    due = rule.due.strftime("%H:%M")
    if rule.period is Period.WEEKLY:
        weekday = t.plain(lang, f"weekday.{rule.weekday}")
        when = t.plain(lang, "cli.deadline.weekly", weekday=weekday, due=due)
    elif rule.period is Period.MONTHLY:
        when = t.plain(lang, "cli.deadline.monthly", day=rule.month_day, due=due)
    else:
        when = t.plain(lang, "cli.deadline.daily", due=due)
    remind = ", ".join(format_offset(o) for o in rule.remind) or t.plain(
        lang, "cli.deadline.no_reminder"
    )
    return t.plain(
        lang,
        "cli.deadline.rule",
        unit=unit_name,
        code=rule.unit_code,
        kind=t.plain(lang, f"cli.deadline.kind.{rule.kind.value}"),
        when=when,
        count=rule.needed,
        remind=remind,
    )


async def manage_holidays(
    args: argparse.Namespace,
    settings: Settings,
    t: Translator,
    request: BaseRequest | None,
    out: TextIO,
    err: TextIO,
) -> int:
    """Import public holidays from CSV (replacing the years it covers), or list them."""
    if args.holidays_command == "import":
        return await _import_holidays(args, settings, t, out, err)
    return await _list_holidays(args, settings, t, out, err)


async def _import_holidays(
    args: argparse.Namespace, settings: Settings, t: Translator, out: TextIO, err: TextIO
) -> int:
    lang = settings.language
    try:
        raw = args.file.read_bytes()
    except OSError as error:
        print(_cannot_read(t, lang, args.file, error), file=err)
        return 1
    parsed = parse_holidays_csv(raw)
    if parsed.problems:
        refused = t.plain(lang, "holidays.refused", path=args.file, count=len(parsed.problems))
        print(refused, file=err)
        for problem in parsed.problems[:MAX_PROBLEMS_SHOWN]:
            reason = t.plain(lang, problem.reason, **problem.values)
            print(t.plain(lang, "holidays.problem", line=problem.line, reason=reason), file=err)
        return 1
    db = await _open(settings, args.clock)
    try:
        replaced = await replace_holidays(db, parsed.holidays)
    finally:
        await db.close()
    years = ", ".join(str(year) for year in parsed.years)
    count = len(parsed.holidays)
    if not replaced.changed:
        print(t.plain(lang, "holidays.unchanged", count=count, years=years), file=out)
        return 0
    imported = t.plain(
        lang,
        "holidays.imported",
        count=count,
        years=years,
        added=replaced.added,
        removed=replaced.removed,
        renamed=replaced.renamed,
    )
    print(imported, file=out)
    return 0


async def _list_holidays(
    args: argparse.Namespace, settings: Settings, t: Translator, out: TextIO, err: TextIO
) -> int:
    lang = settings.language
    year: int | None = args.year
    if year is not None and not FIRST_YEAR <= year <= LAST_YEAR:
        print(t.plain(lang, "holidays.bad_year", first=FIRST_YEAR, last=LAST_YEAR), file=err)
        return 2
    if not _database_exists(settings, t, err):
        return 1
    db = await _open(settings, args.clock)
    try:
        if year is None:
            holidays = await all_holidays(db)
        else:
            holidays = await holidays_between(db, date(year, 1, 1), date(year, 12, 31))
    finally:
        await db.close()
    if not holidays:
        key = "holidays.none" if year is None else "holidays.none_in_year"
        print(t.plain(lang, key, year=year), file=out)
        return 0
    by_year: dict[int, list[date]] = {}
    for day in holidays:
        by_year.setdefault(day.year, []).append(day)
    # Capitalised: each starts a column here, not a phrase ("hằng tuần vào thứ Hai").
    weekdays = [t.plain(lang, f"weekday.{number}") for number in range(7)]
    weekdays = [weekday[:1].upper() + weekday[1:] for weekday in weekdays]
    width = max(len(weekday) for weekday in weekdays)
    for shown_year, days in by_year.items():
        print(t.plain(lang, "holidays.year", year=shown_year, count=len(days)), file=out)
        for day in days:
            weekday = weekdays[day.weekday()].ljust(width)
            line = t.plain(
                lang, "holidays.line", day=shown_day(day), weekday=weekday, name=holidays[day]
            )
            print(line, file=out)
    return 0


# Report numbers as the bot shows them: what SQLite's integers hold, and no more.
_REPORT_NUMBER = re.compile(r"[1-9][0-9]{0,17}")


async def audit_report(
    args: argparse.Namespace,
    settings: Settings,
    t: Translator,
    request: BaseRequest | None,
    out: TextIO,
    err: TextIO,
) -> int:
    """Print a report's history: local time, event, who (name and role) and detail."""
    lang = settings.language
    number = args.report.strip()
    if not _REPORT_NUMBER.fullmatch(number):
        print(t.plain(lang, "audit.bad_number", value=args.report), file=err)
        return 2
    if not _database_exists(settings, t, err):
        return 1
    db = await _open(settings, args.clock)
    try:
        view = await report_view(db, int(number))
    finally:
        await db.close()
    if view is None:
        print(t.plain(lang, "audit.unknown", number=number), file=err)
        return 1
    report = view.report
    form = FORMS.get(report.kind)
    title = t.plain(lang, form.title if form else "reports.kind.nothing")
    header = t.plain(
        lang,
        "audit.header",
        number=report.id,
        title=title,
        unit=view.unit_name,
        status=t.plain(lang, f"status.{report.status.value}"),
    )
    print(header, file=out)
    for event in view.history:
        if event.actor_name is None:
            who = t.plain(lang, "review.actor_bot")
        else:
            role = t.plain(lang, f"role.{event.actor_role}") if event.actor_role else ""
            who = t.plain(lang, "review.actor", name=event.actor_name, role=role)
        # One event a line, whatever the reviewer typed.
        lines = (event.detail or "").splitlines()
        detail = " / ".join(part.strip() for part in lines if part.strip())
        line = t.plain(
            lang,
            "audit.line",
            when=event.at.astimezone(settings.timezone).strftime("%Y-%m-%d %H:%M"),
            event=t.plain(lang, f"history.event.{event.event}"),
            who=who,
            detail=t.plain(lang, "audit.detail", text=detail) if detail else "",
        )
        print(line, file=out)
    return 0
