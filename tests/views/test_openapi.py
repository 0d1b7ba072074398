"""The OpenAPI document: valid 3.1, the same routes as the app, each guard and body described
(goals 14 and 32)."""

import re
from datetime import UTC, datetime, timedelta

from factories import USER_PASSWORD
from openapi_spec_validator import validate
from tokens import user_bearer_headers

from gateway.openapi import LINKS, UNDOCUMENTED, build_document, document_for

ERROR_STATUSES = {"400", "401", "403", "404", "409", "422", "429", "503"}


def operations(document):
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


def template(rule: str) -> str:
    """`/v1/skills/<uuid:skill_id>` → `/v1/skills/{skill_id}`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def routes(app):
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in UNDOCUMENTED or getattr(
            app.view_functions[rule.endpoint], "web_page", False
        ):
            continue
        path = template(rule.rule)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            found.add((method, path))
    return found


def each_operation(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def resolve(document, schema):
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def open_objects(document, schema, where, seen=None):
    """Object schemas under `schema` that let unknown properties through."""
    seen = set() if seen is None else seen
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return []
        seen.add(schema["$ref"])
    schema = resolve(document, schema)
    found = []
    if schema.get("type") == "object" and schema.get("additionalProperties") is not False:
        found.append(where)
    for name, prop in schema.get("properties", {}).items():
        found += open_objects(document, prop, f"{where}.{name}", seen)
    if "items" in schema:
        found += open_objects(document, schema["items"], f"{where}[]", seen)
    return found


def test_the_document_is_valid_openapi_3_1(client):
    response = client.get("/openapi.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_the_document_is_public(client):
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200


def test_the_document_and_the_url_map_have_the_same_operations(app, client):
    document = client.get("/openapi.json").get_json()

    assert operations(document) ^ routes(app) == set()
    assert len(operations(document)) >= 10


def test_a_new_route_appears_with_its_guard(app):
    def forgotten():
        """Describe me."""

    forgotten.required_scope = "admin"  # type: ignore[attr-defined]
    app.add_url_rule("/v1/admin/things/<int:thing_id>", "things", forgotten, methods=["DELETE"])

    document = build_document(app)

    assert operations(document) ^ routes(app) == set()
    operation = document["paths"]["/v1/admin/things/{thing_id}"]["delete"]
    assert operation["summary"] == "Describe me."
    assert operation["security"] == [{"oauth2": ["admin"]}, {"bearer": ["admin"]}]
    assert operation["parameters"][0]["schema"] == {"type": "integer"}
    validate(document)


def test_every_protected_operation_lists_its_scope(app):
    document = document_for(app)
    scopes = {
        f"{method} {template(rule.rule)}": getattr(
            app.view_functions[rule.endpoint], "required_scope", None
        )
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
    }

    assert any(scopes.values())
    for label, operation in each_operation(document):
        scope = scopes[label]
        if scope is None:
            assert operation["security"] in ([], [{"clientSecretBasic": []}, {}]), label
            continue
        assert operation["security"] == [{"oauth2": [scope]}, {"bearer": [scope]}], label
        assert operation["x-required-scope"] == scope, label
        assert {"401", "403", "429", "503"} <= set(operation["responses"]), label


def test_the_scopes_and_the_token_url_are_declared(app):
    schemes = document_for(app)["components"]["securitySchemes"]

    flow = schemes["oauth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "http://127.0.0.1:8080/oauth/token"
    assert {"transcripts:read", "admin", "ingest"} <= set(flow["scopes"])
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An access token from /oauth/token.",
    }


def test_response_schemas_forbid_additional_properties(app):
    document = document_for(app)
    described = 0
    open_ = []
    for label, operation in each_operation(document):
        for status, response in operation["responses"].items():
            for media in response.get("content", {}).values():
                described += 1
                found = open_objects(document, media["schema"], f"{label} {status}")
                # `details` is free-form by design: a parameter name → its messages
                open_ += [where for where in found if not where.endswith(".details")]

    assert described > 30
    assert open_ == []


def test_developer_operations_describe_their_bodies_and_parameters(app):
    paths = document_for(app)["paths"]

    listing = paths["/v1/skills/{skill_id}/interactions"]["get"]
    assert listing["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/InteractionPage"
    }
    query = {p["name"]: p for p in listing["parameters"] if p["in"] == "query"}
    assert set(query) == {
        "since",
        "until",
        "intent",
        "outcome",
        "order_ref",
        "user",
        "session",
        "q",
        "limit",
        "cursor",
    }
    assert query["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 1000}
    assert query["since"]["schema"] == {"type": "string", "format": "date-time"}
    skill_id = next(p for p in listing["parameters"] if p["in"] == "path")
    assert skill_id["schema"] == {"type": "string", "format": "uuid"}
    for path in (
        "/v1/developer",
        "/v1/skills",
        "/v1/skills/{skill_id}",
        "/v1/skills/{skill_id}/interactions/{interaction_id}",
    ):
        assert "schema" in paths[path]["get"]["responses"]["200"]["content"]["application/json"]


def test_every_error_response_is_the_envelope(app):
    document = document_for(app)
    envelope = document["components"]["schemas"]["ErrorEnvelope"]

    assert set(envelope["required"]) == {"error", "error_description", "details"}
    for label, operation in each_operation(document):
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                continue
            assert status in ERROR_STATUSES, label
            (ref,) = [media["schema"]["$ref"] for media in response["content"].values()]
            assert ref == "#/components/schemas/ErrorEnvelope", (label, status)
        if "422" in operation["responses"] or "404" in operation["responses"]:
            assert label.split()[1].startswith("/v1/"), label


def test_the_oauth_endpoints_take_forms(app):
    paths = document_for(app)["paths"]

    for path in ("/oauth/token", "/oauth/revoke", "/oauth/introspect"):
        body = paths[path]["post"]["requestBody"]["content"]
        assert list(body) == ["application/x-www-form-urlencoded"], path
    token_form = resolve(
        document_for(app),
        paths["/oauth/token"]["post"]["requestBody"]["content"][
            "application/x-www-form-urlencoded"
        ]["schema"],
    )
    assert token_form["required"] == ["grant_type"]
    assert token_form["properties"]["grant_type"]["enum"] == ["client_credentials"]


def test_the_document_is_built_once_per_app(app, client):
    first = client.get("/openapi.json").get_json()

    assert document_for(app) is document_for(app)
    assert client.get("/openapi.json").get_json() == first


# --- links: where an answer holds an id a later operation takes


def operation_by_id(document):
    return {
        operation["operationId"]: (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def success(operation):
    return next(r for status, r in operation["responses"].items() if status.startswith("2"))


def schema_at(document, schema, pointer):
    """The schema of what a JSON pointer reaches in a body `schema` describes, or None."""
    for part in pointer.strip("/").split("/"):
        schema = resolve(document, schema)
        if part.isdigit():
            schema = schema.get("items")
        else:
            schema = schema.get("properties", {}).get(part)
        if schema is None:
            return None
    return resolve(document, schema)


def expressions(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from expressions(item)
    elif isinstance(value, str) and value.startswith("$"):
        yield value


def test_every_link_leads_to_a_documented_operation_with_what_it_takes(app):
    document = document_for(app)
    targets = operation_by_id(document)
    linked = 0

    for label, operation in each_operation(document):
        path = label.split()[1]
        answer = success(operation)
        assert set(answer.get("links", {})) == set(LINKS.get(operation["x-endpoint"], {})), label
        for name, link in answer.get("links", {}).items():
            linked += 1
            _method, target_path, target = targets[link["operationId"]]
            wanted = {p["name"] for p in target["parameters"] if p["in"] == "path"}
            # every path parameter of the target, and nothing else, comes from the link
            assert set(link.get("parameters", {})) == wanted, (label, name)
            assert ("requestBody" in link) <= ("requestBody" in target), (label, name)
            body = answer["content"]["application/json"]["schema"]
            for expression in expressions(link):
                if expression.startswith("$request.path."):
                    assert "{" + expression.removeprefix("$request.path.") + "}" in path
                    continue
                assert expression.startswith("$response.body#/"), expression
                reached = schema_at(document, body, expression.removeprefix("$response.body#"))
                assert reached is not None, (label, name, expression)
                assert reached.get("type") in ("string", "integer"), (label, name, expression)

    assert linked >= 20


def pointer(body, expression):
    for part in expression.removeprefix("$response.body#/").split("/"):
        body = body[int(part)] if part.isdigit() else body[part]
    return body


def follow(client, document, answer, link, *, headers, path_parameters=None, body=None):
    """Send the request a link describes, with the values it takes from `answer` (and the
    caller's own `body` fields, which a link leaves to the caller)."""
    method, path, _operation = operation_by_id(document)[link["operationId"]]
    for name, expression in link.get("parameters", {}).items():
        if expression.startswith("$request.path."):
            value = (path_parameters or {})[expression.removeprefix("$request.path.")]
        else:
            value = pointer(answer, expression)
        path = path.replace("{" + name + "}", str(value))
    if "requestBody" in link:
        body = {
            **(body or {}),
            **{
                key: pointer(answer, value) if str(value).startswith("$") else value
                for key, value in link["requestBody"].items()
            },
        }
    return client.open(path, method=method.upper(), json=body, headers=headers)


def test_a_new_developers_links_lead_to_that_developer(app, client, make, bearer):
    document = document_for(app)
    admin = bearer(make.client(kind="admin"))
    created = client.post(
        "/v1/admin/developers",
        json={"name": "Linked Ltd", "contact_email": "ops@linked.example"},
        headers=admin,
    )
    assert created.status_code == 201, created.get_json()
    developer = created.get_json()
    links = success(document["paths"]["/v1/admin/developers"]["post"])["links"]

    shown = follow(client, document, developer, links["ShowDeveloper"], headers=admin)
    assert shown.status_code == 200 and shown.get_json()["id"] == developer["id"]
    grants = follow(client, document, developer, links["ListGrants"], headers=admin)
    assert grants.status_code == 200, grants.get_json()
    issued = follow(client, document, developer, links["CreateClient"], headers=admin)
    assert issued.status_code == 201, issued.get_json()
    assert issued.get_json()["developer_id"] == developer["id"]

    client_links = success(document["paths"]["/v1/admin/clients"]["post"])["links"]
    rotated = follow(
        client, document, issued.get_json(), client_links["RotateSecret"], headers=admin, body={}
    )
    assert rotated.status_code == 200, rotated.get_json()
    assert rotated.get_json()["client_id"] == issued.get_json()["client_id"]
    shown = follow(client, document, issued.get_json(), client_links["ShowClient"], headers=admin)
    assert shown.get_json()["client_id"] == issued.get_json()["client_id"]


def test_a_deletion_receipts_link_leads_to_its_progress(app, client, make, bearer):
    document = document_for(app)
    user, login = make.user_with_password(USER_PASSWORD)
    skill = make.skill(make.developer())
    make.consent(user, skill)
    make.interaction(skill, user, occurred_at=datetime.now(UTC) - timedelta(hours=1))
    headers = user_bearer_headers(client, login, USER_PASSWORD)
    receipt = client.delete("/v1/me/interactions", headers=headers)
    assert receipt.status_code == 200, receipt.get_json()
    links = success(document["paths"]["/v1/me/interactions"]["delete"])["links"]

    progress = follow(
        client, document, receipt.get_json(), links["FollowDeletion"], headers=headers
    )

    assert progress.status_code == 200, progress.get_json()
    assert progress.get_json()["id"] == receipt.get_json()["id"]
    assert progress.get_json()["interactions"] == 1
