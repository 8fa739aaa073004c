"""Translation catalogues: gettext .po files under presentation/locales, one per language.

Message ids are stable keys (``report.submitted``), not English sentences, so that no
user-facing sentence lives in code and both catalogues are complete translations.
"""

from __future__ import annotations

import html
import logging
import re
import string
from collections.abc import Mapping
from pathlib import Path

from babel.messages.pofile import read_po

from domain.settings import SUPPORTED_LANGUAGES

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
log = logging.getLogger(__name__)
_TAG = re.compile(r"</?[a-z][a-z0-9-]*>")


class Html(str):
    """A string that is already safe HTML and must not be escaped again."""

    __slots__ = ()


def load_catalogue(path: Path) -> dict[str, str]:
    """Read one .po file into a mapping of message id to translated text."""
    with path.open("rb") as handle:
        catalogue = read_po(handle)
    return {
        str(message.id): str(message.string)
        for message in catalogue
        if message.id and isinstance(message.id, str)
    }


def placeholders(text: str) -> set[str]:
    """Names of the {placeholders} a message expects."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class Translator:
    """Look up messages by key in the member's language, falling back to the default."""

    def __init__(self, catalogues: Mapping[str, Mapping[str, str]], default_language: str):
        self._catalogues = catalogues
        self.default_language = default_language

    @classmethod
    def load(cls, default_language: str, locales_dir: Path = LOCALES_DIR) -> Translator:
        """Load every supported language's catalogue from disk."""
        catalogues = {
            language: load_catalogue(locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po")
            for language in SUPPORTED_LANGUAGES
        }
        return cls(catalogues, default_language)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._catalogues)

    def _lookup(self, language: str | None, key: str) -> str:
        for candidate in (language, self.default_language):
            if candidate is None:
                continue
            found = self._catalogues.get(candidate, {}).get(key)
            if found:
                return found
        log.error("missing translation %r", key)
        return key

    def html(self, language: str | None, key: str, /, **values: object) -> Html:
        """The message as HTML, every value escaped unless it is already ``Html``."""
        safe = {
            name: value if isinstance(value, Html) else html.escape(str(value), quote=False)
            for name, value in values.items()
        }
        return Html(self._lookup(language, key).format(**safe))

    def plain(self, language: str | None, key: str, /, **values: object) -> str:
        """The message as plain text, for buttons, pop-ups, command menus and files."""
        template = html.unescape(_TAG.sub("", self._lookup(language, key)))
        return template.format(**{k: str(v) for k, v in values.items()})

    def all_variants(self, key: str) -> set[str]:
        """The message in every language, to recognise a reply-keyboard button."""
        return {self._lookup(language, key) for language in self._catalogues}
