"""The API described: the OpenAPI 3.1 document and the docs page built from it (public)."""

from typing import Any

from flask import Blueprint, current_app

from gateway.openapi import document_for

bp = Blueprint("docs", __name__)


@bp.get("/openapi.json")
def openapi_json() -> dict[str, Any]:
    return document_for(current_app)
