"""Every JSON answer a test receives from `/api/v1` is checked against the served document.

The test client (`conftest.IsolatedClient`) passes each response here. The document is the
one the app serves (`/api/v1/openapi.json`), built once per app; openapi-core checks the
status is documented for that path and method and the body matches its schema.
"""

from __future__ import annotations

import io

from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from werkzeug.wrappers import Request

from registry.core.openapi.views import document

_validators: dict[int, OpenAPI] = {}


def _validator(app) -> OpenAPI:
    # One document per app object; apps of one session build the same document, so the
    # first one's validator serves all (building it costs far more than a check).
    if not _validators:
        with app.test_request_context():
            _validators[0] = OpenAPI.from_dict(document())
    return _validators[0]


def check_response(app, response) -> None:
    """Fail if `response` (to a request under /api/v1) is not what the document says."""
    request = response.request
    if not request.path.startswith("/api/v1") or response.mimetype != "application/json":
        return
    # The body was read by the app: the check needs the path, method and query only.
    environ = dict(request.environ, CONTENT_LENGTH="0", **{"wsgi.input": io.BytesIO()})
    openapi_request = WerkzeugOpenAPIRequest(Request(environ))
    try:
        _validator(app).validate_response(openapi_request, WerkzeugOpenAPIResponse(response))
    except (PathNotFound, OperationNotFound):
        # No such route (a 404 or 405), or one a test added for itself: nothing to document.
        # Every route of the product has an @operation (tests/core/test_openapi.py).
        if response.status_code in (404, 405) or not _is_documented(app, request):
            return
        raise


def _is_documented(app, request) -> bool:
    try:
        endpoint, _ = app.url_map.bind("localhost").match(request.path, method=request.method)
    except Exception:  # no route matches: nothing to document
        return False
    return hasattr(app.view_functions[endpoint], "api_operation")
