"""The merchant import: a marketplace's stores, by its own external ids, created or updated in bulk.

Every row goes through the same operations as a store made by hand (`create_merchant`,
`update_merchant`, `add_number`, the hours and time-zone rules), each in its own savepoint: a
row that is refused is rolled back to its savepoint (on PostgreSQL the transaction stays
usable) and the others are applied. A dry run does all of it inside one more savepoint that is
rolled back at the end, so its answer is exactly what applying would answer, and nothing stays.

- A store is found by (client, external id): new ones are `created`, known ones `updated`, or
  `unchanged` when the row says what they already hold (importing a file twice changes nothing).
- Owners: the account of `owner_email`, or a new merchant account without a password (its owner
  sets one by the link in the result: `accounts.invitations`). A staff account's email, or one
  whose account has another store, is the row's error; so is another email for a known store.
- Numbers are added `unverified`, never verified by import: the merchant proves them by code.
- The first row with an external id is imported; later rows with the same one are errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from registry.accounts import invitations
from registry.accounts.models import User
from registry.accounts.operations import normalise_email
from registry.core.dialects import begin_for_savepoints
from registry.core.errors import AppError, Conflict, InvalidInput
from registry.core.extensions import db
from registry.core.phones import get_cipher, parse_phone
from registry.merchants import operations
from registry.merchants.hours import parse_business_hours, parse_hours_text, parse_timezone
from registry.merchants.import_input import ImportRow
from registry.merchants.models import Merchant

MAX_EXTERNAL_ID_LENGTH = 100
STATUSES = ("created", "updated", "unchanged", "error")


@dataclass
class RowResult:
    row: int
    external_id: str | None
    status: str
    errors: list[AppError] = field(default_factory=list)
    merchant_id: int | None = None
    set_password_token: str | None = None


@dataclass
class ImportReport:
    results: list[RowResult]
    dry_run: bool

    def count(self, status: str) -> int:
        return sum(1 for result in self.results if result.status == status)


@dataclass(frozen=True)
class _Clean:
    external_id: str
    name: str
    timezone: str | None
    hours: dict | None
    email: str
    number: str | None
    label: str | None


@dataclass
class _Context:
    client_id: int
    default_region: str
    secret_key: str | None
    existing: dict[str, Merchant]
    owners: dict[int, User]  # of the existing stores
    users: dict[str, User | None]  # by normalised email: the owners the rows name (None: no account)
    seen: dict[str, int] = field(default_factory=dict)
    invited: list[str] = field(default_factory=list)  # owners invited by the row being applied


def import_merchants(client_id: int, rows: list[ImportRow], *, dry_run: bool = False,
                     default_region: str = "CN", secret_key: str | None = None) -> ImportReport:
    """Import `rows` for the integration client; set-password tokens need `secret_key`."""
    begin_for_savepoints()  # the savepoints nest in the request's transaction, on SQLite too
    dry_savepoint = db.session.begin_nested() if dry_run else None
    existing = _existing(client_id, rows)
    context = _Context(client_id, default_region, None if dry_run else secret_key,
                       existing, _owners(existing), _users(rows))
    results = [_import_row(context, row) for row in rows]
    if dry_savepoint is not None:
        dry_savepoint.rollback()
    return ImportReport(results, dry_run)


def _existing(client_id: int, rows: list[ImportRow]) -> dict[str, Merchant]:
    """The client's stores the rows name, with their numbers, in a few queries."""
    ids = sorted({r.values.get("external_id") for r in rows if isinstance(r.values.get("external_id"), str)})
    found: dict[str, Merchant] = {}
    for start in range(0, len(ids), 500):
        found.update((m.external_id, m) for m in db.session.scalars(
            select(Merchant).where(Merchant.client_id == client_id,
                                   Merchant.external_id.in_(ids[start:start + 500]))
            .options(selectinload(Merchant.numbers))))
    return found


def _owners(stores: dict[str, Merchant]) -> dict[int, User]:
    """The owners of the known stores, by id, in a few queries."""
    ids = sorted({m.owner_id for m in stores.values()})
    owners: dict[int, User] = {}
    for start in range(0, len(ids), 500):
        owners.update((u.id, u) for u in db.session.scalars(
            select(User).where(User.id.in_(ids[start:start + 500]))))
    return owners


def _users(rows: list[ImportRow]) -> dict[str, User | None]:
    """The accounts of the rows' owner emails, in a few queries (None where there is none)."""
    emails = set()
    for row in rows:
        email = row.values.get("owner_email")
        if isinstance(email, str):
            try:
                emails.add(normalise_email(email))
            except AppError:
                continue  # the row's own error, later
    ordered = sorted(emails)
    users: dict[str, User | None] = dict.fromkeys(ordered)
    for start in range(0, len(ordered), 500):
        users.update((u.email, u) for u in db.session.scalars(
            select(User).where(User.email.in_(ordered[start:start + 500]))))
    return users


