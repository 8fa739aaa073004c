"""The catalogues (presentation/locales) and the Translator (presentation/i18n.py).

Both languages must be complete and interchangeable, every message id the code uses
must exist, and what reaches Telegram must be valid HTML within Telegram's limits.
"""

from __future__ import annotations

import ast
import functools
import html
import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po

from bot.app import COMMANDS
from domain import fields
from domain.catalogue import default_catalogue
from domain.clock import Moment
from domain.fields import Button, Keep, PhotoAnswer, Reject, Switch, Text, telegram_length
from domain.forms import FORMS, INCIDENT, MAX_PHOTOS, Field, FieldKind
from domain.models import Member, ReportStatus, Role, Unit
from domain.settings import SUPPORTED_LANGUAGES
from domain.values import PhotoRef
from presentation.export import COLUMNS
from presentation.i18n import (
    LOCALES_DIR,
    PLURAL_NUMBER,
    Entry,
    Html,
    Translator,
    forms_of,
    placeholders,
    read_catalogue,
)
from presentation.keyboards import MENU_BUTTONS
from presentation.render import FormRenderer

REPO_ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("bot", "domain", "presentation", "handlers", "storage")
LANGUAGES = ("vi", "en")
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
CLOCK = Moment(datetime(2026, 11, 26, 3, 0, tzinfo=UTC), ZONE)

# Telegram's limits: a message's text after entity parsing, a callback answer (pop-up),
# and a bot command's description in the menu.
MESSAGE_LIMIT = 4096
ALERT_LIMIT = 200
COMMAND_DESCRIPTION_LIMIT = 256
# Tags Telegram's HTML parse mode understands.
TELEGRAM_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
    "tg-spoiler", "tg-emoji", "span", "blockquote",
}  # fmt: skip
# Message ids the code passes to CallbackQuery.answer, besides every error.* message.
POP_UP_IDS = ("report.already_submitted", "access.refused_short", "digest.already")

READ = {
    language: read_catalogue(LOCALES_DIR / language / "LC_MESSAGES" / "messages.po")
    for language in ("vi", "en")
}
VI, EN = READ["vi"].messages, READ["en"].messages
CATALOGUES = {"vi": VI, "en": EN}
PLURAL_RULES = {language: catalogue.plural_rule for language, catalogue in READ.items()}
PLURAL_IDS = sorted(key for key, entry in VI.items() if isinstance(entry, tuple))
ALL_IDS = sorted(set(VI) | set(EN))
NAMESPACES = {key.split(".", 1)[0] for key in ALL_IDS}
MESSAGE_ID = re.compile(r"^[a-z_]+(?:\.[a-z0-9_]+)+$")


@pytest.fixture(scope="module")
def translator() -> Translator:
    return Translator.load("vi")


def po_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"


def sample_values(text: Entry, count: int = 2) -> dict[str, object]:
    return {name: count if name == PLURAL_NUMBER else f"«{name}»" for name in placeholders(text)}


def text_of(entry: Entry) -> str:
    """A message's one text, or all its plural forms, one a line: what checks read."""
    return "\n".join(forms_of(entry))


def counts_for_each_form(language: str) -> list[int]:
    """A number that picks each of the language's plural forms, in form order."""
    translator = Translator(CATALOGUES, language, PLURAL_RULES)
    wanted = READ[language].plural_count
    picked: dict[int, int] = {}
    for number in range(200):
        picked.setdefault(translator.plural_form(language, number), number)
    assert sorted(picked) == list(range(wanted)), picked
    return [picked[form] for form in range(wanted)]


def visible_text(rendered: str) -> str:
    """What Telegram shows (and counts) once it has parsed the HTML."""
    return html.unescape(re.sub(r"</?[a-z][a-z0-9-]*(?:\s[^>]*)?>", "", rendered))


def has_vietnamese_marks(text: str) -> bool:
    decomposed = unicodedata.normalize("NFD", text)
    return "đ" in text.lower() or any(unicodedata.combining(char) for char in decomposed)


def words_of(text: str) -> list[str]:
    """The words of a message, leaving out {placeholders} and <tags>."""
    return re.findall(r"[^\W\d_]+", re.sub(r"\{[^}]*\}|<[^>]*>", " ", text))


SENTENCE_IDS = [key for key in ALL_IDS if words_of(text_of(VI[key]))]


