"""Rule 6, protected groups: child profiles are never read; sensitive categories need cover."""

# Clauses of the developer read path's one statement (interactions `i`, users `u`, and the
# consent `c` that makes the interaction readable).

# A child profile's interactions are never readable by any developer, whatever consent says.
NOT_A_CHILD = "NOT u.is_child"

# A health or finance interaction is readable only under a consent that names its category.
SENSITIVE_CATEGORY_COVERED = (
    "(i.sensitive_category IS NULL OR i.sensitive_category = ANY (c.categories))"
)

SENSITIVE_CATEGORIES = ("health", "finance")
