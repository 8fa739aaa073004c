from __future__ import annotations

from botapi_sim.driver import Harness
from domain.models import Role


async def test_member_joins_and_sees_menu(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01", Role.MEMBER)
    assert "Chào mừng" in lan.last_text()
    assert "Khối 1" in lan.last_text()