class _TagChecker(HTMLParser):
    """Collect what Telegram's HTML parser would refuse."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            self.problems.append(f"unsupported tag <{tag}>")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.problems.append(f"unbalanced </{tag}>")

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data:
            self.problems.append(f"bare angle bracket in {data!r}")

    def handle_entityref(self, name: str) -> None:
        if name not in ("lt", "gt", "amp", "quot"):
            self.problems.append(f"unknown entity &{name};")


def html_problems(text: str) -> list[str]:
    checker = _TagChecker()
    checker.feed(text)
    checker.close()
    if re.search(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)", text):
        checker.problems.append("bare ampersand")
    return checker.problems + [f"<{tag}> never closed" for tag in checker.open]


# --- the catalogues themselves -------------------------------------------------------


def test_both_languages_are_supported_and_have_catalogues() -> None:
    assert set(SUPPORTED_LANGUAGES) == set(LANGUAGES)
    for language in LANGUAGES:
        assert po_path(language).is_file()
    assert len(VI) > 100
    # Nearly every message is a sentence to translate; only a few are bare "{text}" or "1".
    assert len(SENTENCE_IDS) > 0.9 * len(ALL_IDS)


def test_both_catalogues_have_exactly_the_same_message_ids() -> None:
    assert sorted(VI) == sorted(EN), {
        "only in vi": sorted(set(VI) - set(EN)),
        "only in en": sorted(set(EN) - set(VI)),
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_message_id_is_defined_twice(language: str) -> None:
    ids = re.findall(r'^msgid "(.+)"$', po_path(language).read_text(encoding="utf-8"), re.M)
    duplicates = sorted({key for key in ids if ids.count(key) > 1})
    assert duplicates == []
    assert len(ids) == len(CATALOGUES[language])


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_is_clean_gettext_with_the_right_language(language: str) -> None:
    with po_path(language).open("rb") as handle:
        catalogue = read_po(handle)
    assert str(catalogue.locale) == language
    fuzzy = [message.id for message in catalogue if message.id and message.fuzzy]
    assert fuzzy == []


@pytest.mark.parametrize("key", ALL_IDS)
def test_every_message_is_translated_in_both_languages(key: str) -> None:
    for language, catalogue in CATALOGUES.items():
        forms = forms_of(catalogue.get(key, ""))
        assert forms and all(form.strip() for form in forms), f"{language} {key} is empty"


@functools.cache
def forms_for_one_only(language: str) -> frozenset[int]:
    """The plural forms a language takes for the number one and for no other."""
    translator = Translator(CATALOGUES, language, PLURAL_RULES)
    chosen = [translator.plural_form(language, number) for number in range(1000)]
    return frozenset(
        form for form in set(chosen) if [n for n, f in enumerate(chosen) if f == form] == [1]
    )


def test_only_englishs_singular_is_a_form_for_one_only() -> None:
    assert forms_for_one_only("vi") == frozenset()
    assert forms_for_one_only("en") == frozenset({0})


@pytest.mark.parametrize("key", ALL_IDS)
def test_both_translations_expect_the_same_placeholders(key: str) -> None:
    # Every form of a plural entry too: "{count} photo" and "{count} photos" alike. A form
    # said of one thing only may leave the number out: "to the admin", "to the 2 admins".
    expected = placeholders(VI[key])
    for language, catalogue in CATALOGUES.items():
        for index, form in enumerate(forms_of(catalogue[key])):
            found = placeholders(form)
            if isinstance(catalogue[key], tuple) and index in forms_for_one_only(language):
                found |= {PLURAL_NUMBER}
            assert found == expected, (language, key, index)


@pytest.mark.parametrize("key", SENTENCE_IDS)
def test_vietnamese_sentences_carry_diacritics_and_differ_from_english(key: str) -> None:
    for vi in forms_of(VI[key]):
        assert has_vietnamese_marks(vi), f"vi {key} looks untranslated: {vi!r}"
    for en in forms_of(EN[key]):
        assert not has_vietnamese_marks(en), f"en {key} looks Vietnamese: {en!r}"
    assert not set(forms_of(VI[key])) & set(forms_of(EN[key]))


# --- plural entries ----------------------------------------------------------------------


def test_plural_forms_headers_say_vietnamese_has_one_form_and_english_two() -> None:
    assert (READ["vi"].plural_count, READ["vi"].plural_rule) == (1, "0")
    assert (READ["en"].plural_count, READ["en"].plural_rule) == (2, "(n != 1)")
    assert len(PLURAL_IDS) >= 15, "the count messages are plural entries"


@pytest.mark.parametrize("key", PLURAL_IDS)
def test_plural_entries_have_the_same_shape_in_both_catalogues(key: str) -> None:
    for language, catalogue in CATALOGUES.items():
        entry = catalogue[key]
        assert isinstance(entry, tuple), f"{key} is plural in vi but not in {language}"
        assert len(entry) == READ[language].plural_count, (language, key)
        # The number that chooses the form is always {count} (presentation/i18n.py); a
        # form said of one thing only need not show it.
        shown = [
            PLURAL_NUMBER in placeholders(form)
            for index, form in enumerate(entry)
            if index not in forms_for_one_only(language)
        ]
        assert shown and all(shown), (language, key)


def test_only_the_plural_entries_of_vi_are_plural_in_en() -> None:
    assert sorted(key for key, entry in EN.items() if isinstance(entry, tuple)) == PLURAL_IDS


@pytest.mark.parametrize("language", LANGUAGES)
def test_msgid_plural_repeats_the_key(language: str) -> None:
    with po_path(language).open("rb") as handle:
        plural = [m.id for m in read_po(handle) if m.id and not isinstance(m.id, str)]
    assert len(plural) == len(PLURAL_IDS)
    assert all(singular == key for singular, key in plural), plural


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("join.welcome", "Chào mừng"),
        ("access.refused", "Xin lỗi"),
        ("error.future", "tương lai"),
        ("report.submitted", "Báo cáo"),
        ("language.name", "Tiếng Việt"),
    ],
)
def test_sample_vietnamese_texts_read_as_vietnamese(key: str, expected: str) -> None:
    assert expected.lower() in text_of(VI[key]).lower()
    assert has_vietnamese_marks(text_of(VI[key]))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("key", ALL_IDS)
def test_every_message_is_valid_telegram_html_when_rendered(language: str, key: str) -> None:
    entry = CATALOGUES[language][key]
    for template in forms_of(entry):
        assert html_problems(template) == [], template
    translator = Translator(CATALOGUES, language, PLURAL_RULES)
    counts = counts_for_each_form(language) if isinstance(entry, tuple) else [2]
    for count in counts:  # each plural form in turn
        values = sample_values(entry, count)
        rendered = translator.html(language, key, **values)
        assert "{" not in rendered and "}" not in rendered
        assert html_problems(rendered) == []
        assert 0 < telegram_length(visible_text(rendered)) <= MESSAGE_LIMIT
        plain = translator.plain(language, key, **values)
        assert plain == visible_text(rendered)
        assert "<" not in plain and "&lt;" not in plain and "&amp;" not in plain


@pytest.mark.parametrize("language", LANGUAGES)
def test_pop_up_texts_fit_a_callback_answer(language: str, translator: Translator) -> None:
    keys = [key for key in ALL_IDS if key.startswith("error.")] + list(POP_UP_IDS)
    for key in keys:
        values = {name: "9999" for name in placeholders(CATALOGUES[language][key])}
        shown = translator.plain(language, key, **values)
        assert telegram_length(shown) <= ALERT_LIMIT, (key, telegram_length(shown))


@pytest.mark.parametrize("language", LANGUAGES)
def test_command_menu_descriptions_fit_telegrams_limit(
    language: str, translator: Translator
) -> None:
    for command, key in COMMANDS:
        description = translator.plain(language, key)
        assert 1 <= len(description) <= COMMAND_DESCRIPTION_LIMIT, command
        assert "<" not in description


@pytest.mark.parametrize("language", LANGUAGES)
def test_longest_possible_summary_and_alert_fit_one_message(
    language: str, translator: Translator
) -> None:
    catalogues = {kind: default_catalogue(kind) for kind in ("incident", "activity")}
    renderer = FormRenderer(translator, language, ZONE, catalogues)
    longest = max(catalogues["incident"], key=lambda item: len(item.name(language)))
    # Every free-text answer at its limit, in characters HTML escaping makes longest.
    data = {
        "cat": longest.code,
        "when": "2026-11-26T09:30:00+07:00",
        "place": {"address": "&" * 300},
        "desc": "<😀>" * 250,
        "people": "&" * 300,
        "photos": [[f"f{i}", f"u{i}"] for i in range(MAX_PHOTOS)],
        "action": "follow_up",
        "urgent": True,
    }
    summary = renderer.summary(INCIDENT, data)
    assert html_problems(summary) == []
    assert telegram_length(visible_text(summary)) <= MESSAGE_LIMIT

    moment = datetime(2026, 11, 26, 2, 30, tzinfo=UTC)
    reporter = Member(1, 501, 501, "Ư" * 129, None, "16702-K01", Role.MEMBER, language)
    unit = Unit("16702-K01", "Ổ" * 200, None)
    alert = renderer.alert(123456, "incident", data, reporter, unit, moment)
    assert html_problems(alert) == []
    assert telegram_length(visible_text(alert)) <= MESSAGE_LIMIT


# --- the Translator ------------------------------------------------------------------


def test_html_escapes_interpolated_values(translator: Translator) -> None:
    text = translator.html("en", "join.welcome", name="<b>x</b> & y", unit="Khối 1", role="r")
    assert "<b>&lt;b&gt;x&lt;/b&gt; &amp; y</b>" in text
    assert "<b>x</b>" not in text
    assert isinstance(text, Html)
    assert html_problems(text) == []


def test_html_keeps_quotes_readable(translator: Translator) -> None:
    text = translator.html("vi", "join.welcome_back", name='Lan "Út"')
    assert 'Lan "Út"' in text


def test_html_does_not_escape_values_that_are_already_html(translator: Translator) -> None:
    role = translator.html("en", "role.admin")
    text = translator.html(
        "en", "join.welcome", name="Lan", unit="Khối 1", role=Html("<i>administrator</i>")
    )
    assert "as <i>administrator</i>." in text
    assert isinstance(role, Html)
    nested = translator.html("en", "choice.made", question=Html("<b>Q?</b>"), answer="A & B")
    assert nested == "<b>Q?</b>\n→ <b>A &amp; B</b>"


def test_plain_strips_tags_and_keeps_values_as_typed(translator: Translator) -> None:
    text = translator.plain("en", "join.welcome", name="Lan & <Hà>", unit="Khối 1", role="r")
    assert "Lan & <Hà>" in text
    assert "Khối 1" in text
    assert "<b>" not in text and "</b>" not in text
    assert "&amp;" not in text


def test_plain_unescapes_entities_of_the_template() -> None:
    translator = Translator({"en": {"k": "<b>Tom &amp; Jerry</b> &lt;3 {x}"}}, "en")
    assert translator.plain("en", "k", x="<y>") == "Tom & Jerry <3 <y>"
    assert translator.html("en", "k", x="<y>") == "<b>Tom &amp; Jerry</b> &lt;3 &lt;y&gt;"


def test_lookup_falls_back_to_the_default_language() -> None:
    translator = Translator({"vi": {"a": "Chào", "b": "Bê"}, "en": {"a": "Hello"}}, "vi")
    assert translator.plain("en", "a") == "Hello"
    assert translator.plain("en", "b") == "Bê"
    assert translator.plain(None, "a") == "Chào"
    assert translator.plain("fr", "a") == "Chào"


def test_missing_message_shows_its_id_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    translator = Translator({"vi": {}, "en": {}}, "vi")
    with caplog.at_level("ERROR", logger="presentation.i18n"):
        assert translator.html("en", "no.such.key") == "no.such.key"
    assert "no.such.key" in caplog.text


def test_translator_serves_both_languages(translator: Translator) -> None:
    assert set(translator.languages) == set(LANGUAGES)
    assert translator.default_language == "vi"
    assert translator.all_variants("menu.incident") == {VI["menu.incident"], EN["menu.incident"]}
    assert translator.plain("en", "role.member") == EN["role.member"]
    assert translator.plain("vi", "role.member") == VI["role.member"]


# --- every message id the code uses exists -------------------------------------------


def source_trees() -> Iterator[tuple[Path, ast.Module]]:
    for folder in SOURCE_DIRS:
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def keys_in(node: ast.expr) -> Iterator[tuple[str, bool]]:
    """Message ids an expression can evaluate to: (id, True) or (f-string prefix, False)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value, True
    elif isinstance(node, ast.IfExp):
        yield from keys_in(node.body)
        yield from keys_in(node.orelse)
    elif isinstance(node, ast.JoinedStr):
        prefix = ""
        for part in node.values:
            if not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
                break
            prefix += part.value
        if prefix:
            yield prefix, False


