"""An S3 server over real HTTP (moto's), for the recordings' object storage.

`s3_server` (import `moto_s3_server`) starts `moto.server.ThreadedMotoServer` on a free port
once per session, with credentials in the environment (boto3 finds them through its standard
chain, as in production); `s3` (import `s3_bucket`) gives each test its own bucket and points
the app's `RECORDINGS_STORAGE` at it.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass

import pytest

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session", name="s3_server")
def moto_s3_server():
    from moto.server import ThreadedMotoServer

    saved = {name: os.environ.get(name) for name in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass
class Bucket:
    client: object
    name: str
    prefix: str
    endpoint: str

    def key(self, sid: str) -> str:
        return f"{self.prefix}/{sid}.wav"

    def get(self, sid: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.name, Key=self.key(sid))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None

    def keys(self) -> list[str]:
        listed = self.client.list_objects_v2(Bucket=self.name)
        return sorted(item["Key"] for item in listed.get("Contents", ()))


@pytest.fixture(name="s3")
def s3_bucket(app, s3_server, tmp_path) -> Bucket:
    """A fresh bucket that the app keeps its recordings in (and a local folder it must not use)."""
    import boto3

    name = f"recordings-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    client.create_bucket(Bucket=name)
    app.config.update(RECORDINGS_STORAGE=f"s3://{name}/calls/", RECORDINGS_S3_ENDPOINT_URL=s3_server,
                      RECORDINGS_DIR=str(tmp_path / "local-recordings"))
    return Bucket(client, name, "calls", s3_server)
