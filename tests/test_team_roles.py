"""Team leaders and deputies (tổ trưởng, tổ phó) report like members; alerts follow access."""

from __future__ import annotations

from botapi_sim.driver import Harness
from domain.models import Role


async def test_a_team_leader_joins_as_such_and_reports_like_a_member(harness: Harness) -> None:
    await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    leader = await harness.join(502, "16702-K01", Role.LEADER, "Bình")
    assert "tổ trưởng" in leader.last_text()
    await leader.send("/help")
    help_text = leader.last_text()
    await harness.join(503, "16702-K01", Role.MEMBER, "Chi")
    member = harness.user(503, "Chi")
    await member.send("/help")
    assert help_text == member.last_text()

    await leader.send("/nothing")
    assert "Đã ghi nhận" in leader.last_text()


async def test_a_deputy_files_an_urgent_incident_and_supervisors_are_alerted(
    harness: Harness,
) -> None:
    supervisor = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    deputy = await harness.join(504, "16702-K01", Role.DEPUTY, "Dũng")
    await deputy.send("/incident")
    await deputy.tap("Cháy, nổ")
    await deputy.tap("Vừa xảy ra")
    await deputy.send("❔ Không rõ địa điểm")
    await deputy.send("Cháy kho củi")
    await deputy.tap("Bỏ qua")
    await deputy.tap("Bỏ qua")
    await deputy.tap("Cần theo dõi")
    await deputy.tap("🚨 Khẩn cấp")
    await deputy.tap("Gửi báo cáo")
    assert any("KHẨN CẤP" in c.text for c in supervisor.calls() if c.method == "sendMessage")
    assert "1 cán bộ phụ trách" in deputy.last_text()


async def test_a_leader_of_the_unit_is_not_alerted_but_an_admin_there_is(
    harness: Harness,
) -> None:
    """Alerts go to those the access rules let oversee the unit: never a team leader."""
    leader = await harness.join(502, "16702-K01", Role.LEADER, "Bình")
    admin = await harness.join(950, "16702", Role.ADMIN, "Quản")
    lan = await harness.join(501, "16702-K01")
    await lan.send("/incident")
    await lan.tap("Cháy, nổ")
    await lan.tap("Vừa xảy ra")
    await lan.send("❔ Không rõ địa điểm")
    await lan.send("Cháy kho củi")
    await lan.tap("Bỏ qua")
    await lan.tap("Bỏ qua")
    await lan.tap("Cần theo dõi")
    await lan.tap("🚨 Khẩn cấp")
    await lan.tap("Gửi báo cáo")
    assert any("KHẨN CẤP" in c.text for c in admin.calls() if c.method == "sendMessage")
    assert not any("KHẨN CẤP" in c.text for c in leader.calls())
