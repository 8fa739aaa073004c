"""Reviewing reports (/reports, verdicts, comments, notices) and members' own reports (/my)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from botapi_sim.driver import Harness, Person
from domain.models import ReportStatus, Role
from domain.review import (
    DEFAULT_EDIT_WINDOW,
    OWN_CLOSED,
    OWN_NO_FORM,
    OWN_REVIEWED,
    OWN_WINDOW_PASSED,
    KindFilter,
    OwnChange,
    OwnReport,
    PeriodFilter,
    StatusFilter,
    Verdict,
    clamp_page,
    clean_note,
    note_expired,
    own_change,
    parse_edit_window,
    period_start,
    resubmission,
    review,
    verdicts_for,
)
from domain.settings import SettingsError, load_settings
from presentation.callbacks import (
    EditOwnReport,
    ListFilter,
    OpenReport,
    ReportsFilter,
    ReportsPage,
    ReviewReport,
    WatchReports,
    WithdrawOwnReport,
    WithdrawStep,
)
from storage.members import member_by_telegram_id
from storage.reports import record_nothing
from tests.flows import submit_urgent, walk_incident

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
WINDOW = timedelta(hours=2)


# --- helpers ------------------------------------------------------------------------


def query(harness: Harness, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(harness.db_path)) as connection:
        return connection.execute(sql, params).fetchall()


def events(harness: Harness, report: int) -> list[tuple[object, ...]]:
    """A report's history: (event, who, detail), oldest first."""
    return query(
        harness,
        "SELECT e.event, m.full_name, e.detail FROM report_events e"
        " LEFT JOIN members m ON m.id = e.actor_id WHERE e.report_id = ? ORDER BY e.id",
        (report,),
    )


def status(harness: Harness, report: int) -> str:
    [(found,)] = query(harness, "SELECT status FROM reports WHERE id = ?", (report,))
    return str(found)


def everything(harness: Harness) -> list[tuple[object, ...]]:
    """What a refused action must leave untouched: reports, events, drafts, notes."""
    return [
        *query(harness, "SELECT id, status, description, updated_at FROM reports ORDER BY id"),
        *query(harness, "SELECT id, report_id, event FROM report_events ORDER BY id"),
        *query(harness, "SELECT id, report_id, member_id FROM drafts ORDER BY id"),
        *query(harness, "SELECT reviewer_id, report_id, verdict FROM review_notes"),
        *query(harness, "SELECT key FROM outbox ORDER BY id"),
    ]


async def drain(harness: Harness) -> None:
    """Run the outbox's drain job once, as the bot does every few seconds."""
    await harness.run_job("outbox:drain")


async def file_incident(person: Person, description: str = "Mất xe máy trước nhà số 5") -> None:
    """A complete, non-urgent incident (past the duplicate question if it is asked)."""
    await walk_incident(person, description)
    await person.tap("Gửi báo cáo")
    if "Có thể vụ việc này đã được báo" in person.last_text():
        await person.tap("Vụ việc khác")


def sent_texts(person: Person, since: int = 0) -> list[str]:
    return [str(c.params.get("text", "")) for c in person.calls()[since:]]


def mark(harness: Harness) -> int:
    """Where the record of every Bot API call now ends: for popups(since=)."""
    return len(harness.telegram.calls)


def popups(person: Person, since: int = 0) -> list[str]:
    """The pop-ups (callback answers with text) this person was shown since a mark."""
    mine = f"q{person.user_id}-"
    return [
        str(call.params["text"])
        for call in person.harness.telegram.calls[since:]
        if call.method == "answerCallbackQuery"
        and str(call.params.get("callback_query_id", "")).startswith(mine)
        and call.params.get("text")
    ]


def page(
    kind: KindFilter = KindFilter.ALL,
    status_: StatusFilter = StatusFilter.ALL,
    unit: int = 0,
    period: PeriodFilter = PeriodFilter.ALL,
    number: int = 0,
) -> str:
    return ReportsPage(kind, status_, unit, period, number).pack()


async def ward(harness: Harness) -> tuple[Person, Person, Person]:
    """Ward Vinh Phú's supervisor Hùng, and members Lan (Khối 1) and Minh (Khối 2)."""
    hung = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01", Role.MEMBER, "Lan")
    minh = await harness.join(502, "16702-K02", Role.MEMBER, "Minh")
    return hung, lan, minh


# --- the rules, as pure functions ---------------------------------------------------------


