"""The default catalogue shipped with the bot (editable per deployment in the database)."""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Mapping
from pathlib import Path

from domain.models import CatalogueItem

CATALOGUE_DIR = Path(__file__).parent / "catalogue"
MAX_CODE_LENGTH = 32
CODE_SHAPE = re.compile(rf"[A-Z0-9_]{{1,{MAX_CODE_LENGTH}}}")
DEFAULT_FILES = {"incident": "incident_categories.csv", "activity": "activity_types.csv"}
# A button label that fits half a phone's width: such labels share a row, two by two.
# A longer one (or a name without a short label) gets a row of its own.
MAX_SHORT_LABEL = 24
HEADER = ["code", "vi", "en", "short_vi", "short_en"]
# Deployment files written before short labels existed: buttons then show the name.
OLD_HEADER = HEADER[:3]
# Short labels the bot once shipped and has since replaced: (kind, code) to the labels
# by language. A deployment that still shows one of them, under the shipped name, gets
# the new label at its next start (storage/catalogue.py); one it chose itself is kept.
FORMER_SHORT_LABELS: Mapping[tuple[str, str], Mapping[str, tuple[str, ...]]] = {
    ("activity", "OFFENDER_SUPPORT"): {"vi": ("Giúp người vi phạm",), "en": ("Helping offenders",)},
}
log = logging.getLogger(__name__)


def read_catalogue(kind: str, path: Path) -> list[CatalogueItem]:
    """Read a code,vi,en[,short_vi,short_en] CSV into catalogue items, refusing a bad file."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames not in (HEADER, OLD_HEADER):
            raise ValueError(f"{path}: the header must be {','.join(HEADER)} (or code,vi,en)")
        items = [
            CatalogueItem(
                kind,
                (row["code"] or "").strip(),
                (row["vi"] or "").strip(),
                (row["en"] or "").strip(),
                (row.get("short_vi") or "").strip(),
                (row.get("short_en") or "").strip(),
            )
            for row in reader
        ]
    codes = [item.code for item in items]
    if len(set(codes)) != len(codes) or not all(CODE_SHAPE.fullmatch(code) for code in codes):
        raise ValueError(
            f"{path}: codes must be unique, upper-case letters, digits and _, "
            f"at most {MAX_CODE_LENGTH} long (they travel in 64-byte button data)"
        )
    if not all(item.name_vi and item.name_en for item in items):
        raise ValueError(f"{path}: every item needs a Vietnamese and an English name")
    for item in items:
        for language, label in (("vi", item.short_vi), ("en", item.short_en)):
            if len(label) > MAX_SHORT_LABEL:
                # Not refused: its button gets a row of its own (handlers/report/prompts.py).
                log.warning(
                    "%s: %s's short label (%s) %r is %d characters, over %d:"
                    " its button takes a whole row",
                    path,
                    item.code,
                    language,
                    label,
                    len(label),
                    MAX_SHORT_LABEL,
                )
    return items


def default_catalogue(kind: str) -> list[CatalogueItem]:
    return read_catalogue(kind, CATALOGUE_DIR / DEFAULT_FILES[kind])


def default_catalogues() -> dict[str, list[CatalogueItem]]:
    """Every default catalogue shipped with the bot, by kind."""
    return {kind: default_catalogue(kind) for kind in DEFAULT_FILES}
