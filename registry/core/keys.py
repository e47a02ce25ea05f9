"""`flask keys rotate`: move every encrypted value and keyed hash to the newest `DATA_KEY`.

`DATA_KEY` may list several keys, newest first (docs/several-hosts.md). Values are decrypted
with whichever key opens them and written with the newest; searches look for a number's hash
under every key. `keys rotate` then walks every table with an encrypted column, in batches by
id, one transaction per batch: a value not yet under the newest key is re-encrypted, and the
keyed hash beside it (a number's lookup hash) recomputed from the clear value. It is
idempotent (values already under the newest key are left alone) and resumable (a run stopped
part-way is simply run again).

The encrypted columns are found in the metadata, so a new one takes part without a change
here: a column whose type has `key_rotation()` (`EncryptedPhone`, webhooks' `EncryptedSecret`)
or a Text column marked `info={"encrypted": "phone_cipher"}` that its module encrypts itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import click
from flask.cli import AppGroup
from sqlalchemy import Text, select, type_coerce, update

from registry.core.extensions import db
from registry.core.phones import get_cipher
from registry.core.transactions import unit_of_work

# The keyed hash kept beside an encrypted number: `<name>_hash` for `<name>_encrypted`, but for
# these.
HASH_BESIDE = {("merchant_numbers", "e164_encrypted"): "number_hash"}


@dataclass
class Rotated:
    """What a run of `rotate` did: rows looked at and rows rewritten, per table."""

    seen: dict[str, int] = field(default_factory=dict)
    rewritten: dict[str, int] = field(default_factory=dict)


def encrypted_columns() -> dict[str, list]:
    """Every encrypted column, by table name."""
    found: dict[str, list] = {}
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if hasattr(column.type, "key_rotation") or column.info.get("encrypted"):
                found.setdefault(table.name, []).append(column)
    return found


def _cipher_of(column):
    return column.type.key_rotation() if hasattr(column.type, "key_rotation") else get_cipher()


def _hash_column(table, column):
    name = HASH_BESIDE.get((table.name, column.name), column.name.replace("_encrypted", "_hash"))
    return table.c.get(name) if name != column.name else None


def rotate_batch(table, columns, after_id: int, batch: int) -> tuple[int, int, int | None]:
    """Rotate up to `batch` rows of `table` with ids above `after_id` (flushes): rows seen, rows
    rewritten, and the last id seen (None when the table has no more)."""
    raw = [type_coerce(column, Text).label(column.name) for column in columns]
    rows = db.session.execute(select(table.c.id, *raw).where(table.c.id > after_id)
                              .order_by(table.c.id).limit(batch)).all()
    rewritten = 0
    for row in rows:
        values = {}
        for column in columns:
            token, cipher = getattr(row, column.name), _cipher_of(column)
            if token is None or cipher.is_current(token):
                continue
            clear = cipher.decrypt(token)
            # A typed column encrypts what it is given; a marked Text column takes the token.
            values[column.name] = clear if hasattr(column.type, "key_rotation") else cipher.encrypt(clear)
            hashed = _hash_column(table, column)
            if hashed is not None:
                values[hashed.name] = get_cipher().lookup_hash(clear)
        if values:
            db.session.execute(update(table).where(table.c.id == row.id).values(values))
            rewritten += 1
    return len(rows), rewritten, (rows[-1].id if len(rows) == batch else None)


def rotate(batch: int = 500, echo=None) -> Rotated:
    """Rotate every encrypted column to the newest key, committing each batch."""
    done = Rotated()
    for name, columns in encrypted_columns().items():
        table = db.metadata.tables[name]
        after: int | None = 0
        while after is not None:
            with unit_of_work():
                seen, rewritten, after = rotate_batch(table, columns, after, batch)
            done.seen[name] = done.seen.get(name, 0) + seen
            done.rewritten[name] = done.rewritten.get(name, 0) + rewritten
        if echo:
            echo(f"{name}: {done.rewritten[name]} of {done.seen[name]} rows re-encrypted")
    return done


keys_cli = AppGroup("keys", help="Rotate DATA_KEY.")


@keys_cli.command("rotate")
@click.option("--batch", type=click.IntRange(min=1), default=500, show_default=True,
              help="Rows per transaction.")
def rotate_command(batch: int) -> None:
    """Re-encrypt every stored number and secret with DATA_KEY's newest key and recompute the
    lookup hashes beside them (idempotent; run it again after an interruption)."""
    rotate(batch, echo=click.echo)