def test_verdicts_each_status_allows() -> None:
    assert verdicts_for("submitted", "incident") == (Verdict.VERIFY, Verdict.RETURN, Verdict.REJECT)
    assert verdicts_for("submitted", "nothing") == (Verdict.VERIFY, Verdict.REJECT)
    assert verdicts_for("returned", "activity") == (Verdict.REJECT,)
    for settled in ("verified", "rejected", "withdrawn", "no-such-status"):
        assert verdicts_for(settled, "incident") == ()
    assert review("submitted", "incident", Verdict.RETURN) is ReportStatus.RETURNED
    assert review("returned", "incident", Verdict.VERIFY) is None
    assert review("verified", "incident", Verdict.REJECT) is None


def test_resubmitting_answers_a_review_or_is_an_own_edit() -> None:
    returned = resubmission("returned")
    edited = resubmission("submitted")
    assert returned is not None and (returned.event, returned.own) == ("resubmitted", False)
    assert edited is not None and (edited.event, edited.own) == ("edited", True)
    assert resubmission("verified") is None
    assert resubmission("withdrawn") is None


@pytest.mark.parametrize(
    ("change", "kind", "status_", "reviewed", "age", "expected"),
    [
        (OwnChange.EDIT, "incident", "submitted", False, timedelta(minutes=5), None),
        (OwnChange.WITHDRAW, "incident", "submitted", False, timedelta(hours=2), None),
        (OwnChange.WITHDRAW, "nothing", "submitted", False, timedelta(0), None),
        (OwnChange.EDIT, "nothing", "submitted", False, timedelta(0), OWN_NO_FORM),
        (
            OwnChange.EDIT,
            "incident",
            "submitted",
            False,
            timedelta(hours=2, seconds=1),
            OWN_WINDOW_PASSED,
        ),
        (OwnChange.WITHDRAW, "activity", "submitted", False, timedelta(days=1), OWN_WINDOW_PASSED),
        # Returned, then resubmitted: it was reviewed once, so it is the reviewer's now.
        (OwnChange.EDIT, "incident", "submitted", True, timedelta(minutes=5), OWN_REVIEWED),
        (OwnChange.EDIT, "incident", "verified", True, timedelta(minutes=5), OWN_REVIEWED),
        (OwnChange.WITHDRAW, "incident", "rejected", True, timedelta(0), OWN_REVIEWED),
        (OwnChange.WITHDRAW, "incident", "returned", True, timedelta(0), OWN_REVIEWED),
        (OwnChange.EDIT, "incident", "withdrawn", False, timedelta(0), OWN_CLOSED),
        # A returned report is reopened through its review, whatever the time.
        (OwnChange.EDIT, "activity", "returned", True, timedelta(days=30), None),
        # A clock set back before the submission counts as no time passed.
        (OwnChange.EDIT, "incident", "submitted", False, -timedelta(hours=5), None),
    ],
)
def test_what_a_reporter_may_still_change(
    change: OwnChange, kind: str, status_: str, reviewed: bool, age: timedelta, expected: str | None
) -> None:
    report = OwnReport(kind, status_, NOW, reviewed)
    assert own_change(change, report, NOW + age, WINDOW) == expected


def test_comments_periods_and_pages() -> None:
    assert clean_note("  Cần thêm ảnh  ") == "Cần thêm ảnh"
    assert clean_note("   ") is None
    assert clean_note("x" * 501) is None
    assert not note_expired(NOW, NOW + timedelta(minutes=59))
    assert note_expired(NOW, NOW + timedelta(hours=2))
    assert note_expired(NOW, NOW - timedelta(minutes=1))
    # 10:00 in Vietnam: today began at 00:00 local, 17:00 UTC the day before.
    assert period_start(PeriodFilter.TODAY, NOW, ZONE) == datetime(2026, 11, 25, 17, tzinfo=UTC)
    assert period_start(PeriodFilter.WEEK, NOW, ZONE) == datetime(2026, 11, 19, 17, tzinfo=UTC)
    assert period_start(PeriodFilter.ALL, NOW, ZONE) is None
    assert (clamp_page(5, 17, 8), clamp_page(-3, 17, 8), clamp_page(1, 0, 8)) == (2, 0, 0)


