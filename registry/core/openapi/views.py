"""Serving the document (`/api/v1/openapi.json`) and its reader (`/api/docs`, Swagger UI from
the package's own static files: the product works offline, so nothing comes from a CDN)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

from registry.core.openapi.operation import operation
from registry.core.openapi.spec import build_document

bp = Blueprint("openapi", __name__)

DOCUMENT_VERSION = "1.0"


def document() -> dict:
    """The app's OpenAPI document, built once (routes do not change while it runs)."""
    cached = current_app.extensions.get("openapi_document")
    if cached is None:
        cached = build_document(current_app, version=DOCUMENT_VERSION, server_url="/")
        current_app.extensions["openapi_document"] = cached
    return cached


@bp.get("/api/v1/openapi.json")
@operation(responses={200: dict}, tags=("openapi",))
def openapi_json():
    """This document: every path, body, response, error and security scheme of `/api/v1`."""
    return jsonify(document())


@bp.get("/api/docs")
def api_docs():
    """The document, readable in a browser (Swagger UI)."""
    return render_template("api_docs.html")