def translator_calls() -> Iterator[tuple[str, int, str, bool]]:
    """(file, line, id or prefix, exact) for every literal id given to .html/.plain."""
    for path, tree in source_trees():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("html", "plain")
                and len(node.args) >= 2
            ):
                for key, exact in keys_in(node.args[1]):
                    yield path.relative_to(REPO_ROOT).as_posix(), node.lineno, key, exact


def id_like_constants() -> Iterator[tuple[str, int, str]]:
    """String constants anywhere in the code shaped like ids of a catalogue namespace."""
    for path, tree in source_trees():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and MESSAGE_ID.match(node.value)
                and node.value.split(".", 1)[0] in NAMESPACES
            ):
                yield path.relative_to(REPO_ROOT).as_posix(), node.lineno, node.value


def test_every_literal_id_given_to_the_translator_exists() -> None:
    calls = list(translator_calls())
    exact = [(where, line, key) for where, line, key, is_exact in calls if is_exact]
    assert len(exact) > 60, "the scan found too few calls to be trusted"
    missing = [(where, line, key) for where, line, key in exact if key not in VI]
    assert missing == []


def test_every_f_string_id_prefix_matches_some_message() -> None:
    prefixes = [(where, line, key) for where, line, key, exact in translator_calls() if not exact]
    assert {key for *_, key in prefixes} >= {"status.", "role.", "button.", "choice."}
    unmatched = [
        (where, line, prefix)
        for where, line, prefix in prefixes
        if not any(key.startswith(prefix) for key in ALL_IDS)
    ]
    assert unmatched == []