def test_the_edit_window_setting() -> None:
    assert parse_edit_window("90m") == timedelta(minutes=90)
    assert parse_edit_window(" 1D ") == timedelta(days=1)
    assert parse_edit_window("0") == timedelta(0)
    for bad in ("2 giờ", "8d", "-1h", "h", "1.5h", ""):
        assert parse_edit_window(bad) is None
    assert load_settings({}, None, require_token=False).edit_window == DEFAULT_EDIT_WINDOW
    assert load_settings({"BOT_EDIT_WINDOW": "30m"}, None, require_token=False).edit_window == (
        timedelta(minutes=30)
    )
    with pytest.raises(SettingsError, match="BOT_EDIT_WINDOW"):
        load_settings({"BOT_EDIT_WINDOW": "hai giờ"}, None, require_token=False)


def test_the_edit_window_is_documented() -> None:
    root = Path(__file__).resolve().parent.parent
    assert "BOT_EDIT_WINDOW" in (root / "README.md").read_text(encoding="utf-8")
    assert "BOT_EDIT_WINDOW" in (root / ".env.example").read_text(encoding="utf-8")


# --- /reports ---------------------------------------------------------------------------


async def test_the_list_shows_the_subtree_newest_first_and_refuses_members(
    harness: Harness,
) -> None:
    hung, lan, minh = await ward(harness)
    elsewhere = await harness.join(503, "17464-X01", Role.MEMBER, "Xuân")
    await file_incident(lan, "Mất xe máy")
    await file_incident(minh, "Trộm gà")
    await file_incident(elsewhere, "Mất điện thoại")

    await hung.send("/reports")
    text = hung.last_text()
    assert "(2)" in text
    assert text.index("Số 2") < text.index("Số 1")  # newest first
    assert "Minh Nguyễn" in text and "Khối 2" in text
    assert "Số 3" not in text and "Xuân" not in text

    seen = len(lan.calls())
    await lan.send("/reports")
    assert "không dành cho vai trò" in lan.last_text()
    assert "Số 2" not in " ".join(sent_texts(lan, seen))


async def test_filters_and_paging_edit_the_one_message(harness: Harness) -> None:
    hung, lan, _ = await ward(harness)
    await file_incident(lan, "Mất xe máy")  # report 1, today
    members = [await member_by_telegram_id(harness.db, user) for user in (501, 502)]
    start = harness.now
    number = 1
    for day in range(9):  # "nothing to report" 10 to 2 days ago, Lan and Minh in turn
        member = members[day % 2]
        assert member is not None
        harness.now = start - timedelta(days=10 - day)
        created, number = await record_nothing(harness.db, member, harness.now.date(), None)
        assert created
    harness.now = start
    assert number == 10

    await hung.send("/reports")
    listing = hung.last_buttons_call()
    assert "(10)" in hung.last_text() and "Trang 1 trên 2" in hung.last_text()
    assert "Số 10 · " in hung.last_text() and "Số 2 · " not in hung.last_text()
    sends = len([c for c in hung.calls() if c.method == "sendMessage"])

    await hung.tap("Cũ hơn")
    assert "Trang 2 trên 2" in hung.last_text()
    assert "Số 2 · " in hung.last_text() and "Số 1 · " in hung.last_text()
    await hung.tap("Mới hơn")
    assert "Trang 1 trên 2" in hung.last_text()

    await hung.tap("Loại: Tất cả")
    assert "loại báo cáo nào" in hung.last_text()
    await hung.tap("Vụ việc")
    assert "(1)" in hung.last_text() and "Trộm cắp tài sản" in hung.last_text()

    await hung.tap("Loại: Vụ việc")
    await hung.tap("Tất cả")
    await hung.tap("Đơn vị: Tất cả đơn vị")
    await hung.tap("Khối 2")
    text = hung.last_text()
    assert "Đơn vị: Khối 2" in text and "(4)" in text and "Lan" not in text

    await hung.tap("Trạng thái: Tất cả")
    await hung.tap("đã xác minh")
    assert "Không có báo cáo nào khớp bộ lọc" in hung.last_text()
    await hung.tap("Trạng thái: đã xác minh")
    await hung.tap("Tất cả")

    await hung.tap("Thời gian: Mọi lúc")
    await hung.tap("Hôm nay")
    assert "(0)" in hung.last_text()
    await hung.tap("Thời gian: Hôm nay")
    await hung.tap("7 ngày qua")  # Minh's of 5 and 3 days ago
    assert "(2)" in hung.last_text()
    # Every screen was the list's one message, edited in place.
    assert len([c for c in hung.calls() if c.method == "sendMessage"]) == sends
    assert hung.last_buttons_call().message_id == listing.message_id


