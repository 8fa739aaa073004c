"""Privacy by level reaches every message that goes up the tree: urgent alerts, overdue
lists and digests shown to someone above BOT_PRIVACY_LEVEL (default: above the commune)
carry no names and no phone numbers; the commune level and below see them."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, time

from botapi_sim.driver import ZONE, Harness, Person
from domain.deadlines import Period, ReportKind, Rule
from domain.models import Role
from storage.deadlines import add_rule

PHONE = "0912 345 678"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE).astimezone(UTC)


async def urgent_with_people(lan: Person) -> None:
    """An urgent fire naming the people involved and a phone number."""
    await lan.send("/incident")
    await lan.tap("Cháy, nổ")
    await lan.tap("Vừa xảy ra")
    await lan.send_location(18.6796, 105.6813)
    await lan.send(f"Cháy nhà ông Tư, gọi {PHONE}")
    await lan.send("Ông Nguyễn Văn Tư, chủ nhà")
    await lan.send_photo("fire-1")
    await lan.tap("Xong")
    await lan.tap("Cần theo dõi")
    await lan.tap("🚨 Khẩn cấp")
    await lan.tap("Gửi báo cáo")


def alert_of(person: Person) -> str:
    [text] = [c.text for c in person.calls() if c.method == "sendMessage" and "KHẨN" in c.text]
    return text


async def test_an_alert_to_the_province_hides_names_and_phones(harness: Harness) -> None:
    province = await harness.join(800, "40", Role.SUPERVISOR, "Tỉnh")  # nobody at the ward
    lan = await harness.join(501, "16702-K01", first_name="Lan")
    await urgent_with_people(lan)
    text = alert_of(province)
    assert "Lan" not in text and "Tư, chủ nhà" not in text and PHONE not in text
    assert "(ẩn)" in text and "Cháy nhà ông Tư" in text  # what happened still shows
    alert = next(c for c in province.calls() if c.method == "sendMessage" and "KHẨN" in c.text)
    urls = [b.get("url") for row in alert.params["reply_markup"]["inline_keyboard"] for b in row]
    assert not any(urls)  # no button opens the reporter's chat


async def test_an_alert_to_the_ward_shows_who_reported(harness: Harness) -> None:
    ward = await harness.join(900, "16702", Role.SUPERVISOR, "Hùng")
    lan = await harness.join(501, "16702-K01", first_name="Lan")
    await urgent_with_people(lan)
    text = alert_of(ward)
    assert "Lan" in text and "Ông Nguyễn Văn Tư" in text and PHONE in text


async def test_an_overdue_list_to_the_province_names_nobody(harness: Harness) -> None:
    province = await harness.join(800, "40", Role.SUPERVISOR, "Tỉnh")
    await harness.join(501, "16702-K01", first_name="Lan")
    await add_rule(harness.db, Rule(0, "16702", ReportKind.ANY, Period.DAILY, time(20, 0)))
    harness.now = at("2026-11-26T20:01")
    await harness.run_job("deadlines:tick")
    await harness.run_job("outbox:drain")
    [late] = [c.text for c in province.calls() if c.method == "sendMessage" and "📋" in c.text]
    assert "Khối 1" in late and "(ẩn)" in late and "Lan" not in late


async def test_a_province_digest_and_its_spreadsheet_carry_no_names(harness: Harness) -> None:
    admin = await harness.join(901, "40", Role.ADMIN, "Minh")
    lan = await harness.join(501, "16702-K01", first_name="Lan")
    await add_rule(harness.db, Rule(0, "16702", ReportKind.ANY, Period.DAILY, time(20, 0)))
    await harness.run_job("digests:tick")  # counts from 07:00 today
    await urgent_with_people(lan)
    harness.now = at("2026-11-27T07:00:30")
    await harness.run_job("digests:tick")
    await harness.run_job("outbox:drain")
    [text] = [
        c.text for c in admin.calls() if c.ok and c.method == "sendMessage" and "📊" in c.text
    ]
    assert "Lan" not in text and "Cần nhắc nhở" not in text
    [sheet] = [u for u in harness.telegram.api.uploads(admin.user_id) if u.filename.endswith("x")]
    with zipfile.ZipFile(io.BytesIO(sheet.content)) as book:
        xml = "".join(book.read(n).decode() for n in book.namelist() if n.startswith("xl/"))
    assert "Lan Nguyễn" not in xml and "Ông Nguyễn Văn Tư" not in xml and PHONE not in xml
    assert "(ẩn)" in xml and "Cháy nhà ông Tư" in xml
