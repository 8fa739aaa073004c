"""The outbox of urgent alerts to supervisors."""

from __future__ import annotations

from domain.models import AlertDelivery
from storage.db import Database, utc_now
from storage.members import member_by_id

# The retry job runs every minute: this keeps trying through a day of outage. An urgent
# alert is worth more than the log noise; only an answer that can never succeed stops it.
MAX_ATTEMPTS = 24 * 60


async def pending_alerts(db: Database, report_id: int | None = None) -> list[AlertDelivery]:
    """Alerts not yet sent, oldest first; only one report's when report_id is given."""
    rows = await db.fetch_all(
        "SELECT id, report_id, recipient_id, attempts FROM alert_deliveries"
        " WHERE status = 'pending' AND (:report IS NULL OR report_id = :report) ORDER BY id",
        {"report": report_id},
    )
    deliveries = []
    for row in rows:
        recipient = await member_by_id(db, row["recipient_id"])
        if recipient is None:
            await mark_alert_failed(db, row["id"], "recipient missing", permanent=True)
            continue
        deliveries.append(AlertDelivery(row["id"], row["report_id"], recipient, row["attempts"]))
    return deliveries


async def mark_alert_sent(db: Database, delivery_id: int) -> None:
    async with db.transaction() as connection:
        await connection.execute(
            "UPDATE alert_deliveries SET status = 'sent', sent_at = ?, attempts = attempts + 1"
            " WHERE id = ?",
            (utc_now().isoformat(), delivery_id),
        )


async def mark_alert_failed(db: Database, delivery_id: int, error: str, permanent: bool) -> bool:
    """Count a failed attempt; give up when it cannot succeed or has failed too often.

    Returns whether the delivery was given up, so the caller can say so loudly.
    """
    async with db.transaction() as connection:
        await connection.execute(
            "UPDATE alert_deliveries SET attempts = attempts + 1, last_error = ?,"
            " status = CASE WHEN ? OR attempts + 1 >= ? THEN 'failed' ELSE 'pending' END"
            " WHERE id = ?",
            (error[:500], int(permanent), MAX_ATTEMPTS, delivery_id),
        )
        async with connection.execute(
            "SELECT status FROM alert_deliveries WHERE id = ?", (delivery_id,)
        ) as cursor:
            row = await cursor.fetchone()
    return row is not None and row["status"] == "failed"