async def test_a_forged_page_or_unit_shows_no_more_than_the_scope(harness: Harness) -> None:
    hung, lan, _ = await ward(harness)
    elsewhere = await harness.join(503, "17464-X01", Role.MEMBER, "Xuân")
    await file_incident(lan)
    await file_incident(elsewhere, "Mất điện thoại")
    await hung.send("/reports")
    for data in (page(unit=999), page(number=999), page(unit=5, number=3)):
        await hung.tap_data(data, hung.last_buttons_call())
        assert "Xuân" not in hung.last_text() and "Số 2" not in hung.last_text()
    # Unit index 999 is out of range: the whole scope, the ward's one report.
    assert "Số 1" in hung.last_text()


async def test_a_report_opens_in_full_with_its_place_and_photos(harness: Harness) -> None:
    hung, lan, _ = await ward(harness)
    await file_incident(lan, "Mất xe máy <Wave> & mũ")
    await hung.send("/reports")
    seen = len(hung.calls())
    await hung.tap_data(OpenReport(1).pack(), hung.last_buttons_call())
    shown = hung.calls()[seen:]
    assert [c.method for c in shown] == ["sendMessage", "sendLocation", "sendPhoto"]
    text = str(shown[0].params["text"])
    assert "<b>Vụ việc số 1</b>" in text
    assert "Lan Nguyễn (tổ viên) · Khối 1" in text
    assert "Trạng thái: <b>đã gửi</b>" in text
    assert "Mất xe máy &lt;Wave&gt; &amp; mũ" in text
    assert "10:00 26/11/2026 · gửi báo cáo · Lan Nguyễn (tổ viên)" in text
    assert shown[1].params["latitude"] == 18.6796
    assert shown[2].params["photo"] == "photo-1"
    buttons = [label for label, _ in shown[0].inline_buttons()]
    assert buttons == ["✅ Xác minh", "📝 Cần bổ sung", "⛔ Không tiếp nhận"]


async def test_the_reporter_sees_their_report_but_cannot_review_it(harness: Harness) -> None:
    await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    leader = await harness.join(505, "16702-K01", Role.LEADER, "Bình")
    await file_incident(leader)
    await leader.tap_data(OpenReport(1).pack())
    assert "Vụ việc số 1" in leader.last_text()
    with pytest.raises(AssertionError):
        leader.find_button("Xác minh")
    before = everything(harness)
    await leader.tap_data(ReviewReport(1, Verdict.VERIFY).pack())
    assert "Không thể tự xử lý báo cáo của chính mình" in popups(leader)[-1]
    assert everything(harness) == before


# --- verdicts -----------------------------------------------------------------------------


async def test_verify_once_and_the_reporter_is_told(harness: Harness) -> None:
    hung, lan, _ = await ward(harness)
    await file_incident(lan)
    await hung.tap_data(OpenReport(1).pack())
    screen, data = hung.find_button("Xác minh")
    await hung.tap_data(data, screen)
    await hung.tap_data(data, screen)  # a double tap on the same screen
    assert status(harness, 1) == "verified"
    assert events(harness, 1) == [
        ("submitted", "Lan Nguyễn", None), ("verified", "Hùng Nguyễn", None),
    ]  # fmt: skip
    assert "Đã xác minh báo cáo số 1" in popups(hung)[-2]
    assert "không xử lý được như vậy nữa" in popups(hung)[-1]
    # The report's screen now says so, and has no verdict buttons left.
    assert "Trạng thái: đã xác minh" in hung.last_text()
    assert "xác minh · Hùng Nguyễn (cán bộ phụ trách)" in hung.last_text()
    with pytest.raises(AssertionError):
        hung.find_button("Không tiếp nhận")

    await drain(harness)
    assert "Báo cáo số 1 của đồng chí đã được xác minh" in lan.last_text()
    await drain(harness)
    notices = [t for t in sent_texts(lan) if "đã được xác minh" in t]
    assert len(notices) == 1
    await lan.send("/my")
    assert "đã xác minh" in lan.last_text()


