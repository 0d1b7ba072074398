"""The API described: the OpenAPI 3.1 document and the docs page built from it (public)."""

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, current_app, render_template
from markupsafe import Markup, escape

from gateway.openapi import OPERATIONS, TAGS, document_for

bp = Blueprint("docs", __name__)

# the page is static text: nothing to run, nothing to fetch from elsewhere
_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'none'"
)


def prose(text: str) -> Markup:
    """Descriptions are written with `code` spans, as in Markdown; everything else is escaped."""
    html = Markup("")
    for index, part in enumerate(text.split("`")):
        html += Markup("<code>{}</code>").format(part) if index % 2 else escape(part)
    return html


@dataclass
class Row:
    """One line of a parameters or fields table."""

    name: str
    type: str
    required: bool
    description: Markup = Markup("")


@dataclass
class Endpoint:
    """One operation as the page shows it."""

    anchor: str
    endpoint: str
    method: str
    path: str
    summary: str
    description: Markup
    scope: str | None
    public: bool
    parameters: list[Row]
    form: list[Row]
    response: list[Row]
    errors: list[tuple[str, Markup]]
    curl: str


@dataclass
class Group:
    """The endpoints of one audience."""

    name: str
    description: Markup
    endpoints: list[Endpoint] = field(default_factory=list)


@bp.get("/openapi.json")
def openapi_json() -> dict[str, Any]:
    return document_for(current_app)


@bp.get("/docs")
def page() -> Response:
    """The API reference, rendered on the server from the OpenAPI document."""
    document = document_for(current_app)
    html = render_template(
        "docs.html",
        info=document["info"],
        server=document["servers"][0]["url"],
        groups=groups(document),
        scopes=document["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"][
            "scopes"
        ],
        envelope=fields(document, {"$ref": "#/components/schemas/ErrorEnvelope"}),
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = _CSP
    return response


def groups(document: dict[str, Any]) -> list[Group]:
    """The operations of `document` by audience, in the order the tags are listed."""
    descriptions = {tag: prose(text) for tag, text in TAGS}
    by_name: dict[str, Group] = {}
    server = document["servers"][0]["url"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            tag = operation["tags"][0]
            group = by_name.setdefault(tag, Group(tag, descriptions.get(tag, Markup(""))))
            group.endpoints.append(_endpoint(document, server, path, method, operation))
    # within a group, in the order a reader needs them (token first); then by path
    known = list(OPERATIONS)
    for group in by_name.values():
        group.endpoints.sort(
            key=lambda e: (known.index(e.endpoint) if e.endpoint in known else len(known), e.path)
        )
    order = [tag for tag, _ in TAGS]
    return sorted(
        by_name.values(),
        key=lambda g: order.index(g.name) if g.name in order else len(order),
    )


def _endpoint(
    document: dict[str, Any], server: str, path: str, method: str, operation: dict[str, Any]
) -> Endpoint:
    scope = operation.get("x-required-scope")
    parameters = [
        Row(
            p["name"],
            f"{p['in']} · {_type(document, p.get('schema', {}))}",
            bool(p.get("required")),
            prose(p.get("description", "")),
        )
        for p in operation.get("parameters", [])
    ]
    form: list[Row] = []
    body = operation.get("requestBody", {}).get("content", {})
    for media in body.values():
        form = fields(document, media["schema"])
    success = operation["responses"].get("200", {})
    response: list[Row] = []
    for media in success.get("content", {}).values():
        if "schema" in media:
            response = fields(document, media["schema"])
    errors = [
        (status, prose(answer["description"]))
        for status, answer in operation["responses"].items()
        if not status.startswith("2")
    ]
    return Endpoint(
        anchor=operation["operationId"],
        endpoint=operation["x-endpoint"],
        method=method.upper(),
        path=path,
        summary=operation.get("summary", ""),
        description=prose(operation.get("description", "")),
        scope=scope,
        public=not operation.get("security"),
        parameters=parameters,
        form=form,
        response=response,
        errors=errors,
        curl=_curl(server, path, method.upper(), operation, scope),
    )


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def _type(document: dict[str, Any], schema: dict[str, Any]) -> str:
    """A short human description of a JSON Schema type: `string (uuid)`, `array of Skill`."""
    if "$ref" in schema:
        return str(schema["$ref"].rsplit("/", 1)[-1])
    kinds = schema.get("type", "any")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    nullable = "null" in kinds
    kinds = [kind for kind in kinds if kind != "null"] or ["null"]
    text = " or ".join(kinds)
    if text == "array":
        text = f"array of {_type(document, schema.get('items', {}))}"
    if "format" in schema:
        text += f" ({schema['format']})"
    if "enum" in schema:
        text += ": " + " | ".join(str(value) for value in schema["enum"])
    bounds = []
    if "minLength" in schema or "maxLength" in schema:
        bounds.append(f"{schema.get('minLength', 0)}–{schema.get('maxLength', '∞')} chars")
    if "minimum" in schema or "maximum" in schema:
        bounds.append(f"{schema.get('minimum', '')}–{schema.get('maximum', '')}")
    if bounds:
        text += ", " + ", ".join(bounds)
    return text + (", nullable" if nullable else "")


def fields(document: dict[str, Any], schema: dict[str, Any], prefix: str = "") -> list[Row]:
    """The properties of an object schema, nested objects flattened as `a.b` and `a[].b`."""
    schema = _resolve(document, schema)
    rows: list[Row] = []
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        rows.append(
            Row(
                prefix + name,
                _type(document, prop),
                name in required,
                prose(prop.get("description", "")),
            )
        )
        target = _resolve(document, prop)
        if target.get("type") == "object" and "properties" in target:
            rows.extend(fields(document, target, f"{prefix}{name}."))
        elif target.get("type") == "array":
            items = _resolve(document, target.get("items", {}))
            if items.get("type") == "object" and "properties" in items:
                rows.extend(fields(document, items, f"{prefix}{name}[]."))
    return rows


def _curl(server: str, path: str, method: str, operation: dict[str, Any], scope: str | None) -> str:
    url = server + path
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            url = url.replace("{" + parameter["name"] + "}", "$" + parameter["name"].upper())
    if any(p["in"] == "query" and p["name"] == "limit" for p in operation.get("parameters", [])):
        url += "?limit=20"
    lines = ["curl"]
    if method != "GET" and "requestBody" not in operation:
        lines[0] += f" -X {method}"
    if scope:
        lines.append('-H "Authorization: Bearer $TOKEN"')
    form = operation.get("requestBody", {}).get("content", {})
    if form:
        lines.append('-u "$CLIENT_ID:$CLIENT_SECRET"')
        if operation["operationId"].endswith("issue_token"):
            lines.append("-d grant_type=client_credentials")
            lines.append("-d scope=transcripts:read")
        else:
            lines.append('-d token="$TOKEN"')
    lines.append(f'"{url}"')
    return " \\\n     ".join(lines)
