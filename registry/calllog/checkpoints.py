"""Signed checkpoints of the call log's hash chain: what makes a cut tail visible.

The chain alone cannot show rows removed from its end if the head row is
rewound with them. So the scheduler's `checkpoint-call-log` job signs, with an
Ed25519 key (`CHECKPOINT_SIGNING_KEY`), the sealed chain's length and the hash of
its last event; `calllog verify` checks every checkpoint against the chain, and
`calllog checkpoint export` hands them to an outsider, who checks them with the
public key (`calllog checkpoint public-key`) and keeps them away from us;
`calllog verify --checkpoints FILE` checks the chain against such a kept export,
so checkpoints deleted together with the events they counted show too.

The signed bytes (docs/operations.md), all ASCII:
`registry call-log checkpoint v1\n<events>\n<head_hash>\n<created_at>`, with
`created_at` in the UTC ISO form of the export (`2026-12-07T00:30:00.123456+00:00`).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask, current_app
from sqlalchemy import func, select

from registry.calllog.chain import ChainReport
from registry.calllog.models import CallEvent, ChainCheckpoint, ChainHead
from registry.core.extensions import db
from registry.core.signing_keys import key_id, new_private_key_text, parse_private_keys
from registry.core.timeutil import as_utc, utcnow
from registry.core.urls import LARGEST_ID

KEY_FILE = "checkpoint_signing_key"
_CHUNK = 1000


def message(events: int, head_hash: str, created_at: str) -> bytes:
    """The bytes a checkpoint's signature covers."""
    return f"registry call-log checkpoint v1\n{events}\n{head_hash}\n{created_at}".encode("ascii")


def stamp(moment) -> str:
    return as_utc(moment).isoformat(timespec="microseconds")


def signing_keys(app: Flask | None = None) -> list[Ed25519PrivateKey]:
    """The configured keys, the signing one first; in development and testing, unset means a key
    generated once into the instance folder; in production, unset means none (no checkpoints)."""
    app = app or current_app
    value = app.config.get("CHECKPOINT_SIGNING_KEY", "")
    if not value and app.config.get("REGISTRY_ENV") != "production":
        path = Path(app.instance_path) / KEY_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as file:
                file.write(new_private_key_text())
        value = path.read_text().strip()
    return parse_private_keys(value) if value else []


def write_checkpoint(app: Flask | None = None) -> str:
    """Sign the sealed chain's head unless nothing changed since the last checkpoint (flushed;
    the caller commits); what was done, in a line for the log."""
    keys = signing_keys(app)
    if not keys:
        return "off (CHECKPOINT_SIGNING_KEY is not set)"
    head = db.session.get(ChainHead, 1)
    if head is None or head.seq == 0:
        return "nothing sealed yet"
    last = db.session.scalars(select(ChainCheckpoint).order_by(ChainCheckpoint.events.desc(),
                                                               ChainCheckpoint.id.desc()).limit(1)).first()
    if last is not None and last.events == head.seq and last.head_hash == head.hash:
        return f"unchanged since checkpoint {last.id} ({last.events} events)"
    stored = db.session.scalar(select(CallEvent.hash).where(CallEvent.seq == head.seq))
    if stored != head.hash or (last is not None and last.events > head.seq):
        # Signing now would vouch for a chain that already fails: leave it to `calllog verify`.
        current_app.logger.error("call log checkpoint NOT signed: the chain's head (%s events) does not "
                                 "match its events or its last checkpoint", head.seq)
        return f"NOT signed: the head ({head.seq} events) disagrees with the chain; run calllog verify"
    created_at = utcnow()
    signature = keys[0].sign(message(head.seq, head.hash, stamp(created_at)))
    checkpoint = ChainCheckpoint(created_at=created_at, events=head.seq, head_hash=head.hash,
                                 key_id=key_id(keys[0].public_key()),
                                 signature=base64.b64encode(signature).decode())
    db.session.add(checkpoint)
    db.session.flush()
    return f"checkpoint {checkpoint.id}: {checkpoint.events} events"


def latest_id() -> int:
    """The newest checkpoint's id (0: none), read BEFORE the chain is scanned: every checkpoint
    committed by then vouches only for events the scan's snapshot holds."""
    return db.session.scalar(select(func.max(ChainCheckpoint.id))) or 0


def export_lines() -> list[dict]:
    """Every checkpoint as the outsider's JSON line (`calllog checkpoint export`)."""
    rows = db.session.scalars(select(ChainCheckpoint).order_by(ChainCheckpoint.id))
    return [{"id": c.id, "created_at": stamp(c.created_at), "events": c.events, "head_hash": c.head_hash,
             "key_id": c.key_id, "signature": c.signature} for c in rows]