async def test_returned_then_resubmitted_keeps_the_number_and_history(harness: Harness) -> None:
    hung, lan, _ = await ward(harness)
    await file_incident(lan, "Mất xe máy")
    await hung.tap_data(OpenReport(1).pack())
    await hung.tap("Cần bổ sung")
    assert "nhập nội dung cần tổ viên bổ sung cho báo cáo số 1" in hung.last_text()
    await hung.send("Cần thêm biển số xe và màu xe")
    assert "Đã gửi yêu cầu bổ sung báo cáo số 1 cho Lan Nguyễn" in hung.last_text()
    assert status(harness, 1) == "returned"

    await drain(harness)
    notice = lan.last_text()
    assert "Báo cáo số 1 của đồng chí cần bổ sung" in notice
    assert "«Cần thêm biển số xe và màu xe»" in notice
    await lan.tap("Bổ sung báo cáo số 1")
    texts = sent_texts(lan)[-2:]
    assert "Ý kiến của Hùng Nguyễn: «Cần thêm biển số xe và màu xe»" in texts[0]
    assert "Đang sửa báo cáo số 1" in texts[1]
    await lan.tap("Diễn biến")
    await lan.send("Mất xe máy Wave màu đỏ, biển 37A-123.45")
    await lan.tap("Gửi báo cáo")
    assert "Đã gửi lại báo cáo số 1" in lan.last_text()

    assert query(harness, "SELECT id, status, description FROM reports") == [
        (1, "submitted", "Mất xe máy Wave màu đỏ, biển 37A-123.45"),
    ]
    assert query(harness, "SELECT count(*) FROM drafts") == [(0,)]
    assert events(harness, 1) == [
        ("submitted", "Lan Nguyễn", None),
        ("returned", "Hùng Nguyễn", "Cần thêm biển số xe và màu xe"),
        ("resubmitted", "Lan Nguyễn", None),
    ]
    await drain(harness)
    assert "Lan Nguyễn đã bổ sung và gửi lại báo cáo số 1" in hung.last_text()
    # Resubmitted, the report may be reviewed again; its reporter may not edit it now.
    await hung.tap("Xem báo cáo")
    assert "gửi lại sau khi bổ sung" in hung.last_text()
    hung.find_button("Xác minh")
    await lan.send("/my")
    with pytest.raises(AssertionError):
        lan.find_button("Sửa số 1")


async def test_reject_with_a_reason_and_the_reporter_is_told(harness: Harness) -> None:
    hung, lan, _ = await ward(harness)
    await file_incident(lan)
    await hung.tap_data(OpenReport(1).pack())
    await hung.tap("Không tiếp nhận")
    assert "lý do không tiếp nhận báo cáo số 1" in hung.last_text()
    await hung.send_photo("not-a-reason")
    assert "gõ nội dung bằng chữ" in hung.last_text()
    await hung.send("   ")
    assert "trống hoặc dài quá 500" in hung.last_text()
    await hung.send("x" * 501)
    assert "trống hoặc dài quá 500" in hung.last_text()
    assert status(harness, 1) == "submitted"
    await hung.send("Trùng với báo cáo số 7 của tổ")
    assert status(harness, 1) == "rejected"
    assert events(harness, 1)[-1] == ("rejected", "Hùng Nguyễn", "Trùng với báo cáo số 7 của tổ")
    await drain(harness)
    assert "không được tiếp nhận" in lan.last_text()
    assert "Trùng với báo cáo số 7 của tổ" in lan.last_text()
    # The comment is taken once: the next message is not another comment.
    await hung.send("Cảm ơn")
    assert query(harness, "SELECT count(*) FROM report_events WHERE event = 'rejected'") == [(1,)]


async def test_cancel_drops_the_comment_and_the_question_survives_a_restart(
    harness: Harness,
) -> None:
    hung, lan, _ = await ward(harness)
    await file_incident(lan)
    await hung.tap_data(OpenReport(1).pack())
    await hung.tap("Cần bổ sung")
    await harness.restart()
    hung = harness.user(900, "Hùng")
    await hung.send("Cần thêm ảnh")
    assert status(harness, 1) == "returned"

    ha = await harness.join(910, "16702", Role.SUPERVISOR, "Hà")
    await file_incident(lan, "Trộm chó")
    await ha.tap_data(OpenReport(2).pack())
    await ha.tap("Không tiếp nhận")
    await ha.send("/cancel")
    assert "Đã thôi" in ha.last_text()
    assert query(harness, "SELECT count(*) FROM review_notes") == [(0,)]
    await ha.send("Văn bản thường")  # now just an idle message
    assert status(harness, 2) == "submitted"


async def test_a_question_for_a_comment_expires(harness: Harness) -> None:
    hung, lan, _ = await ward(harness)
    await file_incident(lan)
    await hung.tap_data(OpenReport(1).pack())
    await hung.tap("Không tiếp nhận")
    harness.elapse(timedelta(hours=2))
    await hung.send("Không liên quan")
    assert status(harness, 1) == "submitted"
    assert query(harness, "SELECT count(*) FROM review_notes") == [(0,)]


