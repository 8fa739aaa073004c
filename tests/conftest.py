from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from botapi_sim.driver import Harness


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    bot = Harness(tmp_path / "bot.sqlite3")
    await bot.start()
    await bot.load_demo_units()
    yield bot
    await bot.stop()
