"""The per-deployment catalogue of incident categories and activity types."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from domain.catalogue import FORMER_SHORT_LABELS
from domain.models import CatalogueItem
from storage.db import Database, Tx


async def all_catalogues(db: Database) -> dict[str, list[CatalogueItem]]:
    """Every active catalogue item, by kind, in one read."""
    rows = await db.fetch_all(
        "SELECT kind, code, name_vi, name_en, short_vi, short_en FROM catalogue_items"
        " WHERE active = 1 ORDER BY kind, position"
    )
    catalogues: dict[str, list[CatalogueItem]] = {}
    for r in rows:
        catalogues.setdefault(r["kind"], []).append(
            CatalogueItem(
                r["kind"], r["code"], r["name_vi"], r["name_en"], r["short_vi"], r["short_en"]
            )
        )
    return catalogues


async def seed_catalogue(
    db: Database,
    kind: str,
    items: Sequence[CatalogueItem],
    former: Mapping[tuple[str, str], Mapping[str, Sequence[str]]] = FORMER_SHORT_LABELS,
) -> bool:
    """Load the default catalogue of a kind if the deployment has none yet.

    A deployment that has one keeps it. In each language apart, an item of it that still
    carries a shipped item's code and name, and no short label (seeded before labels
    existed) or one the bot shipped before (``former``, by kind and code), gets the
    shipped label. A name or a label the deployment chose itself is left as it is: a
    deployment that corrected only its English name still gets the Vietnamese label.
    """

    def seed(tx: Tx) -> bool:
        if tx.one("SELECT 1 FROM catalogue_items WHERE kind = ? LIMIT 1", (kind,)):
            for item in items:
                for language, label, name in (
                    ("vi", item.short_vi, item.name_vi),
                    ("en", item.short_en, item.name_en),
                ):
                    if not label:
                        continue
                    replaced = ("", *former.get((kind, item.code), {}).get(language, ()))
                    marks = ", ".join("?" * len(replaced))
                    # The column names come from the two literals above, never from data.
                    tx.execute(
                        f"UPDATE catalogue_items SET short_{language} = ?"
                        f" WHERE kind = ? AND code = ? AND name_{language} = ?"
                        f" AND short_{language} IN ({marks})",
                        (label, kind, item.code, name, *replaced),
                    )
            return False
        tx.executemany(
            "INSERT INTO catalogue_items"
            " (kind, code, name_vi, name_en, short_vi, short_en, position)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (kind, i.code, i.name_vi, i.name_en, i.short_vi, i.short_en, n)
                for n, i in enumerate(items)
            ],
        )
        return True

    return await db.write(seed)


async def seed_catalogues(
    db: Database, defaults: Mapping[str, Sequence[CatalogueItem]]
) -> list[str]:
    """Give a new deployment the default catalogues; returns the kinds that were loaded."""
    return [kind for kind, items in defaults.items() if await seed_catalogue(db, kind, items)]