async def test_two_reviewers_at_once_make_one_verdict(harness: Harness) -> None:
    hung, lan, _ = await ward(harness)
    ha = await harness.join(910, "16702", Role.SUPERVISOR, "Hà")
    await file_incident(lan)
    await hung.tap_data(OpenReport(1).pack())
    await ha.tap_data(OpenReport(1).pack())
    await hung.tap("Cần bổ sung")
    await ha.tap("Xác minh")
    await hung.send("Cần thêm ảnh")
    assert "vừa được xử lý hoặc rút" in hung.last_text()
    assert status(harness, 1) == "verified"
    assert [e[0] for e in events(harness, 1)] == ["submitted", "verified"]


async def test_a_team_leader_reviews_their_team_and_nothing_else(harness: Harness) -> None:
    _, lan, minh = await ward(harness)
    leader = await harness.join(505, "16702-K01", Role.LEADER, "Bình")
    await file_incident(lan, "Mất xe máy")  # Khối 1: the leader's team
    await file_incident(minh, "Trộm gà")  # Khối 2
    await leader.send("/reports")
    assert "Số 1" in leader.last_text() and "Số 2" not in leader.last_text()
    await leader.tap_data(OpenReport(1).pack())
    await leader.tap("Xác minh")
    assert status(harness, 1) == "verified"

    before = everything(harness)
    seen, since = len(leader.calls()), mark(harness)
    await leader.tap_data(OpenReport(2).pack())
    await leader.tap_data(ReviewReport(2, Verdict.VERIFY).pack())
    assert popups(leader, since) == ["Đơn vị này nằm ngoài phạm vi đồng chí phụ trách."] * 2
    assert "Trộm gà" not in " ".join(sent_texts(leader, seen))
    assert everything(harness) == before


# --- forged buttons -------------------------------------------------------------------------


async def test_forged_buttons_from_another_commune_or_a_member_change_nothing(
    harness: Harness,
) -> None:
    hung, lan, minh = await ward(harness)
    other = await harness.join(903, "17464", Role.SUPERVISOR, "Diễn")
    await file_incident(lan, "Mất xe máy")
    await file_incident(minh, "Trộm gà")
    forged = [
        OpenReport(1).pack(),
        *(ReviewReport(1, verdict).pack() for verdict in Verdict),
        EditOwnReport(1).pack(),
        *(WithdrawOwnReport(1, step).pack() for step in (WithdrawStep.ASK, WithdrawStep.YES)),
    ]
    before = everything(harness)
    for sender in (other, minh):
        seen, since = len(sender.calls()), mark(harness)
        for data in forged:
            await sender.tap_data(data)
        shown = " ".join(sent_texts(sender, seen))
        assert "Mất xe máy" not in shown
        refusals = popups(sender, since)
        assert len(refusals) == len(forged)
        assert all(
            "phạm vi" in p or "không phải báo cáo" in p or "không dành cho" in p for p in refusals
        ), refusals
    assert everything(harness) == before
    # Nor can the member list reports, nor another commune's supervisor see the ward's.
    since = mark(harness)
    await minh.tap_data(page(unit=1))
    assert "không dành cho vai trò" in popups(minh, since)[-1]
    await other.send("/reports")
    assert "(0)" in other.last_text() and "Mất xe máy" not in other.last_text()
    await other.tap_data(page(unit=2), other.last_buttons_call())
    assert "(0)" in other.last_text()
    # Garbage of the right prefix is answered as a stale button, never a crash.
    for junk in ("vo:abc", "va:1:maybe", "ow:1:now", "vf:all:all:0:all:everything:0"):
        await hung.tap_data(junk)
    assert status(harness, 1) == "submitted"
    assert everything(harness) == before


# --- members' own reports ---------------------------------------------------------------------


async def test_a_member_edits_their_report_within_the_window(harness: Harness) -> None:
    _, lan, _ = await ward(harness)
    await file_incident(lan, "Mất xe máy")
    await lan.send("/my")
    assert "đồng chí còn sửa hoặc rút được" in lan.last_text()
    await lan.tap("Sửa số 1")
    assert "Đang sửa báo cáo số 1" in lan.last_text()
    await lan.tap("Diễn biến")
    await lan.send("Mất xe máy Wave")
    await lan.tap("Gửi báo cáo")
    assert "Đã cập nhật báo cáo số 1" in lan.last_text()
    assert query(harness, "SELECT id, status, description FROM reports") == [
        (1, "submitted", "Mất xe máy Wave"),
    ]
    assert [e[0] for e in events(harness, 1)] == ["submitted", "edited"]


