"""A fast path through Twilio's OpenAPI specs for the requests the simulator sees all day.

openapi-core re-reads the spec for every request: it walks every path
template, then builds a deserializer, a caster, a deep-copied format checker
and a jsonschema validator for each of the ~40 properties of a form (even
absent ones) — about 10 ms of CPU for one `POST .../Calls.json`, a third of
a 2-core machine in the dispatch benchmark. Everything it builds depends
only on the operation, so here it is built once per operation, from the same
spec, with the same jsonschema validator class and format checker.

The fast path only ever *accepts*. Whenever a request is not plainly valid
(a path it cannot place, a value that does not cast, a schema error, a spec
feature it does not reproduce), it answers None and the caller asks
openapi-core, which stays the judge of every refusal and its wording. So
the one property that must hold is: whatever the fast path accepts,
openapi-core accepts too, with the same unmarshalled body (the simulator's
tests/test_validation.py checks exactly that against openapi-core).

This module finds the operation a URL names, as openapi-core's path finder
would; `spec_operations` compiles an operation once; `spec_requests` checks
a request against it.
"""

from __future__ import annotations

from urllib.parse import urljoin

from openapi_core.templating.paths.parsers import PathParser

from twilio_sim.spec_operations import Operation, OperationCompiler, Unsupported
from twilio_sim.spec_requests import form_body, has_auth, parameter_ok

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Method and URL pairs whose path look-up is remembered (then the memory starts over).
FOUND_CACHE = 1024
_MISSING = object()


class CompiledSpec:
    """One product's spec, with its operations compiled on first use."""

    def __init__(self, spec: dict, host_url: str, format_checker):
        self.spec = spec
        self.host_url = host_url
        self.format_checker = format_checker
        # The same template parser (and so the same path-variable pattern)
        # openapi-core's path finder uses, compiled once instead of per lookup,
        # with the literal text after the template's last variable: a URL can
        # only match if it ends with that text, a cheap test that skips most
        # of the regexes.
        self.paths = [
            (pattern, pattern.rpartition("}")[2], item, PathParser(pattern, post_expression="$"))
            for pattern, item in spec.get("paths", {}).items()
        ]
        self._compiler = OperationCompiler(spec, format_checker)
        self.operations: dict[tuple[str, str], Operation | None] = {}
        # What `_find` answered for a method and URL (most requests repeat a few URLs).
        self._found: dict[tuple[str, str], tuple[str, dict] | None] = {}

    def check(self, path: str, request) -> dict | None:
        """The unmarshalled form body if `request` is certainly valid, else None (ask openapi-core)."""
        found = self._find(request.method.lower(), urljoin(self.host_url, path))
        if found is None:
            return None
        pattern, variables = found
        operation = self._operation(pattern, request.method.lower())
        if operation is None:
            return None
        if operation.auth_scheme is not None and not has_auth(request, operation.auth_scheme):
            return None
        for parameter in operation.parameters:
            if not parameter_ok(parameter, variables, request.args):
                return None
        if not operation.has_body:
            return {}
        return form_body(operation, request)

    def _find(self, method: str, full_url: str) -> tuple[str, dict] | None:
        """`_search`, remembered for the last `FOUND_CACHE` URLs."""
        key = (method, full_url)
        found = self._found.get(key, _MISSING)
        if found is _MISSING:
            found = self._search(method, full_url)
            if len(self._found) >= FOUND_CACHE:
                self._found.clear()  # URLs with call SIDs in them never repeat: start over
            self._found[key] = found
        return found

    def _search(self, method: str, full_url: str) -> tuple[str, dict] | None:
        """(template, path variables) as openapi-core's APICallPathFinder would choose them.

        Literal matches first in spec order, then template matches with the
        fewest variables; the first of those whose item has `method` wins,
        and its server must be the product's host. Any other outcome (404,
        405, another server) is openapi-core's to report.
        """
        literal = []
        templated = []
        for pattern, tail, item, parser in self.paths:
            if not full_url.endswith(tail):
                continue
            if full_url.endswith(pattern):
                literal.append((pattern, item, {}))
                continue
            result = parser.search(full_url)
            if result:
                templated.append((pattern, item, result.named))
        templated.sort(key=lambda found: len(found[2]))
        for pattern, item, variables in literal + templated:
            if method not in item:
                continue
            servers = item.get("servers") or item[method].get("servers") or self.spec.get("servers")
            server_url = servers[0]["url"] if servers else ""
            if not server_url.startswith(("https://", "http://")):
                return None  # a relative or templated server: openapi-core's rules
            resolved = pattern.format(**variables) if variables else pattern
            prefix = full_url.rsplit(resolved, 1)[0]
            if prefix != server_url.removesuffix("/"):
                return None
            return pattern, variables
        return None

    def _operation(self, pattern: str, method: str) -> Operation | None:
        """The compiled operation, built on first use; None if openapi-core must check it."""
        key = (pattern, method)
        if key not in self.operations:
            try:
                self.operations[key] = self._compiler.compile(pattern, method)
            except (Unsupported, RecursionError, KeyError, TypeError, ValueError):
                # Something this compiler does not follow (a recursive or odd
                # schema): openapi-core checks this operation, slowly but right.
                self.operations[key] = None
        return self.operations[key]

    def deref(self, node):
        """`node` with every local `$ref` replaced by its target (OAS 3.0: siblings are ignored)."""
        return self._compiler.deref(node)
