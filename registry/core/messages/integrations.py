"""Refusals of the integration clients: marketplace back ends calling `/api/v1` with an `rk_` key.

Keys as in the other catalogue modules (`code` or `code.detail`).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

MESSAGES = {
    # registry/integrations/auth.py: who is calling
    "unauthorized.client_key": _l("Send an integration key: Authorization: Bearer rk_…"),
    "unauthorized.client_key_invalid": _l("This integration key is unknown or has been revoked."),
    "forbidden.scope": _l("This integration key does not have the '%(scope)s' scope."),
    # registry/accounts/auth.py: the admin part of the staff console
    "forbidden.needs_admin": _l("This needs an admin account."),
    # registry/integrations/operations.py: creating and revoking clients
    "invalid.scope": _l("Unknown scope '%(scope)s'; the scopes are %(values)s."),
    "required.scope": _l("Choose at least one scope: %(values)s."),
    "not_found.client": _l("No such integration client."),
    "conflict.client_revoked": _l("This integration client is already revoked."),
    # registry/integrations/idempotency_keys.py: the Idempotency-Key header of a client's POST
    "idempotency.invalid_key": _l("The Idempotency-Key header must be 1 to %(limit)s printable ASCII "
                                  "characters."),
    "idempotency.key_reused": _l("This Idempotency-Key was already used for another request (another "
                                 "body or path); use a new key for a new request."),
    "idempotency.in_progress": _l("A request with this Idempotency-Key is still being processed; try "
                                  "again in %(retry_after)s seconds."),
    # registry/masking/bindings.py: bindings by order (`/api/v1/bindings`)
    "binding_unavailable.store_suspended": _l("This store is suspended: no shopper can be connected to it."),
    "binding_unavailable.number_suspended": _l("This store's phone number is suspended: no shopper can be "
                                               "connected to it."),
    "binding_unavailable.no_verified_number": _l("This store has no verified phone number yet: its merchant "
                                                 "must prove one by code before shoppers can be connected."),
    "invalid.shopper_is_store": _l("'shopper_phone' is the store's own number."),
    "shopper_blocked.binding": _l("This shopper's number may not be connected to stores."),
    "conflict.binding_other_client": _l("Another integration client holds this shopper's binding with "
                                        "this store."),
    "not_found.binding": _l("No such binding."),
    "pool_exhausted": _l("No proxy number can take this pair right now; try again in %(retry_after)s "
                         "seconds."),
}
