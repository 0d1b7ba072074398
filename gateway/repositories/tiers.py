"""The tiers table: what each whitelist tier allows."""

from gateway.models import Row, Tier

# Rule 3, the retention window: nothing older than the tier's retention days (the service
# turns the tier into `not_before`).
WITHIN_RETENTION = "i.occurred_at >= %(not_before)s"


def tier_from_row(row: Row) -> Tier:
    """Build a Tier from a row that carries the tiers table's columns."""
    return Tier(
        name=row["name"],
        transcripts_readable=row["transcripts_readable"],
        fields=tuple(row["fields"]),
        retention_days=row["retention_days"],
        redaction_policy=row["redaction_policy"],
        page_size=row["page_size"],
        rate_limit=row["rate_limit"],
        k_threshold=row["k_threshold"],
        description=row["description"],
    )
