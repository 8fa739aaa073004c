"""Privacy by level: who is shown the names of reporters and of the people involved.

``BOT_PRIVACY_LEVEL`` is a depth in the unit tree: 0 is a root (the province), 1 the units
right below it (communes and wards, xã and phường), 2 theirs (khối, xóm, bản), and so on.
A recipient attached at that depth or deeper is shown names; one attached above it (a
smaller depth) is shown the facts without the names and phone numbers of the reporter
and of the people involved. The default, 1, keeps names at the commune level and below:
a province officer sees what happened, where and when, not who said so.

The rule is about the recipient's unit, not their role: an admin attached to the
province sees no names in Telegram either (the command line's export, run on the server,
keeps everything). A recipient whose unit is not in the tree is shown no names: every
rule here fails closed.

Pure functions: the caller hands in the tree and the setting, and renders the hidden
mark in the recipient's language (message ``privacy.hidden``).
"""

from __future__ import annotations

import re

from domain.access import UnitTree

# Names are shown at the commune level and below unless the deployment says otherwise.
DEFAULT_PRIVACY_LEVEL = 1
MAX_PRIVACY_LEVEL = 20
PHONE_MASK = "•••"

# A Vietnamese phone number as people type one: 0 or +84 / 84, then 8 to 10 more digits,
# in groups split by single spaces, dots or dashes ("0912 345 678", "+84.912.345.678").
# Not inside a longer run of digits or a decimal (coordinates such as 18.679600 start
# with neither 0 nor 84 and are left alone). One pass, no nested repetition: linear time.
_PHONE = re.compile(r"(?<![\d.,])(?:\+84|84|0)(?:[ .\-]?\d){8,10}(?![\d])")


def shows_names(recipient_depth: int | None, level: int) -> bool:
    """Whether a recipient attached at this depth of the tree may be shown names.

    ``recipient_depth`` is ``UnitTree.depth`` of their unit (0 for a root; None for a
    unit the tree does not know, which is shown no names).
    """
    if recipient_depth is None or recipient_depth < 0:
        return False
    return recipient_depth >= max(level, 0)


def names_shown_to(tree: UnitTree, unit_code: str, level: int) -> bool:
    """Whether someone attached to this unit may be shown names (see ``shows_names``)."""
    return shows_names(tree.depth(unit_code), level)


def mask_phones(text: str) -> str:
    """Replace every phone number in free text with a mask; the rest is kept as typed."""
    return _PHONE.sub(PHONE_MASK, text)


def name_or_hidden(name: str, shown: bool, hidden: str) -> str:
    """A person's name, or the hidden mark when names are not shown."""
    return name if shown else hidden


def people_or_hidden(people: str | None, shown: bool, hidden: str) -> str | None:
    """The "people involved" answer: names and phones, all of it, hidden when not shown.

    It is free text made of names (and often phone numbers), so nothing of it is kept:
    what is hidden cannot be told apart from what is not. None (not answered) stays None.
    """
    if people is None or shown:
        return people
    return hidden if people.strip() else people


def free_text(text: str, shown: bool) -> str:
    """A description, an address or an action: kept, with phone numbers masked when names
    are not shown. Names inside free text cannot be found reliably and are left; the
    fields that hold names (reporter, people involved) are hidden whole."""
    return text if shown else mask_phones(text)
