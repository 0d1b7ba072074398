"""A skill's k-anonymous stats: weekly counts by day, intent and outcome; no query parameters."""

from marshmallow import Schema, fields


class StatsQuerySchema(Schema):
    """No parameters at all: a filter is what a differencing attack would vary."""


class StatsBucketSchema(Schema):
    key = fields.String(
        required=True, metadata={"description": "The day (YYYY-MM-DD), intent or outcome."}
    )
    interactions = fields.Integer(required=True)
    users = fields.Integer(
        required=True, metadata={"description": "Distinct users; never fewer than k."}
    )


class StatsDimensionSchema(Schema):
    buckets = fields.List(fields.Nested(StatsBucketSchema), required=True)
    suppressed = fields.Integer(
        required=True,
        metadata={"description": "Buckets folded into the rest: never named, never counted apart."},
    )
    other_interactions = fields.Integer(
        required=True,
        metadata={
            "description": "Interactions in the folded buckets together (0 when none): "
            "they always cover at least k users."
        },
    )


class StatsWeekSchema(Schema):
    week = fields.Date(required=True, metadata={"description": "The week's Monday (UTC)."})
    interactions = fields.Integer(required=True)
    users = fields.Integer(required=True)
    by_day = fields.Nested(StatsDimensionSchema, required=True)
    by_intent = fields.Nested(StatsDimensionSchema, required=True)
    by_outcome = fields.Nested(StatsDimensionSchema, required=True)


class SkillStatsSchema(Schema):
    skill_id = fields.UUID(required=True)
    k = fields.Integer(
        required=True, metadata={"description": "Your tier's k: the fewest users a bucket shows."}
    )
    since = fields.Date(required=True, metadata={"description": "The first week's Monday."})
    until = fields.Date(
        required=True, metadata={"description": "The Monday after the last week (exclusive)."}
    )
    weeks = fields.List(
        fields.Nested(StatsWeekSchema),
        required=True,
        metadata={"description": "Weeks of at least k users, newest first."},
    )
    suppressed_weeks = fields.Integer(
        required=True,
        metadata={"description": "Weeks with some users, but fewer than k: not shown."},
    )
