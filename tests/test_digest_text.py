"""The digest message: one Telegram message however large the subtree, and every name
shown as typed."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.digest import DigestData, DigestReport, Person, build_digest
from domain.fields import telegram_length
from domain.models import Unit
from presentation.digest import MESSAGE_LIMIT, DigestText, visible_length
from presentation.i18n import Translator

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
END = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
START = END - timedelta(days=31)
T = Translator.load("vi")
LONG = "Tổ dân phố số <b>&amp;</b> " + "rất dài " * 22  # about 200 characters, with HTML


def huge() -> DigestData:
    """30 provinces (an admin's forest), 600 teams, 300 urgent incidents, one unit with
    700 thefts: every list far longer than a message."""
    units = [Unit(f"P{p}", f"{LONG} {p}", None) for p in range(30)]
    units += [Unit(f"P{p}-{t}", f"{LONG} {p}-{t}", f"P{p}") for p in range(30) for t in range(20)]
    people = [Person(n, f"Người {n} <i>", f"P{n % 30}-{n % 20}") for n in range(1200)]
    reports = [
        DigestReport(
            id=n, kind="incident", category="THEFT" if n % 2 else f"C{n % 40}",
            unit_code="P0-0" if n < 700 else f"P{n % 30}-{n % 20}", member_id=n % 1200,
            reporter="x", submitted_at=END - timedelta(hours=1 + n % 100),
            occurred_at=END - timedelta(hours=2), urgent=n % 5 == 0, alert_state="open",
        )
        for n in range(1500)
    ]  # fmt: skip
    return DigestData(
        start=START, end=END, zone=ZONE, units=tuple(units), people=tuple(people),
        reports=tuple(reports), incidents=tuple(reports), submissions=(), last_report={},
        rules=(),
    )  # fmt: skip


def render(units: set[str]) -> str:
    data = huge()
    digest = build_digest(data, units)
    categories = {f"incident:C{n}": f"Loại {n} <script>" for n in range(40)}
    names = {unit.code: unit.name for unit in data.units}
    return DigestText(T, "vi", ZONE, categories, names).render(digest, "Tổng hợp tháng")


def test_an_admins_digest_of_a_huge_forest_fits_one_message() -> None:
    text = render({unit.code for unit in huge().units})
    assert visible_length(text) <= MESSAGE_LIMIT
    assert "và 27 đơn vị khác" in text  # the headline names three top units
    assert "dòng nữa trong bảng tính" in text
    # Every name is escaped: only the catalogue's own tags are left.
    assert set(re.findall(r"</?([a-z]+)", text)) <= {"b", "i"}
    assert "&lt;b&gt;&amp;amp;&lt;/b&gt;" in text


def test_a_hot_spot_of_hundreds_of_reports_names_a_few() -> None:
    text = render({"P0", *(f"P0-{t}" for t in range(20))})
    [line] = [line for line in text.splitlines() if "vụ tại" in line and "#" in line][:1]
    assert telegram_length(html.unescape(line)) < 400 and line.endswith("…")
    assert visible_length(text) <= MESSAGE_LIMIT