async def test_discarding_an_edit_leaves_the_report_as_sent(harness: Harness) -> None:
    _, lan, _ = await ward(harness)
    await file_incident(lan, "Mất xe máy")
    await lan.send("/my")
    await lan.tap("Sửa số 1")
    await lan.send("/cancel")
    assert "Báo cáo số 1 vẫn giữ như đã gửi" in lan.last_text()
    assert query(harness, "SELECT status, description FROM reports") == [
        ("submitted", "Mất xe máy"),
    ]
    assert query(harness, "SELECT count(*) FROM drafts") == [(0,)]


async def test_a_member_withdraws_after_confirming(harness: Harness) -> None:
    hung, lan, _ = await ward(harness)
    await file_incident(lan)
    await lan.send("/my")
    await lan.tap("Rút số 1")
    assert "Rút báo cáo số 1?" in lan.last_text()
    await lan.tap("Không, giữ lại")
    assert status(harness, 1) == "submitted"
    await lan.send("/my")
    await lan.tap("Rút số 1")
    screen, data = lan.find_button("Rút báo cáo")
    await lan.tap_data(data, screen)
    await lan.tap_data(data, screen)  # a double tap
    assert "Đã rút báo cáo số 1" in lan.last_text()
    assert status(harness, 1) == "withdrawn"
    assert [e[0] for e in events(harness, 1)] == ["submitted", "withdrawn"]
    await lan.send("/my")
    assert "đã rút" in lan.last_text()
    # Withdrawn, it can no longer be reviewed.
    await hung.tap_data(OpenReport(1).pack())
    with pytest.raises(AssertionError):
        hung.find_button("Xác minh")


async def test_no_edit_or_withdrawal_after_the_window_or_a_review(harness: Harness) -> None:
    hung, lan, minh = await ward(harness)
    await file_incident(lan, "Mất xe máy")
    await file_incident(minh, "Trộm gà")
    await hung.tap_data(OpenReport(2).pack())
    await hung.tap("Xác minh")
    await minh.send("/my")
    with pytest.raises(AssertionError):
        minh.find_button("Sửa số 2")
    before = everything(harness)
    await minh.tap_data(EditOwnReport(2).pack())
    await minh.tap_data(WithdrawOwnReport(2, WithdrawStep.YES).pack())
    assert popups(minh)[-2:] == ["Báo cáo này đã được xử lý, không thể thay đổi nữa."] * 2

    harness.elapse(timedelta(hours=2, minutes=1))
    await lan.send("/my")
    with pytest.raises(AssertionError):
        lan.find_button("Rút số 1")
    await lan.tap_data(EditOwnReport(1).pack())
    await lan.tap_data(WithdrawOwnReport(1, WithdrawStep.ASK).pack())
    await lan.tap_data(WithdrawOwnReport(1, WithdrawStep.YES).pack())
    assert all("quá thời hạn" in p for p in popups(lan)[-3:])
    assert everything(harness) == before


async def test_an_edit_opened_in_time_is_refused_if_sent_after_the_window(
    harness: Harness,
) -> None:
    _, lan, _ = await ward(harness)
    await file_incident(lan, "Mất xe máy")
    await lan.send("/my")
    await lan.tap("Sửa số 1")
    harness.elapse(timedelta(hours=3))
    await lan.tap("Gửi báo cáo")
    assert "Không lưu được thay đổi của báo cáo số 1" in lan.last_text()
    assert [e[0] for e in events(harness, 1)] == ["submitted"]
    assert query(harness, "SELECT count(*) FROM drafts") == [(0,)]


async def test_a_nothing_to_report_can_be_withdrawn_not_edited(harness: Harness) -> None:
    _, lan, _ = await ward(harness)
    await lan.send("/nothing")
    await lan.send("/my")
    assert "Không có gì mới" in lan.last_text() and "đã gửi" in lan.last_text()
    lan.find_button("Rút số 1")
    with pytest.raises(AssertionError):
        lan.find_button("Sửa số 1")
    await lan.tap_data(EditOwnReport(1).pack())
    assert "không có nội dung để sửa" in popups(lan)[-1]


# --- notices of new reports -----------------------------------------------------------------


