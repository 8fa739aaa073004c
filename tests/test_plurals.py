"""Plural forms: "1 photo", "2 photos", never "1 photos" or "supervisor(s)".

Counting messages are gettext plural entries (presentation/i18n.py): the catalogue's
Plural-Forms header picks the form from the value given as ``{count}``. Vietnamese has
one form, English two.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from botapi_sim.driver import Harness, Person
from domain.forms import SUMMARY_STEP
from domain.models import Role
from handlers.context import services_of
from handlers.report.resume import ALBUM_SETTLE
from presentation.i18n import LOCALES_DIR, Translator, forms_of, read_catalogue
from tests.flows import AppUser, draft_row

EN_PO = LOCALES_DIR / "en" / "LC_MESSAGES" / "messages.po"


@pytest.fixture(scope="module")
def t() -> Translator:
    return Translator.load("vi")


# --- through the real Translator and catalogues -----------------------------------------

# (key, other values, English for 1, English for 2)
ENGLISH = [
    ("value.photos", {}, "1 photo", "2 photos"),
    ("value.count", {}, "1 person", "2 people"),
    ("button.photos_done", {}, "Done (1 photo)", "Done (2 photos)"),
    ("photos.received", {"limit": 10}, "Got 1 photo;", "Got 2 photos;"),
    ("report.submitted_urgent", {"number": 7}, "1 supervisor alerted", "2 supervisors alerted"),
    ("overdue.body", {"due": "17:00", "lines": ""}, "1 member\n", "2 members\n"),
    ("leave.button.days", {}, "1 day", "2 days"),
    ("cli.exported", {"path": "x.xlsx"}, "Exported 1 report to", "Exported 2 reports to"),
    ("units.refused", {"path": "u.csv"}, "1 problem,", "2 problems,"),
    ("holidays.year", {"year": 2026}, "1 public holiday", "2 public holidays"),
    ("digest.silent", {}, "for 1 day)", "for 2 days)"),
    ("digest.days", {}, "1 day", "2 days"),
    ("digest.scope_more", {"names": "Xóm 1"}, "1 more unit", "2 more units"),
    ("report.submitted_urgent_admins", {"number": 7}, "to the admin.", "to the 2 admins."),
]


@pytest.mark.parametrize(("key", "values", "one", "two"), ENGLISH)
def test_english_counts_take_the_singular_for_one_and_the_plural_otherwise(
    t: Translator, key: str, values: dict[str, object], one: str, two: str
) -> None:
    assert one in t.plain("en", key, count=1, **values)
    assert two not in t.plain("en", key, count=1, **values)
    assert two in t.plain("en", key, count=2, **values)
    assert one not in t.plain("en", key, count=2, **values)
    # Zero is plural in English ("0 photos"); so are large numbers.
    assert two.replace("2", "0") in t.plain("en", key, count=0, **values)
    assert two.replace("2", "21") in t.html("en", key, count=21, **values)


@pytest.mark.parametrize(
    ("key", "values", "expected"),
    [
        ("value.photos", {}, "{n} ảnh"),
        ("value.count", {}, "{n} người"),
        ("report.submitted_urgent", {"number": 7}, "Đã báo ngay cho {n} cán bộ phụ trách."),
        ("leave.button.days", {}, "{n} ngày"),
        ("holidays.year", {"year": 2026}, "Năm 2026: {n} ngày nghỉ lễ"),
    ],
)
def test_vietnamese_has_one_form_for_every_number(
    t: Translator, key: str, values: dict[str, object], expected: str
) -> None:
    for n in (0, 1, 2, 5, 21):
        assert expected.format(n=n) in t.plain("vi", key, count=n, **values)


def test_the_form_follows_the_catalogues_plural_forms_header(tmp_path: Path) -> None:
    # A made-up three-form rule: the Translator must read the header, not assume English.
    for language, rule in (("vi", "nplurals=1; plural=0;"), ("en", RULE_OF_THREE)):
        folder = tmp_path / language / "LC_MESSAGES"
        folder.mkdir(parents=True)
        forms = ["{count} none", "{count} one", "{count} many"][: 1 if language == "vi" else 3]
        strings = "\n".join(f'msgstr[{i}] "{form}"' for i, form in enumerate(forms))
        (folder / "messages.po").write_text(
            'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
            f'"Language: {language}\\n"\n"Plural-Forms: {rule}\\n"\n\n'
            f'msgid "k.n"\nmsgid_plural "k.n"\n{strings}\n',
            encoding="utf-8",
        )
    translator = Translator.load("vi", tmp_path)
    assert [translator.plain("en", "k.n", count=n) for n in (0, 1, 2, 7)] == [
        "0 none", "1 one", "2 many", "7 many",
    ]  # fmt: skip
    assert [translator.plain("vi", "k.n", count=n) for n in (0, 1, 2)] == [
        "0 none", "1 none", "2 none",
    ]  # fmt: skip


RULE_OF_THREE = "nplurals=3; plural=(n == 0 ? 0 : n == 1 ? 1 : 2);"


def test_a_message_missing_in_english_falls_back_with_the_defaults_own_forms() -> None:
    translator = Translator(
        {"vi": {"k": ("{count} ảnh",)}, "en": {}},
        "vi",
        {"vi": "0", "en": "(n != 1)"},
    )
    # The Vietnamese entry has one form; the English rule (form 1 for 2) must not apply.
    assert translator.plain("en", "k", count=2) == "2 ảnh"


def test_a_count_given_as_digits_chooses_the_form_too(t: Translator) -> None:
    assert t.plain("en", "value.photos", count="1") == "1 photo"
    assert t.plain("en", "value.photos", count="3") == "3 photos"


def test_a_plural_message_without_a_number_shows_the_plural_and_is_logged(
    t: Translator, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("ERROR", logger="presentation.i18n"):
        assert t.plain("en", "value.photos", count="some") == "some photos"
    assert "value.photos" in caplog.text


def test_a_count_given_as_a_float_with_a_whole_value_chooses_the_form(
    t: Translator, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("ERROR", logger="presentation.i18n"):
        assert t.plain("en", "value.photos", count=1.0) == "1.0 photo"
        assert t.html("en", "value.photos", count=2.0) == "2.0 photos"
    assert caplog.records == []
    # A fraction is no whole number: the plural form, and the log says so.
    with caplog.at_level("ERROR", logger="presentation.i18n"):
        assert t.plain("en", "value.photos", count=1.5) == "1.5 photos"
    assert "value.photos" in caplog.text


@pytest.mark.parametrize(
    ("render", "expected"),
    [
        ("plain", "✅ Report no. 7 submitted.\n🚨 {count} supervisors alerted at once."),
        ("html", "✅ Report <b>no. 7</b> submitted.\n🚨 {count} supervisors alerted at once."),
    ],
)
def test_a_plural_message_called_without_its_count_is_logged_not_raised(
    t: Translator, caplog: pytest.LogCaptureFixture, render: str, expected: str
) -> None:
    with caplog.at_level("ERROR", logger="presentation.i18n"):
        said = getattr(t, render)("en", "report.submitted_urgent", number=7)
    # The sentence is still said (its plural form), the forgotten number as its placeholder.
    assert said == expected
    logged = [record.getMessage() for record in caplog.records]
    assert "message 'report.submitted_urgent' is given no value for {count}" in logged
    assert any("plural message 'report.submitted_urgent' needs" in line for line in logged)


def test_any_message_missing_a_value_is_logged_not_raised(
    t: Translator, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("ERROR", logger="presentation.i18n"):
        said = t.plain("vi", "urgent.more_nothing")
        shown = t.html("en", "history.event.followed_up", unused="x")
    assert said == (
        "✅ Đã lưu vụ việc số {number}. Không có gì mới cần gửi thêm cho cán bộ phụ trách."
    )
    assert shown == "added to an urgent incident"  # a value not asked for is ignored
    assert [r.getMessage() for r in caplog.records] == [
        "message 'urgent.more_nothing' is given no value for {number}"
    ]


def test_every_form_of_a_plural_button_is_recognised(t: Translator) -> None:
    assert {"{count} day", "{count} days", "{count} ngày"} <= t.all_variants("leave.button.days")


def test_no_english_message_says_s_in_brackets() -> None:
    raw = [line for line in EN_PO.read_text(encoding="utf-8").splitlines()]
    strings = [line for line in raw if line.startswith("msgstr")]
    assert len(strings) > 300
    assert [line for line in strings if "(s)" in line] == []
    # Read as gettext reads it, too: no form of any message.
    catalogue = read_catalogue(EN_PO).messages
    assert [k for k, entry in catalogue.items() for f in forms_of(entry) if "(s)" in f] == []


def test_english_plural_entries_differ_between_their_forms() -> None:
    catalogue = read_catalogue(EN_PO).messages
    plural = {key: entry for key, entry in catalogue.items() if isinstance(entry, tuple)}
    assert len(plural) >= 15
    assert [key for key, (one, other) in plural.items() if one == other] == []


# --- through the fake Bot API --------------------------------------------------------------


async def join_in_english(harness: Harness, user_id: int, unit: str) -> AppUser:
    mary = AppUser(harness, user_id, "Mary", "Tran", "en")
    await mary.send(f"/start {await harness.invite(unit)}")
    return mary


async def answer_until(
    harness: Harness, person: Person, stop: str | None, language: str = "en"
) -> None:
    """Answer the open incident's questions in the language until ``stop`` is asked.

    Driven by the step the draft is at, so that it follows the form's order; with
    ``stop=None`` it answers through to Submit.
    """
    t = services_of(harness.application).translator
    for _ in range(30):
        row = draft_row(harness)
        if row is None:
            return  # submitted
        step = str(row[0])
        if step == stop:
            return
        if step == "when":
            await person.tap(t.plain(language, "button.when.now"))
        elif step == "place":
            await person.send_location(18.6796, 105.6813)
        elif step == "desc":
            await person.send("A fire in the wood store")
        elif step in ("people", "photos"):
            await person.tap(t.plain(language, "button.skip"))
        elif step == "urgent":
            await person.tap(t.plain(language, "incident.urgent.yes"))
        elif step == SUMMARY_STEP:
            await person.tap(t.plain(language, "button.submit"))
        else:  # a choice (category, action…): its first button
            message = person.last_buttons_call()
            await person.tap_data(message.inline_buttons()[0][1], message)
    raise AssertionError(f"the incident never reached {stop!r}")


async def test_the_photo_counter_says_1_photo_then_2_photos_in_english(
    harness: Harness,
) -> None:
    mary = await join_in_english(harness, 601, "16702-K01")
    await mary.send("/incident")
    await answer_until(harness, mary, "photos")

    calls = await mary.send_photo("photo-1")
    assert "Got 1 photo; a report takes up to 10." in calls[-1].text
    assert "1 photos" not in calls[-1].text
    assert [
        label for row in [calls[-1].inline_buttons()] for label, _ in row if "Done" in label
    ] == ["✅ Done (1 photo)"]

    harness.elapse(timedelta(seconds=ALBUM_SETTLE + 1))  # not one burst: each is answered
    calls = await mary.send_photo("photo-2")
    assert "Got 2 photos; a report takes up to 10." in calls[-1].text
    assert "✅ Done (2 photos)" in [label for label, _ in calls[-1].inline_buttons()]

    # The summary counts them the same way.
    await mary.tap("Done (2 photos)")
    await answer_until(harness, mary, SUMMARY_STEP)
    assert re.search(r"\b2 photos\b", mary.last_buttons_call().text)


async def test_the_photo_counter_in_vietnamese_has_its_one_form(harness: Harness) -> None:
    lan = AppUser(harness, 501, "Lan", "Nguyễn", "vi")
    await lan.send(f"/start {await harness.invite('16702-K01')}")
    await lan.send("/incident")
    await answer_until(harness, lan, "photos", "vi")
    calls = await lan.send_photo("photo-1")
    assert "Đã nhận 1/10 ảnh." in calls[-1].text
    assert "✅ Xong (1 ảnh)" in [label for label, _ in calls[-1].inline_buttons()]


@pytest.mark.parametrize(
    ("supervisors", "told"),
    [(1, "1 supervisor alerted at once"), (2, "2 supervisors alerted at once")],
)
async def test_the_urgent_confirmation_counts_supervisors_in_english(
    harness: Harness, supervisors: int, told: str
) -> None:
    for n in range(supervisors):
        await harness.join(900 + n, "16702", Role.SUPERVISOR, f"Hùng{n}")
    mary = await join_in_english(harness, 601, "16702-K01")
    seen = len(mary.calls())
    await mary.send("/incident")
    await answer_until(harness, mary, None)

    texts = [call.text for call in mary.calls()[seen:]] + [m.text for m in mary.messages()]
    counted = {found for text in texts for found in re.findall(r"\d+ supervisors? alerted", text)}
    assert counted == {told.removesuffix(" at once")}, texts[-3:]
    assert any(f"🚨 {told}." in text for text in texts)
    assert all("(s)" not in text for text in texts)
