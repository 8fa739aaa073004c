"""Translation catalogues: gettext .po files under presentation/locales, one per language.

Message ids are stable keys (``report.submitted``), not English sentences, so that no
user-facing sentence lives in code and both catalogues are complete translations.

Plural forms
------------
A message that counts something is a gettext plural entry, keyed like any other::

    msgid "value.photos"
    msgid_plural "value.photos"
    msgstr[0] "{count} photo"
    msgstr[1] "{count} photos"

``msgid_plural`` repeats the key (ids are keys, not English phrases). Each catalogue's
``Plural-Forms`` header says how many forms its language has and which one a number takes:
Vietnamese has one (``nplurals=1; plural=0;``), English two (``nplurals=2; plural=(n !=
1);``). Both catalogues give a counting message the same shape, a plural entry.

The number that chooses the form is always the value given for the placeholder
``{count}``, so callers do not change: ``t.html(lang, "value.photos", count=3)``. The rule
that keeps this simple:

- a message whose number has another name calls it ``{count}`` (``leave.button.days``,
  ``digest.silent``);
- a message with two numbers is either phrased so that neither needs a plural ("Reports
  so far: {done}/{needed}"), or takes the counted phrase as a value rendered from its own
  plural entry (``digest.hot_spots`` takes ``{period}``, rendered from ``digest.days``).
"""

from __future__ import annotations

import functools
import gettext
import html
import logging
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po

from domain.settings import SUPPORTED_LANGUAGES

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
# The placeholder whose number chooses a plural entry's form.
PLURAL_NUMBER = "count"
# The plural rule of a catalogue given without one (C syntax, as in Plural-Forms).
DEFAULT_PLURAL_RULE = "(n != 1)"
log = logging.getLogger(__name__)
# A tag, with its attributes (<a href="…">): plain text shows what is between tags.
_TAG = re.compile(r"</?[a-z][a-z0-9-]*(?:\s[^>]*)?>")

# One message: its text, or a plural entry's forms in the catalogue's order.
Entry = str | tuple[str, ...]


class Html(str):
    """A string that is already safe HTML and must not be escaped again."""

    __slots__ = ()


@dataclass(frozen=True)
class Catalogue:
    """One language's .po file: its messages and its plural rule."""

    messages: dict[str, Entry]
    plural_rule: str  # the C expression of the Plural-Forms header, e.g. "(n != 1)"
    plural_count: int  # nplurals


def read_catalogue(path: Path) -> Catalogue:
    """Read one .po file: message id to text, or to its forms for a plural entry."""
    with path.open("rb") as handle:
        catalogue = read_po(handle)
    messages: dict[str, Entry] = {}
    for message in catalogue:
        if not message.id:
            continue  # the header
        if isinstance(message.id, str):
            messages[message.id] = str(message.string)
        else:  # a plural entry: (msgid, msgid_plural) and one string per form
            forms = message.string if isinstance(message.string, tuple | list) else ()
            messages[str(message.id[0])] = tuple(str(form) for form in forms)
    return Catalogue(messages, str(catalogue.plural_expr), int(catalogue.num_plurals))


def load_catalogue(path: Path) -> dict[str, Entry]:
    """Read one .po file into a mapping of message id to translated text (or forms)."""
    return read_catalogue(path).messages


def forms_of(entry: Entry) -> tuple[str, ...]:
    """Every text a message can show: its one text, or each of its plural forms."""
    return (entry,) if isinstance(entry, str) else entry


def placeholders(entry: Entry) -> set[str]:
    """Names of the {placeholders} a message expects, in any of its forms."""
    return {
        name for text in forms_of(entry) for _, name, _, _ in string.Formatter().parse(text) if name
    }


def language_for(language_code: str | None, default_language: str) -> str:
    """The supported language of a Telegram ``language_code`` ("en-GB" is English).

    Anything else, or no code at all, gets the deployment's language.
    """
    primary = (language_code or "").replace("_", "-").split("-", 1)[0].strip().lower()
    return primary if primary in SUPPORTED_LANGUAGES else default_language