def test_every_id_shaped_string_in_the_code_is_in_the_catalogue() -> None:
    # Catches ids that reach the translator through a variable: Reject("error.x"),
    # menu constants, refusal tables, CSV problem reasons.
    found = list(id_like_constants())
    assert {"error.future", "units.cycle", "join.used", "menu.incident"} <= {k for *_, k in found}
    missing = [(where, line, key) for where, line, key in found if key not in VI]
    assert missing == []


def test_ids_built_from_values_exist_for_every_value() -> None:
    built = [
        *(f"role.{role.value}" for role in Role),
        *(f"status.{status.value}" for status in ReportStatus),
        *(f"export.column.{name}" for name in COLUMNS),
        *MENU_BUTTONS,
        *(key for _, key in COMMANDS),
        "nothing.title",
        "language.name",
    ]
    action = INCIDENT.field("action")
    assert action is not None
    built += [f"incident.action.{option.value}" for option in action.options]
    missing = [key for key in built if key not in VI or key not in EN]
    assert missing == []


# --- every id the forms and the report flow need -------------------------------------


def every_field() -> list[Field]:
    return [spec for form in FORMS.values() for spec in form.fields]


def switch_modes(spec: Field) -> set[str]:
    """The modes a field's buttons can switch it to, found by asking interpret()."""
    modes: set[str] = set()
    for value in (fields.NOW, fields.TODAY, fields.YESTERDAY, fields.OTHER):
        outcome = fields.interpret(spec, "", None, Button(value), CLOCK)
        if isinstance(outcome, Switch):
            modes.add(outcome.mode)
    return modes


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_form_title_label_prompt_and_option_exists(language: str) -> None:
    catalogue = CATALOGUES[language]
    needed = [form.title for form in FORMS.values()]
    for spec in every_field():
        needed += [spec.label, spec.prompt, *(option.label for option in spec.options)]
        if spec.none_label:
            needed.append(spec.none_label)
    missing = [key for key in needed if key not in catalogue]
    assert missing == []


