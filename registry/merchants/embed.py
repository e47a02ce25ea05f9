"""Who may embed a store's callback button: the web origins allowed to frame its flow.

A merchant (or the integration client that imported the store) keeps a short list of origins,
`scheme://host[:port]` as a browser writes `window.location.origin`. The embed page
(`callbacks.embed`) renders only for an origin on the list and tells the browser, with
`Content-Security-Policy: frame-ancestors`, that no other page may frame it.
"""

from __future__ import annotations

from registry.core.errors import InvalidInput, NotFound
from registry.core.extensions import db
from registry.core.text import check_text
from registry.core.urls import split_url, valid_host
from registry.merchants.models import EmbedOrigin, Merchant

MAX_ORIGINS = 20
MAX_ORIGIN_LENGTH = 255
DEFAULT_PORTS = {"https": 443, "http": 80}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]"}


def parse_origin(value: object, field: str, *, allow_http_localhost: bool) -> str:
    """`value` as a browser writes an origin (`https://shop.example.com`, lower case, no default
    port), or a 422 naming `field`: https only (http for localhost outside production), a host,
    an optional port, and no path, query or fragment."""
    if not isinstance(value, str):
        raise InvalidInput("invalid_type.text", field=field, name=field)
    text = check_text(value, field).strip()
    if len(text) > MAX_ORIGIN_LENGTH:
        raise InvalidInput("too_long", field=field, name=field, limit=MAX_ORIGIN_LENGTH)
    refused = {"field": field, "value": text}
    split = split_url(text)
    if split is None:
        raise InvalidInput("invalid.origin", **refused)
    parts, port = split
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if "[" in parts.netloc:
        host = f"[{host}]"
    if scheme not in DEFAULT_PORTS or not host or parts.username is not None or not valid_host(host):
        raise InvalidInput("invalid.origin", **refused)
    if parts.path not in ("", "/") or parts.query or parts.fragment or text.endswith(("?", "#")):
        raise InvalidInput("invalid.origin_path", **refused)
    if scheme == "http" and not (allow_http_localhost and host in LOCAL_HOSTS):
        raise InvalidInput("invalid.origin_scheme", **refused)
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def parse_origins(values: object, *, allow_http_localhost: bool, field: str = "origins") -> list[str]:
    """A list of origins, each checked (`origins.2` names the third), without repeats."""
    if not isinstance(values, list):
        raise InvalidInput("invalid.origins_list", field=field)
    parsed: list[str] = []
    for index, value in enumerate(values):
        origin = parse_origin(value, f"{field}.{index}", allow_http_localhost=allow_http_localhost)
        if origin not in parsed:
            parsed.append(origin)
    if len(parsed) > MAX_ORIGINS:
        raise InvalidInput("invalid.origins_count", field=field, limit=MAX_ORIGINS)
    return parsed


def embed_origins(merchant: Merchant) -> list[str]:
    return [row.origin for row in merchant.embed_origins]


def set_embed_origins(merchant: Merchant, origins: object, *, allow_http_localhost: bool) -> list[str]:
    """Replace the store's list (all checked before any is stored); an empty list stops every
    embedding."""
    parsed = parse_origins(origins, allow_http_localhost=allow_http_localhost)
    kept = {row.origin: row for row in merchant.embed_origins}
    merchant.embed_origins = [kept.get(origin) or EmbedOrigin(origin=origin) for origin in parsed]
    db.session.flush()
    return embed_origins(merchant)


def editable_by(merchant_id: int, *, owner_id: int | None = None, client_id: int | None = None) -> Merchant:
    """The store if its owner or the integration client that imported it asks; otherwise 404,
    so that existence is not revealed."""
    merchant = db.session.get(Merchant, merchant_id)
    if merchant is None or not ((owner_id is not None and merchant.owner_id == owner_id)
                                or (client_id is not None and merchant.client_id == client_id)):
        raise NotFound("not_found.store")
    return merchant


def origin_allowed(merchant: Merchant, origin: object) -> str | None:
    """`origin` as the list holds it, if the list holds it; else None (for anything not an origin
    too)."""
    try:
        parsed = parse_origin(origin, "origin", allow_http_localhost=True)
    except InvalidInput:
        return None
    return parsed if parsed in embed_origins(merchant) else None
