"""The per-deployment catalogue of incident categories and activity types."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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


async def seed_catalogue(db: Database, kind: str, items: Sequence[CatalogueItem]) -> bool:
    """Load the default catalogue of a kind if the deployment has none yet.

    A deployment that has one keeps it; items of it that still carry a shipped item's
    code and names, but no short label yet (seeded before labels existed), get the
    shipped label. A renamed item is the deployment's own and is left as it is.
    """

    def seed(tx: Tx) -> bool:
        if tx.one("SELECT 1 FROM catalogue_items WHERE kind = ? LIMIT 1", (kind,)):
            tx.executemany(
                "UPDATE catalogue_items SET short_vi = ?, short_en = ?"
                " WHERE kind = ? AND code = ? AND name_vi = ? AND name_en = ?"
                " AND short_vi = '' AND short_en = ''",
                [
                    (i.short_vi, i.short_en, kind, i.code, i.name_vi, i.name_en)
                    for i in items
                    if i.short_vi or i.short_en
                ],
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
