"""The hash chain over call events: appending, sealing and verifying.

Events are appended unsealed (no number, no hash) and sealed moments later
in batches: `seal()` gives each its `seq`, its content digest and its link
to the previous event. So tamper-evidence starts within a second or so of
an event's commit, and no webhook waits on a lock over the chain's tip.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from json.encoder import c_make_encoder, encode_basestring

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from registry.calllog.models import CallEvent, ChainHead
from registry.core import dialects
from registry.core.extensions import db
from registry.core.timeutil import as_utc, utcnow
from registry.core.transactions import commit_now

GENESIS = "0" * 64


def canonical(seq: int, call_sid: str | None, kind: str, source: str, data: dict,
              dedupe_key: str | None, recorded_at: datetime) -> bytes:
    """The bytes an event's hash covers: every field, in a fixed JSON form."""
    return json.dumps(
        {"seq": seq, "call_sid": call_sid, "kind": kind, "source": source, "data": data,
         "dedupe_key": dedupe_key, "recorded_at": as_utc(recorded_at).isoformat(timespec="microseconds")},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    ).encode()


def digest_of(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def link(digest: str, prev_hash: str) -> str:
    return hashlib.sha256(bytes.fromhex(digest) + bytes.fromhex(prev_hash)).hexdigest()


def _lock_head() -> ChainHead:
    query = select(ChainHead).where(ChainHead.id == 1).with_for_update()
    head = db.session.scalars(query).first()
    if head is None:
        try:
            with dialects.savepoint():
                db.session.add(ChainHead(id=1, seq=0, hash=GENESIS))
        except IntegrityError:
            pass
        head = db.session.scalars(query).one()
    return head


EVENT_FIELDS = ("call_sid", "kind", "source", "data", "dedupe_key", "recorded_at")


@cache
def append_statement(flavour: str, deduplicated: bool, prefix: str = ""):
    """The INSERT `append` runs in `flavour` (`dialects.flavour`), its values bound as
    `prefix + field` (see `event_values`).

    Built once: building an INSERT costs more than running it.
    """
    table = CallEvent.__table__
    if deduplicated:  # a retried delivery is a no-op, decided by the unique index
        statement = dialects.insert_ignore(table, flavour, index_elements=["dedupe_key"])
    else:
        statement = dialects.insert(table, flavour)
    return statement.values({f: bindparam(prefix + f) for f in EVENT_FIELDS}).returning(table.c.id)


def event_values(kind: str, source: str, data: dict, call_sid: str | None, dedupe_key: str | None,
                 prefix: str = "") -> dict:
    values = {"call_sid": call_sid, "kind": kind, "source": source, "data": data, "dedupe_key": dedupe_key,
              "recorded_at": utcnow()}
    return {prefix + key: value for key, value in values.items()}


def append(kind: str, source: str, data: dict, call_sid: str | None = None,
           dedupe_key: str | None = None) -> int | None:
    """Append an event, unsealed; its id, or None if `dedupe_key` is already stored.

    Appending takes no lock, so webhooks never queue behind each other on the
    chain's tip: `seal()` (the scheduler's `seal-call-log` job, every second)
    numbers and links committed events afterwards, in batches.
    """
    connection = db.session.connection()
    statement = append_statement(dialects.flavour(connection), bool(dedupe_key))
    return connection.execute(statement, event_values(kind, source, data, call_sid, dedupe_key)).scalar()


def seal(limit: int = 5000) -> int:
    """Number and link up to `limit` unsealed events, oldest first; how many (flushed).

    The chain's tip is locked until the caller commits, so sealers never
    interleave. Events are sealed in the order this sees them committed: an
    event whose transaction commits late is simply sealed in a later batch.
    """
    head = _lock_head()
    rows = db.session.execute(
        select(CallEvent.id, CallEvent.call_sid, CallEvent.kind, CallEvent.source, CallEvent.data,
               CallEvent.dedupe_key, CallEvent.recorded_at)
        .where(CallEvent.seq.is_(None)).order_by(CallEvent.id).limit(limit)).all()
    if not rows:
        return 0
    seq, prev, changes = head.seq, head.hash, []
    for row in rows:
        seq += 1
        digest = digest_of(canonical(seq, row.call_sid, row.kind, row.source, row.data, row.dedupe_key,
                                     row.recorded_at))
        hash_ = link(digest, prev)
        changes.append({"event_id": row.id, "seq": seq, "digest": digest, "prev_hash": prev, "hash": hash_})
        prev = hash_
    table = CallEvent.__table__
    db.session.execute(
        table.update().where(table.c.id == bindparam("event_id"), table.c.seq.is_(None))
        .values(seq=bindparam("seq"), digest=bindparam("digest"), prev_hash=bindparam("prev_hash"),
                hash=bindparam("hash")), changes)
    head.seq, head.hash = seq, prev
    db.session.flush()
    return len(changes)


def seal_pending(batch: int = 5000) -> int:
    """Seal every committed event, committing batch by batch; how many (the job and `verify`)."""
    sealed = 0
    while True:
        count = seal(batch)
        # Batch by batch: the chain's tip is locked until a commit, and webhooks' events keep
        # coming; each batch is sealed for good, and the tip let go, before the next is read.
        commit_now("a sealed batch releases the chain's tip")
        sealed += count
        if count < batch:
            return sealed


@dataclass(frozen=True)
class ChainReport:
    events: int
    broken_at: int | None  # the seq of the first event that does not verify
    reason: str | None
    unsealed: int = 0  # committed events not yet sealed, so not yet covered

    @property
    def ok(self) -> bool:
        return self.broken_at is None


# Verifying at speed. Events are checked as plain tuples in ROW order (what
# `verification.py` selects straight from the database), with the canonical
# bytes built by hand: the fixed outer keys in sorted order, each value
# encoded by the same functions `json.dumps` uses, so the bytes are identical
# to `canonical()`'s. A digest that does not match is checked again through
# `canonical()` itself before the event is called altered.
ROW = ("seq", "call_sid", "kind", "source", "data", "dedupe_key", "recorded_at", "digest", "redacted",
       "prev_hash", "hash")
_DATA_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
if c_make_encoder is not None:  # json's C encoder, built once instead of on every dumps()
    _c_encoder = c_make_encoder(None, _DATA_ENCODER.default, encode_basestring, None, ":", ",", True,
                                False, True)

    def _encode_data(value) -> str:
        return "".join(_c_encoder(value, 0))
else:  # pragma: no cover - CPython always has the C encoder
    _encode_data = _DATA_ENCODER.encode
_decode_json = json.JSONDecoder().raw_decode


@dataclass(frozen=True)
class Segment:
    """What a walk over consecutive rows found: its ends, and its first broken link."""

    first_seq: int | None = None
    first_prev: str | None = None
    last_seq: int | None = None
    last_hash: str | None = None
    count: int = 0  # events verified (before the break, if there is one)
    broken_at: int | None = None
    reason: str | None = None


def _json_text(value: object) -> str:
    return "null" if value is None else encode_basestring(value)


def _reference_digest(row: tuple) -> str | None:
    """The digest `canonical()` gives for `row`; None if the row cannot even be read."""
    seq, call_sid, kind, source, data, dedupe_key, recorded_at = row[:7]
    try:
        data = json.loads(data) if isinstance(data, str) else data
        moment = datetime.fromisoformat(recorded_at) if isinstance(recorded_at, str) else recorded_at
        return digest_of(canonical(seq, call_sid, kind, source, data, dedupe_key, moment))
    except (TypeError, ValueError):
        return None


def check_rows(rows: Iterable[tuple], prev: str | None = None, expected: int | None = None,
               valid_json: bool = False) -> Segment:
    """Check consecutive ROW tuples: numbering, content digests and links.

    `recorded_at` is the UTC ISO form `canonical()` uses, `data` JSON text
    (or the value itself). The first row links to `prev` and must be number
    `expected`; left None they are taken from the first row, and the caller
    checks that junction (`combine`). With `valid_json` (the database
    guarantees each `data` text is exactly one JSON value, as PostgreSQL's
    `json` type does), the stored text is first hashed as it is: when it
    was stored canonically (`CanonicalJSON`) that matches without parsing,
    and a match proves the content, since the bytes then parse exactly as
    the original event's did.
    """
    sha256, fromhex, text = hashlib.sha256, bytes.fromhex, _json_text
    encode, decode = _encode_data, _decode_json
    first_seq = first_prev = None
    count = 0
    for row in rows:
        seq, call_sid, kind, source, data, dedupe_key, recorded_at, digest, redacted, prev_hash, hash_ = row
        if first_seq is None:
            first_seq, first_prev = seq, prev_hash
            prev = prev_hash if prev is None else prev
            expected = seq if expected is None else expected
        if seq != expected:
            return Segment(first_seq, first_prev, None, None, count, expected, f"event {expected} is missing")
        if not redacted:
            try:
                head = f'{{"call_sid":{text(call_sid)},"data":'
                tail = (f',"dedupe_key":{text(dedupe_key)},"kind":{text(kind)},"recorded_at":"{recorded_at}",'
                        f'"seq":{seq},"source":{text(source)}}}')
                same = valid_json and data.__class__ is str and \
                    sha256((head + data + tail).encode()).hexdigest() == digest
                if not same:
                    if data.__class__ is str:
                        value, end = decode(data)
                        if end != len(data):
                            raise ValueError("text after the JSON value")
                        data = value
                    same = sha256((head + encode(data) + tail).encode()).hexdigest() == digest
            except (TypeError, ValueError):
                same = False
            if not same and _reference_digest(row) != digest:
                return Segment(first_seq, first_prev, None, None, count, seq, f"event {seq} was altered")
        try:
            linked = prev_hash == prev and sha256(fromhex(digest + prev_hash)).hexdigest() == hash_
        except (TypeError, ValueError):
            linked = False
        if not linked:
            return Segment(first_seq, first_prev, None, None, count, seq, f"event {seq} was altered")
        prev, expected, count = hash_, seq + 1, count + 1
    if first_seq is None:
        return Segment()
    return Segment(first_seq, first_prev, expected - 1, prev, count)


def combine(segments: Iterable[Segment], head: tuple[int, str] | None) -> ChainReport:
    """One report for consecutive segments (the first starts the chain), checked against
    the head `(seq, hash)`: what walking every row in one go would have reported."""
    prev, expected, count = GENESIS, 1, 0
    for segment in segments:
        if segment.first_seq is None:
            continue  # nothing in that range: the next segment's first number shows the gap
        if segment.first_seq != expected:
            return ChainReport(count, expected, f"event {expected} is missing")
        if segment.first_prev != prev:
            return ChainReport(count, expected, f"event {expected} was altered")
        if segment.broken_at is not None:
            return ChainReport(count + segment.count, segment.broken_at, segment.reason)
        prev, expected, count = segment.last_hash, segment.last_seq + 1, count + segment.count
    if head is not None and (head[0] != count or head[1] != prev):
        return ChainReport(count, count + 1, f"events after {count} were removed")
    return ChainReport(count, None, None)
