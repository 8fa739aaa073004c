"""The admin's command line: run the bot, import units, make invites, export reports."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from collections.abc import Mapping, Sequence
from contextlib import aclosing
from datetime import date
from pathlib import Path
from typing import TextIO

from telegram import Bot
from telegram.error import InvalidToken, NetworkError
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
from domain.settings import Settings, SettingsError, load_settings
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bot.py", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="run the bot with long polling (the default)")

    units = commands.add_parser("units", help="manage the unit tree")
    units_commands = units.add_subparsers(dest="units_command", required=True)
    units_import = units_commands.add_parser("import", help="load units from a CSV file")
    units_import.add_argument("file", type=Path, help="CSV with header code,name,parent_code")
    units_list = units_commands.add_parser("list", help="print the unit tree with codes")
    units_list.add_argument("--under", metavar="CODE", help="only this unit and those below it")

    members = commands.add_parser("members", help="list or deactivate members")
    members_commands = members.add_subparsers(dest="members_command", required=True)
    members_list = members_commands.add_parser("list", help="print the members")
    members_list.add_argument("--unit", metavar="CODE", help="only this unit and those below it")
    deactivate = members_commands.add_parser("deactivate", help="stop a member using the bot")
    deactivate.add_argument("id", help="the member's number, as members list shows it")

    invites = commands.add_parser("invites", help="list or revoke unused invites")
    invites_commands = invites.add_subparsers(dest="invites_command", required=True)
    invites_commands.add_parser("list", help="print unused, unexpired invites")
    revoke = invites_commands.add_parser("revoke", help="make one unused invite unusable")
    revoke.add_argument(
        "handle", metavar="CODE-PREFIX", help="the invite's handle, as list shows it"
    )

    invite = commands.add_parser("invite", help="print a single-use invite link")
    invite.add_argument("--unit", required=True, help="code of the unit the invitee joins")
    invite.add_argument("--role", required=True, choices=[role.value for role in Role])
    invite.add_argument("--expires-in", default="7d", help="e.g. 30m, 12h, 7d, 2w (default 7d)")

    export = commands.add_parser("export", help="write submitted reports to a CSV file")
    export.add_argument("--out", required=True, type=Path)
    export.add_argument("--from", dest="first_day", metavar="DD/MM/YYYY", help="or YYYY-MM-DD")
    export.add_argument("--to", dest="last_day", metavar="DD/MM/YYYY", help="or YYYY-MM-DD")

    deadlines = commands.add_parser("deadlines", help="set when reports are due")
    deadline_commands = deadlines.add_subparsers(dest="deadlines_command", required=True)
    add = deadline_commands.add_parser("add", help="add a rule; prints its number")
    add.add_argument("--unit", required=True, help="the rule covers this unit and all below it")
    add.add_argument("--kind", required=True, help="any, incident or activity")
    add.add_argument("--period", required=True, help="daily, weekly or monthly")
    add.add_argument("--due", required=True, help="local time HH:MM")
    add.add_argument("--weekday", help="weekly: mon..sun")
    add.add_argument("--day", help="monthly: 1-28")
    add.add_argument("--count", default="1", help="reports that meet it (default 1)")
    add.add_argument("--remind", default="", help="before the due time, e.g. 24h,2h,30m")
    deadline_commands.add_parser("list", help="the rules in force")
    remove = deadline_commands.add_parser("remove", help="take a rule out of force")
    remove.add_argument("number", help="the rule's number, as list shows it")

    holidays = commands.add_parser("holidays", help="the public holidays deadlines skip")
    holidays_commands = holidays.add_subparsers(dest="holidays_command", required=True)
    holidays_import = holidays_commands.add_parser(
        "import", help="replace the holidays of the years a CSV file covers"
    )
    holidays_import.add_argument("file", type=Path, help="CSV with header date,name")
    holidays_list = holidays_commands.add_parser("list", help="print the holidays")
    holidays_list.add_argument("--year", type=int, metavar="YYYY")

    audit = commands.add_parser("audit", help="print a report's history, one event a line")
    audit.add_argument("--report", required=True, help="the report's number")
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
    """Parse the command line and run one command; returns the exit status."""
    # Everything the bot and its commands create (the database folder, the database and
    # its -wal and -shm, CSV exports) holds members' names, Telegram ids, report texts
    # and positions: readable by its owner only, whatever umask the shell or the
    # service manager gave. Restored on return for callers in the same process (tests).
    previous_umask = os.umask(0o077)
    try:
        args = _parser().parse_args(argv)
        # The one clock, for every timestamp a command writes (tests hand in their own).
        args.clock = clock or SystemClock()
        command = args.command or "run"
        try:
            settings = load_settings(environ, env_file, require_token=command in ("run", "invite"))
        except SettingsError as error:
            print(f"error: {error}", file=err)
            return 2
        translator = Translator.load(settings.language)
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
    finally:
        os.umask(previous_umask)


def _unusable_message(error: DatabaseUnusable, settings: Settings, t: Translator) -> str:
    """Why the database cannot be used and what to do, in the deployment's language."""
    key = UNUSABLE_MESSAGES[error.reason]
    return t.plain(settings.language, key, path=error.path, error=error.detail)


