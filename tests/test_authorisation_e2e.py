"""The authorisation matrix end to end: every action a button can take, forged.

Button data is never trusted. Here each action's callback data is made up and sent by
each kind of actor, as a modified client could, without the bot ever having shown them
the button; what the bot then did is read from the database and from what Telegram was
asked to send. domain/access.py's own matrix (tests/test_access.py) says who may; this
says the handlers ask it, every time.

The scene: Lan, a member of Khối 1 (ward 16702), has filed urgent report 1. The actors:
Bình, a member of the same team; Tâm, its team leader; Hùng, the ward's supervisor; Xuân,
the supervisor of another commune; Minh, the admin; Hà, a ward supervisor who has been
deactivated; and a stranger who never joined. Lan herself is asked about her own report.
"""

from __future__ import annotations

import io
import sqlite3
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from botapi_sim.core import Call
from botapi_sim.driver import Harness, Person
from domain.day_range import Span
from domain.models import Role
from domain.review import Verdict
from handlers.invite import unit_token
from presentation.callbacks import (
    AcknowledgeAlert,
    AskDigest,
    DeactivateDo,
    DigestSpan,
    EditOwnReport,
    ExportRange,
    FileFormat,
    InviteMake,
    LeaveDays,
    MembersPage,
    OpenReport,
    ReviewReport,
    WithdrawOwnReport,
    WithdrawStep,
)
from tests.flows import submit_urgent

DESCRIPTION = "Cháy nhà dân"
ACTORS = ("reporter", "member", "leader", "supervisor", "elsewhere", "admin", "deactivated",
          "stranger")  # fmt: skip


@dataclass
class Scene:
    harness: Harness
    people: dict[str, Person]
    lan_id: int

    def query(self, sql: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.harness.db_path) as connection:
            return connection.execute(sql).fetchall()

    def one(self, sql: str) -> object:
        [(value,)] = self.query(sql)
        return value


async def scene(tmp_path: Path) -> Scene:
    harness = Harness(tmp_path / "bot.sqlite3")
    await harness.start()
    await harness.load_demo_units()
    people = {
        "supervisor": await harness.join(900, "16702", Role.SUPERVISOR, "Hùng"),
        "deactivated": await harness.join(901, "16702", Role.SUPERVISOR, "Hà"),
        "elsewhere": await harness.join(902, "17464", Role.SUPERVISOR, "Xuân"),
        "admin": await harness.join(903, "40", Role.ADMIN, "Minh"),
        "reporter": await harness.join(501, "16702-K01", first_name="Lan"),
        "member": await harness.join(502, "16702-K01", first_name="Bình"),
        "leader": await harness.join(503, "16702-K01", Role.LEADER, "Tâm"),
        "stranger": harness.user(777, "Lạ"),
    }
    await submit_urgent(people["reporter"], DESCRIPTION)
    with sqlite3.connect(harness.db_path) as connection:
        connection.execute("UPDATE members SET active = 0 WHERE telegram_user_id = 901")
        [(lan_id,)] = connection.execute(
            "SELECT id FROM members WHERE telegram_user_id = 501"
        ).fetchall()
    return Scene(harness, people, lan_id)


@dataclass(frozen=True)
class Case:
    data: Callable[[Scene], str]
    happened: Callable[[Scene, list[Call]], bool]  # given what was sent after the tap
    allowed: frozenset[str]


def shown(calls: list[Call], text: str) -> bool:
    return any(text in c.text for c in calls if c.ok and c.method != "answerCallbackQuery")


def file_with_the_report(s: Scene, calls: list[Call]) -> bool:
    """A file was sent that holds Lan's report (a supervisor elsewhere gets their own)."""
    ids = {c.result["document"]["file_id"] for c in calls if c.ok and c.method == "sendDocument"}
    api = s.harness.telegram.api
    return any(
        DESCRIPTION.encode() in _text_of(upload.content)
        for file_id in ids
        if (upload := api.upload(file_id)) is not None
    )


def _text_of(content: bytes) -> bytes:
    """A CSV's bytes, or an XLSX's shared strings."""
    if not content.startswith(b"PK"):
        return content
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        return book.read("xl/sharedStrings.xml")


OVERSEERS = frozenset({"supervisor", "admin"})
CASES: dict[str, Case] = {
    "open the report": Case(
        lambda s: OpenReport(1).pack(),
        lambda s, calls: shown(calls, DESCRIPTION),
        frozenset({"reporter", "leader", "supervisor", "admin"}),
    ),
    "verify it": Case(
        lambda s: ReviewReport(1, Verdict.VERIFY).pack(),
        lambda s, calls: s.one("SELECT status FROM reports WHERE id = 1") == "verified",
        frozenset({"leader", "supervisor", "admin"}),
    ),
    "acknowledge its alert": Case(
        lambda s: AcknowledgeAlert(1).pack(),
        lambda s, calls: s.one("SELECT alert_state FROM reports WHERE id = 1") == "acknowledged",
        OVERSEERS,
    ),
    "reopen it to edit": Case(
        lambda s: EditOwnReport(1).pack(),
        lambda s, calls: bool(s.query("SELECT 1 FROM drafts WHERE report_id = 1")),
        frozenset({"reporter"}),
    ),
    "withdraw it": Case(
        lambda s: WithdrawOwnReport(1, WithdrawStep.YES).pack(),
        lambda s, calls: s.one("SELECT status FROM reports WHERE id = 1") == "withdrawn",
        frozenset({"reporter"}),
    ),
    "deactivate the reporter": Case(
        lambda s: DeactivateDo(s.lan_id).pack(),
        lambda s, calls: s.one("SELECT active FROM members WHERE telegram_user_id = 501") == 0,
        OVERSEERS,
    ),
    "invite to her team": Case(
        lambda s: InviteMake(Role.MEMBER, unit_token("16702-K01")).pack(),
        lambda s, calls: s.one("SELECT count(*) FROM invites WHERE used_at IS NULL") == 1,
        OVERSEERS,
    ),
    "put her on leave": Case(
        lambda s: LeaveDays(s.lan_id, 3).pack(),
        lambda s, calls: bool(s.query("SELECT 1 FROM member_leave")),
        frozenset({"leader", "supervisor", "admin"}),
    ),
    "export the reports": Case(
        lambda s: ExportRange(Span.THIS_MONTH, FileFormat.CSV).pack(),
        file_with_the_report,
        OVERSEERS,
    ),
    "make a digest": Case(
        lambda s: AskDigest(DigestSpan.DAY).pack(),
        file_with_the_report,
        OVERSEERS,
    ),
    "list the members": Case(
        lambda s: MembersPage(0).pack(),
        lambda s, calls: shown(calls, "Lan Nguyễn"),
        frozenset({"leader", "supervisor", "admin"}),
    ),
}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("action", list(CASES))
async def test_a_forged_button(tmp_path: Path, action: str, actor: str) -> None:
    s = await scene(tmp_path)
    try:
        case = CASES[action]
        person = s.people[actor]
        before = len(person.calls())
        calls = await person.tap_data(case.data(s), "…")
        # Whatever the outcome, the tap was answered: never a spinning button.
        assert any(c.method == "answerCallbackQuery" for c in calls), calls
        after = person.calls()[before:]
        if actor in case.allowed:
            assert case.happened(s, after), f"{actor} could not {action}"
        else:
            assert not case.happened(s, after), f"{actor} could {action}"
            if actor == "stranger":
                assert all(c.method == "answerCallbackQuery" for c in person.calls()[before:])
    finally:
        await s.harness.stop()
