"""The kill soak, small: members file reports while the bot process is killed with SIGKILL.

Requirement: an update Telegram was told the bot has (a later getUpdates confirmed it) is
handled, however often the process dies; a member who taps "Gửi báo cáo" is told the
report's number. The run is bench/kill_soak.py's (``make soak``), at 8 members and 3 kills.
"""

from __future__ import annotations

from pathlib import Path

from bench.kill_soak import run_soak


def test_no_update_is_lost_when_the_bot_is_killed_again_and_again(tmp_path: Path) -> None:
    result = run_soak(members=8, kills=3, seed=20260101, work_dir=tmp_path)
    report = "\n".join(result.lines())
    assert [ended.count("SIGKILL") for ended in result.kill_moments] == [1, 1, 1, 0], report
    assert result.clean_stop, report
    assert result.settled, report
    assert result.member_errors == [], report
    assert result.queued > 0 and result.unconfirmed == [], report
    assert result.lost == [], report
    assert result.submit_taps > 0, report
    assert result.submits_without_number == [], report
