"""Refusals of the embeddable callback button: the origins a store allows, and the embed page.

Keys as in the other catalogue modules (`code` or `code.detail`).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

MESSAGES = {
    # registry/merchants/embed.py: the list of origins allowed to embed a store's button
    "invalid.origins_list": _l("'origins' must be a list of web origins, such as "
                               "[\"https://shop.example.com\"]."),
    "invalid.origins_count": _l("At most %(limit)s sites may embed a store's callback button."),
    "invalid.origin": _l("'%(value)s' is not a web origin: write the scheme and the host, such as "
                         "https://shop.example.com, with a port if it has one."),
    "invalid.origin_path": _l("'%(value)s' must be only the scheme, the host and the port, without "
                              "a path, query or fragment."),
    "invalid.origin_scheme": _l("'%(value)s' must start with https:// (http:// only for localhost, "
                                "outside production)."),
    # registry/callbacks/embed.py: the embed page framed by a site not on the store's list
    "forbidden.embed_origin": _l("This site may not show this store's callback button."),
}