async def test_a_watching_supervisor_is_told_of_each_new_report_once(harness: Harness) -> None:
    hung, lan, _ = await ward(harness)
    other = await harness.join(903, "17464", Role.SUPERVISOR, "Diễn")
    for supervisor in (hung, other):
        await supervisor.send("/reports")
        await supervisor.tap("Báo cho tôi mỗi báo cáo mới")
        assert "Đã bật" in popups(supervisor)[-1]
        supervisor.find_button("Thôi báo mỗi báo cáo mới")
    seen = {p.user_id: len(p.calls()) for p in (hung, other)}
    await file_incident(lan, "Mất xe máy")
    await drain(harness)
    await drain(harness)
    notices = [t for t in sent_texts(hung, seen[900]) if "Báo cáo mới" in t]
    assert len(notices) == 1
    assert "số 1" in notices[0] and "Khối 1" in notices[0] and "Lan Nguyễn" in notices[0]
    assert not [t for t in sent_texts(other, seen[903]) if "Báo cáo mới" in t]
    await hung.tap("Xem báo cáo")
    assert "Vụ việc số 1" in hung.last_text()

    # Urgent: the alert is the notice; no second message of it.
    seen[900] = len(hung.calls())
    await submit_urgent(lan)
    await drain(harness)
    texts = sent_texts(hung, seen[900])
    assert any("KHẨN CẤP" in t for t in texts)
    assert not any("Báo cáo mới" in t for t in texts)

    # Turned off: nothing more.
    await hung.send("/reports")
    await hung.tap("Thôi báo mỗi báo cáo mới")
    seen[900] = len(hung.calls())
    await file_incident(lan, "Trộm gà")
    await drain(harness)
    assert not any("Báo cáo mới" in t for t in sent_texts(hung, seen[900]))


async def test_list_buttons_are_refused_to_a_member_even_if_they_watch(harness: Harness) -> None:
    _, lan, _ = await ward(harness)
    since = mark(harness)
    await lan.tap_data(
        WatchReports(True, KindFilter.ALL, StatusFilter.ALL, 0, PeriodFilter.ALL, 0).pack()
    )
    await lan.tap_data(
        ReportsFilter(
            KindFilter.ALL, StatusFilter.ALL, 0, PeriodFilter.ALL, ListFilter.UNIT, 0
        ).pack()
    )
    assert len(popups(lan, since)) == 2
    assert all("không dành cho vai trò" in p for p in popups(lan, since))
    assert query(harness, "SELECT count(*) FROM report_watchers") == [(0,)]


async def test_above_the_privacy_level_names_and_phones_are_hidden(harness: Harness) -> None:
    """A province officer (above BOT_PRIVACY_LEVEL 1) sees what happened, not who said so."""
    province = await harness.join(902, "40", Role.SUPERVISOR, "Tỉnh")
    hung, lan, _ = await ward(harness)
    for supervisor in (province, hung):
        await supervisor.send("/reports")
        await supervisor.tap("Báo cho tôi mỗi báo cáo mới")
    await lan.send("/incident")
    await lan.tap("Trộm cắp tài sản")
    await lan.tap("Vừa xảy ra")
    await lan.send_location(18.6796, 105.6813)
    await lan.send("Anh Ba gọi 0987 654 321 báo mất xe")
    await lan.send("Nguyễn Văn Tư, 0912.345.678")
    await lan.tap("Bỏ qua")
    await lan.tap("Đã chuyển Công an")
    await lan.tap("Không khẩn cấp")
    await lan.tap("Gửi báo cáo")
    await drain(harness)

    notice = province.last_text()
    assert "Báo cáo mới số 1" in notice and "(ẩn)" in notice and "Lan Nguyễn" not in notice
    await province.tap("Xem báo cáo")
    view = province.last_text()
    for secret in ("Lan Nguyễn", "Nguyễn Văn Tư", "0987 654 321", "0912.345.678"):
        assert secret not in view
    assert "Anh Ba gọi ••• báo mất xe" in view
    assert "(ẩn) (tổ viên)" in view
    await province.send("/reports")
    assert "(ẩn)" in province.last_text() and "Lan Nguyễn" not in province.last_text()

    # The ward's own supervisor is at the privacy level: everything is shown.
    assert "Lan Nguyễn" in hung.last_text()
    await hung.tap("Xem báo cáo")
    assert "Nguyễn Văn Tư, 0912.345.678" in hung.last_text()
    assert "Anh Ba gọi 0987 654 321" in hung.last_text()
