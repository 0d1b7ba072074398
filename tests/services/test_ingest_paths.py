"""The API and the bulk importer share one ingest path: the same checks, the same rows; the API
refuses a whole batch where the importer leaves the bad records out."""

from datetime import UTC, datetime, timedelta

import pytest

from gateway.db import bind_principal
from gateway.exceptions import InvalidInput
from gateway.models import Principal
from gateway.services import ingest as ingest_service
from schemas.ingest import IngestInteractionSchema

_SCHEMA = IngestInteractionSchema()


def _record(skill: str, user: str, n: int, **fields: object) -> dict:
    return _SCHEMA.load(
        {
            "interaction_id": f"paths-{n}",
            "skill_id": skill,
            "user_id": user,
            "occurred_at": (datetime.now(UTC) - timedelta(hours=n)).isoformat(),
            "utterance": "call me at 555 123 4567",
            "outcome": "success",
            **fields,
        }
    )


@pytest.fixture
def batch(conn, make):  # type: ignore[no-untyped-def]
    skill = make.skill(make.developer())
    user_id = make.user()
    user = make.rows("SELECT platform_user_id FROM users WHERE id = %s", (user_id,))[0][
        "platform_user_id"
    ]
    bind_principal(conn, Principal("platform"))
    return [
        _record(skill, user, 1),
        _record(skill, "nobody", 2),
        _record(skill, user, 3, audio_ref="vault://a/3"),
    ]


def test_the_api_path_refuses_the_whole_batch_and_names_the_record(conn, make, batch):  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as refused:
        ingest_service.ingest_interactions(conn, batch, now=datetime.now(UTC))

    assert refused.value.details == {
        "interactions": {"1": {"user_id": ["No such user; send it first."]}}
    }
    assert make.count("interactions") == 0 and make.count("ingested_interactions") == 0


def test_the_import_path_leaves_the_bad_record_out_and_stores_the_rest(conn, make, batch):  # type: ignore[no-untyped-def]
    imported = ingest_service.import_interactions(
        conn, batch, now=datetime.now(UTC), writer=ingest_service.INSERTS
    )

    assert imported.rejected == {1: {"user_id": ["No such user; send it first."]}}
    assert sorted(imported.stored) == [0, 2]
    assert all(result.created for result in imported.stored.values())
    assert make.count("interactions") == 2 and make.count("interaction_texts") == 2 * 3

    # the API then takes the good ones as the retry they are: nothing new, the same ids
    good = [batch[0], batch[2]]
    again = ingest_service.ingest_interactions(conn, good, now=datetime.now(UTC))
    assert [r.id for r in again] == [imported.stored[0].id, imported.stored[2].id]
    assert not any(r.created for r in again)
    assert make.count("interactions") == 2