def test_place_fields_have_a_no_place_button() -> None:
    for spec in every_field():
        if spec.kind is FieldKind.PLACE:
            assert spec.none_label in VI and spec.none_label in EN


def test_mode_prompts_and_choice_echoes_exist_for_every_switch() -> None:
    modes = {spec.kind: switch_modes(spec) for spec in every_field()}
    assert modes[FieldKind.WHEN] == {"time", "datetime"}
    assert modes[FieldKind.DAY] == {"date"}
    needed: list[str] = []
    for spec in every_field():
        for mode in switch_modes(spec):
            needed += [f"{spec.prompt}.{mode}", f"choice.{spec.kind.value}.{mode}"]
    assert len(needed) == 2 * 3
    missing = [key for key in needed if key not in VI or key not in EN]
    assert missing == []


def test_question_buttons_have_labels_for_every_fixed_value() -> None:
    fixed = {
        FieldKind.WHEN: (fields.NOW, fields.TODAY, fields.OTHER),
        FieldKind.DAY: (fields.TODAY, fields.YESTERDAY, fields.OTHER),
        FieldKind.DURATION: fields.DURATION_CHOICES,
        FieldKind.COUNT: fields.COUNT_CHOICES,
    }
    needed = [f"button.{kind.value}.{value}" for kind, values in fixed.items() for value in values]
    needed += ["button.skip", "button.photos_done", "button.photos_clear", "button.edit"]
    needed += ["button.submit", "button.discard", "place.send_location", "place.saved"]
    missing = [key for key in needed if key not in VI or key not in EN]
    assert missing == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_duration_buttons_say_what_they_store(language: str, translator: Translator) -> None:
    # "button.duration.120" must not read "1 hour": the stored value is 120 minutes.
    for value in fields.DURATION_CHOICES:
        label = translator.plain(language, f"button.duration.{value}")
        number = re.search(r"\d+", label)
        assert number is not None, label
        minutes = int(value)
        shown = minutes if minutes < 60 else minutes // 60
        assert int(number.group()) == shown, (value, label)


