"""Levels of the unit tree: which commune or ward a unit belongs to.

Vietnam's local government has two levels since July 2025: the province (tỉnh, thành
phố) and the commune or ward (xã, phường, đặc khu), under which hamlets (khối, xóm, bản)
and teams sit. A deployment's tree may also keep an older district level, or add a
level above the provinces, so the commune of a unit is found in two steps:

1. the nearest unit on its chain, itself included, whose name says it is a commune or
   ward ("Xã …", "Phường …", "Thị trấn …", "Đặc khu …");
2. failing that, its ancestor one level below the root (or itself, at that level).

A root has no commune (None).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from domain.access import UnitTree

COMMUNE_DEPTH = 1
COMMUNE_WORDS = ("xã ", "phường ", "thị trấn ", "đặc khu ")


def looks_like_commune(name: str) -> bool:
    """Whether a unit's name says it is a commune, ward, township or special zone."""
    folded = unicodedata.normalize("NFC", name).strip().casefold()
    return folded.startswith(COMMUNE_WORDS)


def commune_of(tree: UnitTree, names: Mapping[str, str], code: str) -> str | None:
    """The code of the commune or ward the unit is in (see the module's rule)."""
    if code not in tree:
        return None
    chain = (code, *tree.ancestors(code))  # nearest first, the root last
    for candidate in chain:
        if looks_like_commune(names.get(candidate, "")):
            return candidate
    if len(chain) <= COMMUNE_DEPTH:
        return None
    return chain[-1 - COMMUNE_DEPTH]
