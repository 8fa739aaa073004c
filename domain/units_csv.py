"""Reading a unit tree from CSV (code,name,parent_code), refusing a bad file whole."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from domain.models import Unit

HEADER = ["code", "name", "parent_code"]
MAX_CODE_LENGTH = 64
MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class UnitProblem:
    line: int
    reason: str  # message id
    values: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class UnitFile:
    units: list[Unit]
    problems: list[UnitProblem]


def _line_of_offset(raw: bytes, offset: int) -> int:
    """The line an offset falls on, counting \\n, \\r\\n and a lone \\r as csv does."""
    before = raw[:offset].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return before.count(b"\n") + 1


def parse_units_csv(raw: bytes, existing: Iterable[Unit]) -> UnitFile:
    """Check a whole file against itself and the units already known."""
    body = raw.removeprefix(b"\xef\xbb\xbf")  # the byte-order mark Excel writes
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        return UnitFile([], [UnitProblem(_line_of_offset(body, error.start), "units.not_utf8")])
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header] != HEADER:
        return UnitFile([], [UnitProblem(1, "units.bad_header", {"expected": ",".join(HEADER)})])

    problems: list[UnitProblem] = []
    units: list[Unit] = []
    lines: dict[str, int] = {}
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error:
            # A stray quote swallows the rest of the file into one field.
            return UnitFile([], [UnitProblem(reader.line_num, "units.bad_quotes")])
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(HEADER):
            problems.append(UnitProblem(line, "units.bad_columns", {"count": len(row)}))
            continue
        code, name, parent = (cell.strip() for cell in row)
        if not code:
            problems.append(UnitProblem(line, "units.empty_code"))
            continue
        if len(code) > MAX_CODE_LENGTH:
            problems.append(UnitProblem(line, "units.code_too_long", {"limit": MAX_CODE_LENGTH}))
            continue
        if any(not character.isprintable() for character in code + name + parent):
            problems.append(UnitProblem(line, "units.control_characters"))
            continue
        if not name or len(name) > MAX_NAME_LENGTH:
            problems.append(
                UnitProblem(line, "units.bad_name", {"code": code, "limit": MAX_NAME_LENGTH})
            )
            continue
        if code in lines:
            problems.append(
                UnitProblem(line, "units.duplicate", {"code": code, "first": lines[code]})
            )
            continue
        lines[code] = line
        units.append(Unit(code, name, parent or None))

    parents = {unit.code: unit.parent_code for unit in existing}
    parents.update({unit.code: unit.parent_code for unit in units})
    for unit in units:
        if unit.parent_code is not None and unit.parent_code not in parents:
            problems.append(
                UnitProblem(
                    lines[unit.code],
                    "units.unknown_parent",
                    {"code": unit.code, "parent": unit.parent_code},
                )
            )
        elif _reaches(unit.code, parents):
            problems.append(UnitProblem(lines[unit.code], "units.cycle", {"code": unit.code}))
    problems.sort(key=lambda problem: problem.line)
    return UnitFile(units, problems)


def _reaches(code: str, parents: Mapping[str, str | None]) -> bool:
    """Whether walking up from code's parent comes back to code: a cycle."""
    seen: set[str] = set()
    current = parents.get(code)
    while current is not None and current not in seen:
        if current == code:
            return True
        seen.add(current)
        current = parents.get(current)
    return False