@functools.cache
def _compiled(rule: str) -> Callable[[int], int]:
    """A Plural-Forms expression as a function; a malformed one raises ValueError."""
    return gettext.c2py(rule)


def _whole_number(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)  # 1.0 is one, as 1 is
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


class _Values(dict[str, object]):
    """A message's values; a placeholder given none is logged and shown as it is written.

    A caller that forgot a value (a plural message called without ``count``) must not
    raise KeyError in the middle of a handler: the member gets the sentence with the
    bare ``{name}`` in it, and the log says which message lacked what.
    """

    def __init__(self, key: str, values: Mapping[str, object]) -> None:
        super().__init__(values)
        self.key = key

    def __missing__(self, name: str) -> str:
        log.error("message %r is given no value for {%s}", self.key, name)
        return "{" + name + "}"


class Translator:
    """Look up messages by key in the member's language, falling back to the default."""

    def __init__(
        self,
        catalogues: Mapping[str, Mapping[str, Entry]],
        default_language: str,
        plural_rules: Mapping[str, str] | None = None,
    ):
        self._catalogues = catalogues
        self.default_language = default_language
        # Kept as the header's text (a Translator stays a plain, picklable value); each
        # rule is checked here and compiled once (_compiled).
        rules = plural_rules or {}
        self._plural = {
            language: rules.get(language, DEFAULT_PLURAL_RULE) for language in catalogues
        }
        for rule in self._plural.values():
            _compiled(rule)

    @classmethod
    def load(cls, default_language: str, locales_dir: Path = LOCALES_DIR) -> Translator:
        """Load every supported language's catalogue from disk."""
        read = {
            language: read_catalogue(locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po")
            for language in SUPPORTED_LANGUAGES
        }
        return cls(
            {language: catalogue.messages for language, catalogue in read.items()},
            default_language,
            {language: catalogue.plural_rule for language, catalogue in read.items()},
        )

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._catalogues)

    def _lookup(self, language: str | None, key: str) -> tuple[str | None, Entry]:
        """The message and the language it was found in."""
        for candidate in (language, self.default_language):
            if candidate is None:
                continue
            found = self._catalogues.get(candidate, {}).get(key)
            if found and all(forms_of(found)):
                return candidate, found
        log.error("missing translation %r", key)
        return None, key

    def plural_form(self, language: str, count: int) -> int:
        """Which of a plural entry's forms the language uses for this number."""
        return _compiled(self._plural.get(language, DEFAULT_PLURAL_RULE))(abs(count))

    def _template(self, language: str | None, key: str, values: Mapping[str, object]) -> str:
        found_in, entry = self._lookup(language, key)
        if isinstance(entry, str):
            return entry
        count = _whole_number(values.get(PLURAL_NUMBER))
        if found_in is None or count is None:
            log.error("plural message %r needs a whole number as {%s}", key, PLURAL_NUMBER)
            return entry[-1]
        index = self.plural_form(found_in, count)
        return entry[min(max(index, 0), len(entry) - 1)]

    def html(self, language: str | None, key: str, /, **values: object) -> Html:
        """The message as HTML, every value escaped unless it is already ``Html``."""
        safe = {
            name: value if isinstance(value, Html) else html.escape(str(value), quote=False)
            for name, value in values.items()
        }
        return Html(self._template(language, key, values).format_map(_Values(key, safe)))

    def plain(self, language: str | None, key: str, /, **values: object) -> str:
        """The message as plain text, for buttons, pop-ups, command menus and files."""
        template = html.unescape(_TAG.sub("", self._template(language, key, values)))
        return template.format_map(_Values(key, {k: str(v) for k, v in values.items()}))

    def all_variants(self, key: str) -> set[str]:
        """The message in every language, to recognise a reply-keyboard button."""
        return {
            text
            for language in self._catalogues
            for text in forms_of(self._lookup(language, key)[1])
        }
