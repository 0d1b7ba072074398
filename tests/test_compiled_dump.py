"""The compiled dumps of the transcript reads give exactly what their marshmallow schemas give."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, fields

from schemas.compiled import compile_dump
from schemas.interactions import ConversationSchema, InteractionPageSchema, InteractionSchema

text = st.text(max_size=30)
maybe_text = st.none() | text
moment = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))]
    ),
)
slot = st.fixed_dictionaries({"name": text, "value": text})
interaction = st.fixed_dictionaries(
    {"id": st.uuids() | st.uuids().map(str), "occurred_at": moment, "user": text},
    optional={
        "session": maybe_text,
        "intent": maybe_text,
        "utterance": maybe_text,
        "response": maybe_text,
        "slots": st.none() | st.lists(slot, max_size=3),
        "outcome": maybe_text,
        "order_ref": maybe_text,
        # not in the schema: dropped by both
        "audio_ref": text,
        "device_serial": text,
    },
)


@settings(max_examples=200, deadline=None)
@given(interaction)
def test_one_interaction(item):
    assert compile_dump(InteractionSchema)(item) == InteractionSchema().dump(item)


@settings(max_examples=100, deadline=None)
@given(st.lists(interaction, max_size=5), st.none() | text)
def test_a_page(items, cursor):
    page = {"interactions": items, "next_cursor": cursor}
    dumped = compile_dump(InteractionPageSchema)(page)
    assert dumped == InteractionPageSchema().dump(page)
    # the same keys in the same order, so the same bytes on the wire
    assert [list(i) for i in dumped["interactions"]] == [
        list(i) for i in InteractionPageSchema().dump(page)["interactions"]
    ]


@settings(max_examples=100, deadline=None)
@given(text, st.lists(interaction, max_size=5))
def test_a_conversation(session, turns):
    body = {"session": session, "turns": turns}
    assert compile_dump(ConversationSchema)(body) == ConversationSchema().dump(body)


def test_a_field_it_cannot_compile_is_refused_when_built():
    class WithNumber(Schema):
        n = fields.Decimal()

    class Renamed(Schema):
        n = fields.String(attribute="m")

    for schema in (WithNumber, Renamed):
        with pytest.raises(TypeError):
            compile_dump(schema)


def test_a_uuid_becomes_its_text():
    one = uuid.uuid4()
    dumped = compile_dump(InteractionSchema)({"id": one, "occurred_at": datetime.now(UTC)})
    assert dumped["id"] == str(one)
