"""Telegram's text formatting, as TDLib does it: HTML to plain text and entities, then clean-up.

Ported from TDLib's ``parse_html`` and ``fix_formatted_text`` (td/telegram/MessageEntity.cpp),
so a message the simulator accepts is one Telegram accepts, its error descriptions are
Telegram's words, and offsets are in UTF-16 code units as the Bot API counts them.

Not modelled: entities Telegram finds by itself (links, mentions, commands), and the removal
of entities that cover only white space.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# The tags Telegram's parse_mode=HTML knows; anything else is refused.
SUPPORTED_TAGS = frozenset({
    "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "tg-emoji",
    "span", "pre", "code", "blockquote",
})  # fmt: skip
_SIMPLE_ENTITIES = {
    "i": "italic", "em": "italic", "b": "bold", "strong": "bold",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "u": "underline", "ins": "underline", "tg-spoiler": "spoiler", "span": "spoiler",
}  # fmt: skip
# td::is_space: the end of the C string counts as space too.
_SPACES = frozenset(" \t\r\n\0\v\f")
_NAMED_CHARACTERS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
# Characters TDLib drops from message text: \r, U+2028..U+202E, and three combining marks.
_DROPPED = frozenset("\r\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u0333\u033f\u030a")
# What clean() changes: dropped characters and control characters other than \n.
_UNCLEAN = re.compile("[\x00-\x09\x0b-\x1f\r\u2028-\u202e\u0333\u033f\u030a]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_MARKUP = re.compile("[<&]")


class EntityParseError(ValueError):
    """Text that Telegram refuses with "can't parse entities"; the message is TDLib's."""


class EmptyText(ValueError):
    """Text that is nothing but white space once cleaned: "message must be non-empty"."""


@dataclass(frozen=True)
class FormattedText:
    """What a message shows: plain text and its entities (offsets in UTF-16 units)."""

    text: str
    entities: tuple[dict[str, Any], ...] = field(default=())

    def json_entities(self) -> list[dict[str, Any]]:
        return [dict(entity) for entity in self.entities]


