"""`python bot.py audit --report N`: a report's history, one event a line."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

from botapi_sim.driver import Harness
from domain.models import Role
from presentation.callbacks import OpenReport
from tests.cli_support import run_cli, run_cli_async, snapshot
from tests.flows import walk_incident


async def reviewed_report(harness: Harness) -> None:
    """Report 1: filed by Lan at 10:00, returned by Hùng at 10:05 with a two-line comment,
    resubmitted at 10:20, then escalated by the bot (an event without a person)."""
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01", Role.MEMBER, "Lan")
    await walk_incident(lan, "Mất xe máy")
    await lan.tap("Gửi báo cáo")
    harness.elapse(timedelta(minutes=5))
    await hung.tap_data(OpenReport(1).pack())
    await hung.tap("Cần bổ sung")
    await hung.send("Cần thêm biển số\nvà màu xe")
    harness.elapse(timedelta(minutes=15))
    await lan.send("/my")
    await lan.tap("Bổ sung báo cáo số 1")
    await lan.tap("Gửi báo cáo")
    with closing(sqlite3.connect(harness.db_path)) as connection, connection:
        connection.execute(
            "INSERT INTO report_events (report_id, event, actor_id, at)"
            " VALUES (1, 'escalated', NULL, '2026-11-26T03:30:00+00:00')"
        )


async def test_audit_prints_each_event_with_time_who_and_comment(harness: Harness) -> None:
    await reviewed_report(harness)
    run = await run_cli_async(["audit", "--report", "1"], harness.db_path)
    assert run.status == 0, run.err
    assert run.out.splitlines() == [
        "Báo cáo số 1: Vụ việc, Khối 1, trạng thái: đã gửi",
        "2026-11-26 10:00 · gửi báo cáo · Lan Nguyễn (tổ viên)",
        "2026-11-26 10:05 · yêu cầu bổ sung · Hùng Nguyễn (cán bộ phụ trách)"
        " · «Cần thêm biển số / và màu xe»",
        "2026-11-26 10:20 · gửi lại sau khi bổ sung · Lan Nguyễn (tổ viên)",
        "2026-11-26 10:30 · chuyển lên cấp trên · hệ thống",
    ]
    english = await asyncio.to_thread(
        lambda: run_cli(["audit", "--report", " 1 "], harness.db_path, language="en")
    )
    assert english.status == 0
    assert english.out.splitlines()[2] == (
        "2026-11-26 10:05 · more information asked · Hùng Nguyễn (supervisor)"
        " · “Cần thêm biển số / và màu xe”"
    )


async def test_an_unknown_or_malformed_number_is_refused_clearly(harness: Harness) -> None:
    await reviewed_report(harness)
    unknown = await run_cli_async(["audit", "--report", "99"], harness.db_path)
    assert (unknown.status, unknown.out) == (1, "")
    assert "Không có báo cáo số 99." in unknown.err
    for bad in ("abc", "0", "-1", "1.5", "١", "9" * 19):
        run = await run_cli_async(["audit", "--report", bad], harness.db_path)
        assert run.status == 2, bad
        assert "không phải số báo cáo" in run.err and run.out == ""


def test_a_missing_database_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "bot.sqlite3"
    run = run_cli(["audit", "--report", "1"], path)
    assert run.status == 1
    assert str(path) in run.err
    assert snapshot(path) == []