def test_count_buttons_show_their_number(translator: Translator) -> None:
    for value in fields.COUNT_CHOICES:
        assert translator.plain("vi", f"button.count.{value}") == value


@pytest.mark.parametrize("language", LANGUAGES)
def test_notices_and_errors_from_interpret_get_exactly_their_values(
    language: str, translator: Translator
) -> None:
    """Every Reject/Keep message gets exactly the values its text expects."""
    desc = INCIDENT.field("desc")
    photos = INCIDENT.field("photos")
    assert desc is not None and photos is not None
    full = tuple(PhotoRef(f"f{i}", f"u{i}") for i in range(MAX_PHOTOS))
    outcomes = [
        fields.interpret(desc, "", None, Text("x" * 2000), CLOCK),
        fields.interpret(photos, "", None, PhotoAnswer("f", "u"), CLOCK),
        fields.interpret(photos, "", (PhotoRef("f", "u"),), PhotoAnswer("g", "u"), CLOCK),
        fields.interpret(photos, "", full, PhotoAnswer("g", "v"), CLOCK),
        fields.interpret(photos, "", full, Button(fields.CLEAR), CLOCK),
    ]
    for outcome in outcomes:
        assert isinstance(outcome, Reject | Keep)
        key = outcome.error if isinstance(outcome, Reject) else outcome.notice
        assert placeholders(CATALOGUES[language][key]) == set(outcome.values), key
        shown = translator.html(language, key, **outcome.values)
        assert "{" not in shown
        for value in outcome.values.values():
            assert str(value) in shown


# --- the checks above can fail ---------------------------------------------------------


@pytest.mark.parametrize(
    "broken", ["<b>open", "<b>x</i>", "<p>x</p>", "a & b", "x < y", "&nbsp;", "</b>"]
)
def test_html_checker_catches_what_telegram_refuses(broken: str) -> None:
    assert html_problems(broken) != []


def test_html_checker_passes_what_telegram_takes() -> None:
    assert html_problems("<b>Tom &amp; Jerry</b> &lt;3 <i>x</i> → ✅") == []


def test_id_scanner_reads_constants_conditionals_and_f_string_prefixes() -> None:
    call = ast.parse("t.html(lang, 'a.b' if x else 'c.d', n=1)", mode="eval").body
    assert isinstance(call, ast.Call)
    assert list(keys_in(call.args[1])) == [("a.b", True), ("c.d", True)]
    f_string = ast.parse("f'status.{s}'", mode="eval").body
    assert list(keys_in(f_string)) == [("status.", False)]
    no_prefix = ast.parse("f'{spec.prompt}.{mode}'", mode="eval").body
    assert list(keys_in(no_prefix)) == []


def test_members_are_addressed_as_dong_chi_never_ban() -> None:
    """Members are adults in a police-led force: "đồng chí", or no pronoun at all."""
    casual = [
        key for key, text in VI.items() if re.search(r"(?<!\w)bạn(?!\w)", text_of(text), re.I)
    ]
    assert casual == []