def _import_row(context: _Context, row: ImportRow) -> RowResult:
    external_id = row.values.get("external_id")
    shown_id = external_id if isinstance(external_id, str) else None
    if shown_id is not None and shown_id in context.seen:
        duplicate = InvalidInput("duplicate.external_id", field="external_id",
                                 first=context.seen[shown_id])
        return RowResult(row.row, shown_id, "error", [duplicate])
    if shown_id is not None:
        context.seen[shown_id] = row.row
    if row.errors:
        return RowResult(row.row, shown_id, "error", list(row.errors))
    clean, errors = _validated(row.values, context.default_region)
    if clean is None:
        return RowResult(row.row, shown_id, "error", errors)
    context.invited = []
    try:
        with db.session.begin_nested():
            return _apply(context, row.row, clean)
    except AppError as error:
        refusal = error
    except IntegrityError:  # another import of the same store at the same moment
        refusal = Conflict("conflict.import_row", field="external_id")
    for email in context.invited:  # rolled back with the row
        context.users[email] = None
    return RowResult(row.row, shown_id, "error", [refusal])


def _check(errors: list[AppError], column: str, check, value):
    """`check(value)`, or None with its refusal recorded against `column`."""
    try:
        return check(value)
    except AppError as error:
        error.field = column
        errors.append(error)
        return None


def _required_text(value: object, column: str) -> str:
    """`value` if it is text; refused against `column` if absent or of another type."""
    if value is None:
        raise InvalidInput("required", field=column, name=column)
    if not isinstance(value, str):
        raise InvalidInput("invalid_type", field=column, name=column)
    return value


def _external_id(value: object) -> str:
    value = _required_text(value, "external_id")
    if len(value) > MAX_EXTERNAL_ID_LENGTH:
        raise InvalidInput("too_long", field="external_id", name="external_id",
                           limit=MAX_EXTERNAL_ID_LENGTH)
    return value


def _email(value: object) -> str:
    return normalise_email(_required_text(value, "owner_email"))


def _hours(value: object) -> dict | None:
    """CSV: the text form (`mon-fri 09:00-18:00; sat 10:00-14:00`); JSON: that or the object."""
    if value is None:
        return None
    return parse_hours_text(value) if isinstance(value, str) else parse_business_hours(value)


def _validated(values: dict, region: str) -> tuple[_Clean | None, list[AppError]]:
    """Every column checked on its own, so a row's answer lists all that is wrong with it."""
    errors: list[AppError] = []
    external_id = _check(errors, "external_id", _external_id, values.get("external_id"))
    name = _check(errors, "name", operations.clean_name, values.get("name"))
    zone = values.get("timezone")
    timezone = None if zone is None else _check(errors, "timezone", parse_timezone, zone)
    hours = _check(errors, "business_hours", _hours, values.get("business_hours"))
    email = _check(errors, "owner_email", _email, values.get("owner_email"))
    number = values.get("number")
    if number is not None:
        _check(errors, "number", lambda raw: parse_phone(raw, region, field="number"), number)
    label = _check(errors, "label", operations.clean_label, values.get("label"))
    if errors:
        return None, errors
    return _Clean(external_id, name, timezone, hours, email, number, label), []


def _apply(context: _Context, row: int, clean: _Clean) -> RowResult:
    merchant = context.existing.get(clean.external_id)
    if merchant is None:
        owner, status = _owner_for_new_store(context, clean.email), "created"
        try:
            merchant = operations.create_merchant(owner.id, clean.name, clean.timezone, clean.hours,
                                                  client_id=context.client_id,
                                                  external_id=clean.external_id)
        except Conflict as error:
            if error.key != "store_exists":
                raise
            raise Conflict("conflict.import_owner_taken", field="owner_email") from None
        if clean.number is not None:
            operations.add_number(merchant, clean.number, label=clean.label,
                                  default_region=context.default_region)
    else:
        owner = context.owners.get(merchant.owner_id) or db.session.get(User, merchant.owner_id)
        if owner.email != clean.email:
            raise Conflict("conflict.import_owner_changed", field="owner_email")
        status = "updated" if _update(context, merchant, clean) else "unchanged"
    token = None
    if context.secret_key is not None and not invitations.has_password(owner):
        token = invitations.set_password_token(owner, context.secret_key)
    return RowResult(row, clean.external_id, status, [], merchant.id, token)


def _owner_for_new_store(context: _Context, email: str) -> User:
    owner = context.users[email] if email in context.users else invitations.user_by_email(email)
    if owner is None:
        owner = invitations.invite_user(email, "merchant", checked=True)
        context.users[email] = owner
        context.invited.append(email)
        return owner
    if owner.role != "merchant":
        raise Conflict("conflict.import_owner_staff", field="owner_email")
    return owner


def _update(context: _Context, merchant: Merchant, clean: _Clean) -> bool:
    """Bring a known store to what the row says; whether anything changed."""
    changed = False
    timezone = clean.timezone or merchant.timezone
    hours = clean.hours or merchant.business_hours
    if (clean.name, timezone, hours) != (merchant.name, merchant.timezone, merchant.business_hours):
        operations.update_merchant(merchant, clean.name, timezone, hours)
        changed = True
    if clean.number is not None:
        e164 = parse_phone(clean.number, context.default_region, field="number").e164
        hashes = set(get_cipher().lookup_hashes(e164))
        held = next((n for n in merchant.numbers if n.number_hash in hashes), None)
        if held is None:
            operations.add_number(merchant, clean.number, label=clean.label,
                                  default_region=context.default_region)
            changed = True
        elif held.label != clean.label:
            held.label = clean.label
            db.session.flush()
            changed = True
    return changed
