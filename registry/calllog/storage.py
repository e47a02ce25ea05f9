"""Where copied recordings are kept: the local disk (the default) or S3-compatible object storage.

`RECORDINGS_STORAGE` chooses: empty (or `local`) keeps `<RecordingSid>.wav` files under
`RECORDINGS_DIR`; `s3://bucket/prefix` keeps objects `prefix/<RecordingSid>.wav` in that bucket,
through `boto3` (`RECORDINGS_S3_ENDPOINT_URL` for MinIO and other S3-compatible stores,
`RECORDINGS_S3_REGION`; credentials from the standard AWS chain: environment, shared files,
instance roles). Several hosts then serve the same recordings. Both stores write a copy whole
or not at all: a local file under a temporary name renamed into place, an object uploaded only
once the download finished.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urlsplit

from flask import current_app

SPOOL_BYTES = 8 * 1024 * 1024  # a download larger than this waits on disk, not in memory
CHUNK = 64 * 1024


class StorageError(Exception):
    """The store could not be written, read or deleted (the copy is retried later)."""


class RecordingStorage(Protocol):
    name: str

    def writer(self, sid: str) -> AbstractContextManager[BinaryIO]: ...

    def exists(self, sid: str) -> bool: ...

    def delete(self, sid: str) -> None: ...


class LocalStorage:
    """`<folder>/<sid>.wav` files (the embedded default)."""

    name = "local"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, sid: str) -> Path:
        return self.folder / f"{sid}.wav"

    @contextmanager
    def writer(self, sid: str) -> Iterator[BinaryIO]:
        """A temporary file in the folder, fsynced and renamed into place if the block succeeds."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=f".{sid}.", suffix=".part")
        except OSError as exc:
            raise StorageError(type(exc).__name__) from exc
        done = False
        try:
            with os.fdopen(handle, "wb") as out:
                yield out
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path(sid))
            done = True
        except OSError as exc:
            raise StorageError(type(exc).__name__) from exc
        finally:
            if not done:
                Path(temporary).unlink(missing_ok=True)

    def exists(self, sid: str) -> bool:
        return self.path(sid).is_file()

    def delete(self, sid: str) -> None:
        try:
            self.path(sid).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(type(exc).__name__) from exc


class S3Storage:
    """Objects `<prefix>/<sid>.wav` in one bucket of an S3-compatible store."""

    name = "s3"

    def __init__(self, bucket: str, prefix: str, *, endpoint_url: str | None = None,
                 region: str | None = None) -> None:
        import boto3
        from botocore.config import Config

        self.bucket, self.prefix = bucket, prefix.strip("/")
        # A custom endpoint (MinIO, a test server) is addressed by path: its host names the
        # server, not the bucket.
        config = Config(signature_version="s3v4", connect_timeout=5, read_timeout=30,
                        retries={"max_attempts": 3, "mode": "standard"},
                        s3={"addressing_style": "path" if endpoint_url else "auto"})
        self.client = boto3.session.Session().client("s3", endpoint_url=endpoint_url or None,
                                                     region_name=region or None, config=config)

    def key(self, sid: str) -> str:
        return f"{self.prefix}/{sid}.wav" if self.prefix else f"{sid}.wav"

    @contextmanager
    def writer(self, sid: str) -> Iterator[BinaryIO]:
        """A spooled temporary file, uploaded as one object if the block succeeds."""
        from botocore.exceptions import BotoCoreError, ClientError

        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            yield spool
            spool.seek(0)
            try:
                self.client.upload_fileobj(spool, self.bucket, self.key(sid),
                                           ExtraArgs={"ContentType": "audio/wav"})
            except (BotoCoreError, ClientError) as exc:
                raise StorageError(_describe(exc)) from exc

    def _unless_missing(self, call, sid: str) -> dict | None:
        """`call`'s answer for sid's object; None if there is no such object."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return call(Bucket=self.bucket, Key=self.key(sid))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise StorageError(_describe(exc)) from exc
        except BotoCoreError as exc:
            raise StorageError(_describe(exc)) from exc

    def exists(self, sid: str) -> bool:
        return self._unless_missing(self.client.head_object, sid) is not None

    def delete(self, sid: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.key(sid))  # absent: no error
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(_describe(exc)) from exc

    def presigned_url(self, sid: str, seconds: int) -> str:
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self.key(sid),
                                  "ResponseContentType": "audio/wav"}, ExpiresIn=seconds)

    def stream(self, sid: str) -> tuple[Iterator[bytes], int | None] | None:
        """The object's bytes in chunks, and its length; None if there is no such object."""
        answer = self._unless_missing(self.client.get_object, sid)
        if answer is None:
            return None
        body = answer["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(CHUNK)
            finally:
                body.close()

        return chunks(), answer.get("ContentLength")


def _describe(exc: Exception) -> str:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code") if hasattr(exc, "response") else None
    return f"{type(exc).__name__}{f' {code}' if code else ''}"


def parse_location(value: str) -> tuple[str, str] | None:
    """`s3://bucket/prefix` -> (bucket, prefix); empty or `local` -> None; else ValueError."""
    value = (value or "").strip()
    if value in ("", "local"):
        return None
    parts = urlsplit(value)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ValueError("RECORDINGS_STORAGE must be empty, 'local' or s3://bucket/prefix")
    return parts.netloc, parts.path.strip("/")


def local_folder() -> Path:
    """Where local recordings are kept: `RECORDINGS_DIR`, or `recordings/` in the instance folder."""
    configured = current_app.config.get("RECORDINGS_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "recordings"


def get_storage() -> LocalStorage | S3Storage:
    """The configured store (an S3 client is made once per app and configuration)."""
    config = current_app.config
    location = parse_location(config.get("RECORDINGS_STORAGE", ""))
    if location is None:
        return LocalStorage(local_folder())
    settings = (location, config.get("RECORDINGS_S3_ENDPOINT_URL") or None,
                config.get("RECORDINGS_S3_REGION") or None)
    cached = current_app.extensions.get("recordings_storage")
    if cached is None or cached[0] != settings:
        store = S3Storage(*location, endpoint_url=settings[1], region=settings[2])
        cached = current_app.extensions["recordings_storage"] = (settings, store)
    return cached[1]
