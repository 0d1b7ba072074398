"""The OpenAPI document: valid 3.1, and the same routes as the app (goal 32)."""

from openapi_spec_validator import validate

from gateway.openapi import UNDOCUMENTED


def operations(document):
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


def routes(app):
    import re

    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in UNDOCUMENTED:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            found.add((method, path))
    return found


def test_the_document_is_valid_openapi_3_1(client):
    response = client.get("/openapi.json")

    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_the_document_and_the_url_map_have_the_same_operations(app, client):
    document = client.get("/openapi.json").get_json()

    assert operations(document) ^ routes(app) == set()
