"""Reading public holidays from CSV (date,name), refusing a bad file whole."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

HEADER = ["date", "name"]
MAX_NAME_LENGTH = 200
# A year outside these is a typing slip (0226, 20266), not a holiday anyone plans.
FIRST_YEAR, LAST_YEAR = 2000, 2100
# Echoing a whole unreadable cell back would bury the message.
MAX_VALUE_SHOWN = 24
DEFAULT_FILE = Path(__file__).parent / "catalogue" / "holidays_vn_2026_2027.csv"

_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class HolidayProblem:
    line: int
    reason: str  # message id
    values: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class HolidayFile:
    holidays: dict[date, str]
    problems: list[HolidayProblem]

    @property
    def years(self) -> list[int]:
        """The years the file covers: importing it replaces exactly these."""
        return sorted({day.year for day in self.holidays})


def shown_day(day: date) -> str:
    """A date as Vietnamese write it: dd/mm/yyyy."""
    return day.strftime("%d/%m/%Y")


def _line_of_offset(raw: bytes, offset: int) -> int:
    """The line an offset falls on, counting \\n, \\r\\n and a lone \\r as csv does."""
    before = raw[:offset].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return before.count(b"\n") + 1


def _shown_value(value: str) -> str:
    return value if len(value) <= MAX_VALUE_SHOWN else value[: MAX_VALUE_SHOWN - 1] + "…"


def read_day(text: str) -> date | HolidayProblem:
    """Read YYYY-MM-DD or dd/mm/yyyy; a problem (line 0, to be set) if it is not a day."""
    if match := _ISO.fullmatch(text):
        year_text, month, day = match.group(1), int(match.group(2)), int(match.group(3))
    elif match := _DAY_MONTH_YEAR.fullmatch(text):
        day, month, year_text = int(match.group(1)), int(match.group(2)), match.group(3)
    else:
        return HolidayProblem(0, "holidays.bad_date", {"value": _shown_value(text)})
    year = int(year_text)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        shown = {"year": year_text, "first": FIRST_YEAR, "last": LAST_YEAR}
        return HolidayProblem(0, "holidays.year_out_of_range", shown)
    try:
        return date(year, month, day)
    except ValueError:  # 30/02, 31/04, month 13
        return HolidayProblem(0, "holidays.no_such_day", {"value": text})


def _clean_name(text: str) -> str:
    # Names pasted from a web page carry no-break and other wide spaces, and may come
    # decomposed (tone marks as separate characters): store one form of each.
    spaced = "".join(" " if unicodedata.category(char) == "Zs" else char for char in text)
    return unicodedata.normalize("NFC", spaced.strip())


def parse_holidays_csv(raw: bytes) -> HolidayFile:
    """Check a whole file; its holidays only if it has no problem at all."""
    body = raw.removeprefix(b"\xef\xbb\xbf")  # the byte-order mark Excel writes
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        line = _line_of_offset(body, error.start)
        return HolidayFile({}, [HolidayProblem(line, "holidays.not_utf8")])
    # strict: a quote that is never closed, or text after a closing quote, is an error
    # instead of quietly swallowing the lines below or merging cells.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    bad_header = HolidayProblem(1, "holidays.bad_header", {"expected": ",".join(HEADER)})
    try:
        header = next(reader, None)
    except csv.Error:
        return HolidayFile({}, [bad_header])
    if header is None or [cell.strip().lower() for cell in header] != HEADER:
        return HolidayFile({}, [bad_header])

    problems: list[HolidayProblem] = []
    holidays: dict[date, str] = {}
    lines: dict[date, int] = {}
    while True:
        line = reader.line_num + 1  # where the next row starts, whatever it spans
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error:
            # Nothing below can be trusted to be cut into the right rows: stop here.
            physical = _LINE_BREAKS.split(text)
            started = physical[line - 1] if line <= len(physical) else ""
            reason = "holidays.bad_quotes" if '"' in started else "holidays.unreadable_line"
            problems.append(HolidayProblem(line, reason))
            break
        if not any(cell.strip() for cell in row):
            continue
        if reader.line_num > line:
            problems.append(HolidayProblem(line, "holidays.spans_lines", {"last": reader.line_num}))
            continue
        if len(row) != len(HEADER):
            problems.append(HolidayProblem(line, "holidays.bad_columns", {"count": len(row)}))
            continue
        day_text, name_text = (cell.strip() for cell in row)
        name = _clean_name(name_text)
        if any(not char.isprintable() for char in day_text + name):
            problems.append(HolidayProblem(line, "holidays.control_characters"))
            continue
        if not day_text:
            problems.append(HolidayProblem(line, "holidays.empty_date"))
            continue
        day = read_day(day_text)
        if isinstance(day, HolidayProblem):
            problems.append(HolidayProblem(line, day.reason, day.values))
            continue
        if not name:
            problems.append(HolidayProblem(line, "holidays.empty_name"))
            continue
        if len(name) > MAX_NAME_LENGTH:
            problems.append(
                HolidayProblem(
                    line, "holidays.name_too_long", {"limit": MAX_NAME_LENGTH, "length": len(name)}
                )
            )
            continue
        if day in lines:
            problems.append(
                HolidayProblem(
                    line, "holidays.duplicate", {"day": shown_day(day), "first": lines[day]}
                )
            )
            continue
        lines[day] = line
        holidays[day] = name
    if not holidays and not problems:
        problems.append(HolidayProblem(2, "holidays.no_days"))
    if problems:
        return HolidayFile({}, problems)
    return HolidayFile(dict(sorted(holidays.items())), [])


def default_holidays(path: Path = DEFAULT_FILE) -> dict[date, str]:
    """The public holidays shipped with the bot, which a new deployment starts with."""
    parsed = parse_holidays_csv(path.read_bytes())
    if parsed.problems:
        first = parsed.problems[0]
        raise ValueError(f"{path}: line {first.line}: {first.reason} {dict(first.values)}")
    return parsed.holidays