def utf16_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units, so an emoji outside the BMP is 2."""
    return len(text) + len(_ASTRAL.findall(text))


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8", errors="surrogatepass"))


def _decode_character_reference(source: str, position: int) -> tuple[str, int] | None:
    """The character an &...; reference stands for and where it ends, as TDLib reads it."""
    end = position + 1
    if source[end] == "#":
        end += 1
        value = 0
        if source[end] == "x":
            end += 1
            while source[end] in "0123456789abcdefABCDEF":
                value = value * 16 + int(source[end], 16)
                end += 1
        else:
            while source[end].isascii() and source[end].isdigit():
                value = value * 10 + int(source[end])
                end += 1
        if value == 0 or value >= 0x10FFFF or end - position >= 10:
            return None
        character = chr(value)
    else:
        while source[end].isascii() and source[end].isalpha():
            end += 1
        named = _NAMED_CHARACTERS.get(source[position + 1 : end])
        if named is None:
            return None  # an unsupported name, such as &nbsp;, stays as it was typed
        character = named
    if source[end] == ";":
        end += 1
    return character, end


@dataclass
class _Open:
    tag: str
    argument: str
    offset: int  # UTF-16 offset in the output where the entity starts
    start: int  # index in the output list where its text starts


def parse_html(text: str) -> FormattedText:
    """Parse text sent with parse_mode=HTML; raises EntityParseError where Telegram answers 400."""
    source = text + "\0"  # TDLib reads a C string: its terminator ends every scan
    size = len(text)
    out: list[str] = []
    utf16 = 0
    nested: list[_Open] = []
    entities: list[dict[str, Any]] = []
    i = 0
    while i < size:
        plain = _MARKUP.search(text, i)
        stop = plain.start() if plain else size
        if stop > i:  # a run of plain text, taken whole
            run = text[i:stop]
            out.append(run)
            utf16 += utf16_length(run)
            i = stop
            continue
        char = source[i]
        if char == "&":
            decoded = _decode_character_reference(source, i)
            if decoded is not None:
                character, i = decoded
                out.append(character)
                utf16 += utf16_length(character)
                continue
        if char != "<":
            out.append(char)
            utf16 += utf16_length(char)
            i += 1
            continue
        begin = i
        i += 1
        if source[i] != "/":
            i, opened = _start_tag(source, begin, i)
            nested.append(_Open(opened[0], opened[1], utf16, len(out)))
            continue
        if not nested:
            raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(text, begin)}")
        while source[i] not in _SPACES and source[i] != ">":
            i += 1
        end_tag = source[begin + 2 : i].lower()
        while source[i] in _SPACES and source[i] != "\0":
            i += 1
        if source[i] != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
        i += 1
        opened_tag = nested[-1]
        if end_tag and end_tag != opened_tag.tag:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                f'expected "</{opened_tag.tag}>", found "</{end_tag}>"'
            )
        nested.pop()
        if utf16 > opened_tag.offset:
            inner = "".join(out[opened_tag.start :])
            _close(opened_tag, utf16 - opened_tag.offset, inner, entities)
    if nested:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{nested[-1].tag}"')
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)  # a language belongs to a <pre> block only
    entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return FormattedText("".join(out), tuple(entities))


def _start_tag(source: str, begin: int, i: int) -> tuple[int, tuple[str, str]]:
    """Read a start tag from after its "<"; returns where it ends, its name and argument."""
    text = source[:-1]
    while source[i] not in _SPACES and source[i] != ">":
        i += 1
    if source[i] == "\0":
        raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
    tag = source[begin + 1 : i].lower()
    if tag not in SUPPORTED_TAGS:
        raise EntityParseError(
            f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
        )
    argument = ""
    while source[i] != ">":
        while source[i] != "\0" and source[i] in _SPACES:
            i += 1
        if source[i] == ">":
            break
        name_begin = i
        while source[i] not in _SPACES and source[i] not in "=>":
            i += 1
        name = source[name_begin:i]
        if not name:
            where = _byte_offset(text, begin)
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {where}'
            )
        while source[i] != "\0" and source[i] in _SPACES:
            i += 1
        if source[i] != "=":
            if tag == "blockquote" and name == "expandable":
                argument = "expandable"  # the one attribute Telegram takes without a value
                continue
            raise EntityParseError(
                "Expected equal sign in declaration of an attribute of the tag "
                f'"{tag}" at byte offset {_byte_offset(text, begin)}'
            )
        i += 1
        while source[i] != "\0" and source[i] in _SPACES:
            i += 1
        if source[i] == "\0":
            raise EntityParseError(
                f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
            )
        value, i = _attribute_value(source, text, i)
        if source[i] == "\0":
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        if tag == "a" and name == "href":
            argument = value
        elif tag == "code" and name == "class" and value.startswith("language-"):
            argument = value.removeprefix("language-")
        elif (tag == "span" and name == "class" and value.startswith("tg-")) or (
            tag == "tg-emoji" and name == "emoji-id"
        ):
            argument = value.removeprefix("tg-") if tag == "span" else value
    if tag == "span" and argument != "spoiler":
        raise EntityParseError(
            f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(text, begin)}'
        )
    return i + 1, (tag, argument)


def _attribute_value(source: str, text: str, i: int) -> tuple[str, int]:
    if source[i] not in "'\"":
        # A name token: letters, digits, periods and hyphens, not case sensitive.
        begin = i
        while (source[i].isascii() and source[i].isalnum()) or source[i] in ".-":
            i += 1
        if source[i] not in _SPACES and source[i] != ">":
            raise EntityParseError(
                f"Unexpected end of name token at byte offset {_byte_offset(text, begin)}"
            )
        return source[begin:i].lower(), i
    quote = source[i]
    i += 1
    value: list[str] = []
    while source[i] != quote and source[i] != "\0":
        if source[i] == "&":
            decoded = _decode_character_reference(source, i)
            if decoded is not None:
                value.append(decoded[0])
                i = decoded[1]
                continue
        value.append(source[i])
        i += 1
    if source[i] == quote:
        i += 1
    return "".join(value), i


def _close(opened: _Open, length: int, inner: str, entities: list[dict[str, Any]]) -> None:
    """Add the entity a closed tag makes, as TDLib does."""
    entity: dict[str, Any] = {"offset": opened.offset, "length": length}
    last = entities[-1] if entities else None
    same_span = last is not None and last["offset"] == opened.offset and last["length"] == length
    if opened.tag in _SIMPLE_ENTITIES:
        entity["type"] = _SIMPLE_ENTITIES[opened.tag]
    elif opened.tag == "tg-emoji":
        if not opened.argument.isdigit() or int(opened.argument) == 0:
            raise EntityParseError("Invalid custom emoji identifier specified")
        entity.update(type="custom_emoji", custom_emoji_id=opened.argument)
    elif opened.tag == "a":
        url = opened.argument or inner
        if not url.strip():
            return  # TDLib drops a link it cannot check
        entity.update(type="text_link", url=url)
    elif opened.tag == "blockquote":
        entity["type"] = "expandable_blockquote" if opened.argument else "blockquote"
    elif opened.tag == "pre":
        if same_span and last is not None and last["type"] == "code" and last.get("language"):
            last["type"] = "pre"
            return
        entity["type"] = "pre"
    else:  # code
        if same_span and last is not None and last["type"] == "pre" and opened.argument:
            last["language"] = opened.argument
            return
        entity["type"] = "code"
        if opened.argument:
            entity["language"] = opened.argument  # dropped again unless a <pre> wraps it
    entities.append(entity)


def clean(formatted: FormattedText, *, allow_empty: bool) -> FormattedText:
    """Clean text as Telegram does before it stores a message; raises EmptyText if nothing is left.

    Control characters become spaces, \\r and a few invisible characters go, and spaces and
    newlines are trimmed at the end and, before the first entity, at the start.
    """
    entities = [dict(entity) for entity in formatted.entities]
    if _UNCLEAN.search(formatted.text) is None:
        return _trimmed(formatted.text, entities, allow_empty=allow_empty)
    chars: list[str] = []
    shift: list[tuple[int, int]] = []  # (utf16 offset in the input, units dropped up to there)
    dropped = 0
    offset = 0
    for char in formatted.text:
        units = utf16_length(char)
        if char in _DROPPED:
            dropped += units
            shift.append((offset + units, dropped))
        else:
            chars.append(" " if ord(char) < 32 and char != "\n" else char)
        offset += units

    def moved(position: int) -> int:
        return position - max((d for at, d in shift if at <= position), default=0)

    for entity in entities:
        end = moved(entity["offset"] + entity["length"])
        entity["offset"] = moved(entity["offset"])
        entity["length"] = end - entity["offset"]
    entities = [entity for entity in entities if entity["length"] > 0]
    return _trimmed("".join(chars), entities, allow_empty=allow_empty)


def _trimmed(text: str, entities: list[dict[str, Any]], *, allow_empty: bool) -> FormattedText:
    """Trim spaces and newlines as TDLib does: at the end, and at the start before any entity."""
    stripped = text.rstrip(" \n")
    if not stripped:
        if allow_empty:
            return FormattedText("")
        raise EmptyText("Message must be non-empty")
    end = utf16_length(stripped)
    for entity in entities:
        entity["length"] = min(entity["length"], end - entity["offset"])
    entities = [entity for entity in entities if entity["length"] > 0]
    first_entity = min((entity["offset"] for entity in entities), default=end)
    lead = len(stripped) - len(stripped.lstrip(" \n"))
    lead = min(lead, first_entity)  # the leading white space is ASCII: one unit per character
    for entity in entities:
        entity["offset"] -= lead
    return FormattedText(stripped[lead:], tuple(entities))


def plain_text(text: str, parse_mode: str | None) -> str:
    """What a user sees of a text as sent (no clean-up); the raw text if it does not parse."""
    if (parse_mode or "").lower() != "html":
        return text
    try:
        return parse_html(text).text
    except EntityParseError:
        return text
