"""Outbound webhooks: signed (Standard Webhooks), retried, never lost.

A feature tells the marketplace what happened by calling `events.emit(type, data)` inside the
transaction of the change itself (the transactional outbox): the event and one delivery per
subscribed endpoint are rows of that transaction, so a change rolled back sends nothing and a
committed one is always sent. The scheduler process alone sends them (`delivery.deliver_due`):
each attempt is claimed with a lease, signed, POSTed and recorded; failures are retried on
`WEBHOOK_RETRY_SCHEDULE`. Clients manage their endpoints through `api.py` (scope `webhooks`).

The package stands just above `integrations` (its endpoints belong to integration clients) and
below every feature that emits into it; it never imports a feature.
"""
