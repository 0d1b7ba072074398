"""Every route × method × audience, listed in route_inventory.txt with the answer it gets and
whether it changes the database; the list is complete, and every line holds when called."""

from collections import Counter

import pytest
from security.hygiene import problems
from security.world import (
    AUDIENCES,
    INVENTORY,
    build_world,
    changed_tables,
    outcome_of,
    read_inventory,
    request_for,
    route_methods,
)

from gateway import CACHEABLE_ENDPOINTS


def test_the_inventory_lists_every_route_and_method_and_nothing_else(app):
    routes = set(route_methods(app))
    listed = read_inventory()
    in_file = {(line.method, line.rule) for line in listed}
    assert sorted(routes - in_file) == [], f"routes missing from {INVENTORY.name}"
    assert sorted(in_file - routes) == [], f"{INVENTORY.name} lists routes that do not exist"
    # each route and method once for every audience: no audience left out, none twice
    audiences = Counter((line.method, line.rule, line.audience) for line in listed)
    assert [key for key, n in audiences.items() if n > 1] == []
    for method, rule in sorted(routes):
        have = {line.audience for line in listed if (line.method, line.rule) == (method, rule)}
        assert have == set(AUDIENCES), (method, rule, set(AUDIENCES) ^ have)
    # a refusal never changes anything, whatever the file says
    assert [
        line.line for line in listed if line.outcome[0] in "45" and line.database != "same"
    ] == []


# three groups of audiences: each builds its world once (password hashing is slow on purpose)
GROUPS = [AUDIENCES[:3], AUDIENCES[3:6], AUDIENCES[6:]]


@pytest.mark.parametrize("audiences", GROUPS, ids=lambda group: "+".join(group))
def test_every_listed_call_answers_as_listed_and_a_refusal_changes_nothing(
    app, conn, make, clock, fingerprint, audiences
):
    signed_in = {"user-session", "admin-session"} & set(audiences)
    world = build_world(app, make, clock, sessions=bool(signed_in))
    rules = route_methods(app)
    http = app.test_client(use_cookies=False)
    wrong, dirty = [], []
    # every call starts from the same world: its effects are rolled back after it
    before = fingerprint.take()
    for line in read_inventory():
        if line.audience not in audiences or (line.method, line.rule) not in rules:
            continue  # another group's, or a route gone (the test above names it)
        audience = line.audience
        url, kwargs = request_for(
            app, world, audience, line.method, rules[(line.method, line.rule)]
        )
        with conn.transaction(force_rollback=True):
            response = http.open(url, **kwargs)
            after = fingerprint.take()
        body = response.get_data()
        response.close()  # a static file's answer holds the file open until closed
        outcome = outcome_of(response.status_code)
        database = "changed" if changed_tables(before, after) else "same"
        if (outcome, database) != (line.outcome, line.database):
            wrong.append(
                f"{line.line}  <- got {outcome} {database} {changed_tables(before, after)}"
            )
        found = problems(line.rule, body, response.mimetype, audio_refs=(world.audio_ref,))
        if rules[(line.method, line.rule)].endpoint not in CACHEABLE_ENDPOINTS:
            if response.headers.get("Cache-Control") != "no-store":
                found.append("not Cache-Control: no-store")
        if found:
            dirty.append(f"{line.method} {line.rule} {audience}: {found}")
    assert wrong == []
    assert dirty == []