def _signature_ok(checkpoint: ChainCheckpoint, public) -> bool:
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
        signed = message(checkpoint.events, checkpoint.head_hash, stamp(checkpoint.created_at))
        public.verify(signature, signed)
    except (InvalidSignature, binascii.Error, ValueError, UnicodeEncodeError):
        return False
    return True


def _verdict(report: ChainReport, checkpoint: ChainCheckpoint, stored_hash: str | None, public: dict,
             where: str) -> ChainReport | None:
    """The failure `checkpoint` shows in `report`'s chain (whose event at its count has
    `stored_hash`), or None if it vouches for it."""
    key = public.get(checkpoint.key_id)
    if key is None:
        reason = f"{where} was signed by an unknown key {checkpoint.key_id[:16]}"
    elif not _signature_ok(checkpoint, key):
        reason = f"{where} has an invalid signature"
    elif checkpoint.events > report.events:
        return replace(report, broken_at=report.events + 1,
                       reason=f"events after {report.events} were removed ({where} counted "
                              f"{checkpoint.events})")
    elif stored_hash != checkpoint.head_hash:
        reason = f"event {checkpoint.events} differs from {where}: the chain was rewritten"
    else:
        return None
    return replace(report, broken_at=max(1, min(checkpoint.events, report.events + 1)), reason=reason)


def _public_keys() -> dict:
    return {key_id(k.public_key()): k.public_key() for k in signing_keys()}


def check(report: ChainReport, up_to_id: int) -> ChainReport:
    """`report` (an intact walk of the chain) checked against every checkpoint up to `up_to_id`:
    each must carry a valid signature of a known key, and the chain must still have the event it
    counted, with the hash it signed. The first failure, by position in the chain, is reported."""
    if not report.ok or up_to_id == 0:
        return report
    public = _public_keys()
    rows = db.session.execute(
        select(ChainCheckpoint, CallEvent.hash).outerjoin(CallEvent, CallEvent.seq == ChainCheckpoint.events)
        .where(ChainCheckpoint.id <= up_to_id).order_by(ChainCheckpoint.events, ChainCheckpoint.id))
    for checkpoint, stored_hash in rows:
        if (failed := _verdict(report, checkpoint, stored_hash, public, f"checkpoint {checkpoint.id}")):
            return failed
    return report


def read_export(lines: Iterable[str]) -> list[ChainCheckpoint]:
    """The checkpoints of an export kept outside (`calllog checkpoint export`'s JSON lines), as
    unsaved rows; ValueError naming the first line that is not one."""
    kept = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            checkpoint = ChainCheckpoint(
                id=_int(item["id"]), created_at=datetime.fromisoformat(item["created_at"]),
                events=_int(item["events"]), head_hash=str(item["head_hash"]), key_id=str(item["key_id"]),
                signature=str(item["signature"]))
        except (ValueError, TypeError, KeyError, RecursionError) as error:
            raise ValueError(f"line {number} is not an exported checkpoint ({type(error).__name__}: "
                             f"{error})") from None
        kept.append(checkpoint)
    return kept


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= LARGEST_ID:
        raise TypeError(f"{value!r} is not an id or count")
    return value


def check_export(report: ChainReport, kept: list[ChainCheckpoint]) -> ChainReport:
    """`report` checked against checkpoints exported earlier and kept out of the database's reach:
    each must vouch for the chain as a stored one does, and still be stored as exported, so
    checkpoints deleted or rewritten together with the events they counted show too."""
    if not report.ok or not kept:
        return report
    public = _public_keys()
    hashes, stored = {}, {}
    for start in range(0, len(kept), _CHUNK):  # a bound parameter each: under the drivers' limits
        part = kept[start:start + _CHUNK]
        hashes.update(db.session.execute(select(CallEvent.seq, CallEvent.hash)
                                         .where(CallEvent.seq.in_({c.events for c in part}))).all())
        stored.update((c.id, c) for c in db.session.scalars(
            select(ChainCheckpoint).where(ChainCheckpoint.id.in_({c.id for c in part}))))
    for checkpoint in sorted(kept, key=lambda c: (c.events, c.id)):
        where = f"exported checkpoint {checkpoint.id}"
        if (failed := _verdict(report, checkpoint, hashes.get(checkpoint.events), public, where)):
            return failed
        row = stored.get(checkpoint.id)
        if row is None or (row.events, row.head_hash, row.signature) != (
                checkpoint.events, checkpoint.head_hash, checkpoint.signature):
            return replace(report, broken_at=max(1, checkpoint.events),
                           reason=f"{where} is {'missing from' if row is None else 'not as stored in'} "
                                  "the database: the checkpoints were altered")
    return report
