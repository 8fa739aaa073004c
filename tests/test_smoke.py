from __future__ import annotations

from domain.models import Role
from tests.harness import Harness


async def test_member_joins_and_sees_menu(harness: Harness) -> None:
    lan = await harness.join(501, "16702-K01", Role.MEMBER)
    assert "Chào mừng" in lan.last_text()
    assert "Khối 1" in lan.last_text()