async def _check_database(settings: Settings) -> None:
    """Open the database once and close it: raises ``DatabaseUnusable`` if it cannot be used."""
    db = Database(settings.db_path)
    await db.open()
    await db.close()


def run_bot(settings: Settings, err: TextIO | None = None) -> int:
    """Poll Telegram until stopped; refuse at once a database that cannot be used."""
    from bot.app import build_application, configure_logging
    from handlers.inbox import ALLOWED_UPDATES

    err = err or sys.stderr
    configure_logging(settings.token)
    # The Application opens the database only once polling has begun, where a refusal
    # would end in a traceback among python-telegram-bot's logs: check it first.
    try:
        asyncio.run(_check_database(settings))
    except DatabaseUnusable as error:
        print(_unusable_message(error, settings, Translator.load(settings.language)), file=err)
        return 1
    application = build_application(settings)
    try:
        # Only what the bot handles: anything else would only be stored and skipped.
        application.run_polling(allowed_updates=list(ALLOWED_UPDATES))
    except InvalidToken:
        # Its message carries the token itself: say what to do instead.
        translator = Translator.load(settings.language)
        print(translator.plain(settings.language, "cli.token_refused"), file=sys.stderr)
        return 1
    return 0


def _database_exists(settings: Settings, t: Translator, err: TextIO) -> bool:
    """Commands that read the deployment refuse a wrong path instead of making a new file."""
    if settings.db_path.exists():
        return True
    print(t.plain(settings.language, "cli.no_database", path=settings.db_path), file=err)
    return False


async def _open(settings: Settings, clock: Clock) -> Database:
    db = Database(settings.db_path, clock)
    await db.open()
    await seed_catalogues(db, default_catalogues())
    await seed_holidays(db, default_holidays())
    return db


async def _existing_units(settings: Settings, clock: Clock) -> list[Unit]:
    db = await _open(settings, clock)
    try:
        return await all_units(db)
    finally:
        await db.close()


def _cannot_read(t: Translator, lang: str, path: Path, error: OSError) -> str:
    """Why a file cannot be read, in the deployment's language, not the system's."""
    if isinstance(error, FileNotFoundError):
        why = t.plain(lang, "cli.file.missing")
    elif isinstance(error, IsADirectoryError):
        why = t.plain(lang, "cli.file.directory")
    elif isinstance(error, PermissionError):
        why = t.plain(lang, "cli.file.denied")
    else:
        why = t.plain(lang, "cli.file.other", number=error.errno or 0)
    return t.plain(lang, "cli.cannot_read", path=path, error=why)


_DAY_FIRST = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MEMBER_ID = re.compile(r"[1-9][0-9]{0,17}")


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
            print(
                t.plain(lang, "cli.telegram_unreachable", url=settings.api_base_url, error=error),
                file=err,
            )
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
            if not args.number.isascii() or not args.number.isdigit():
                print(t.plain(lang, "cli.deadline.bad_number", value=args.number), file=err)
                return 2
            if not await remove_rule(db, int(args.number)):
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
