"""Provides moto's AWS server on a free loopback port, with fake credentials and seeded resources.

The server runs in a thread of this process, so a test can reach moto's backends directly where
the AWS API has no way to set something (an object's LastModified in the past).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

ACCOUNT = "123456789012"
"""moto's default account."""
REGION = "eu-west-1"
"""The region the resources live in."""
FAKE_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}
"""Credentials moto accepts; set for the module so nothing real is ever used."""


@dataclass
class MotoServer:
    """The running server and what was created in it."""

    endpoint_url: str
    """http://127.0.0.1:PORT"""
    server: Any
    """moto's ThreadedMotoServer."""

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint_url)


@contextmanager
def running(config_dir: Any) -> Iterator[MotoServer]:
    """Start the server with fake credentials in the environment; stop it and restore after."""
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as env:
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE",
                     "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL"):
            env.delenv(name, raising=False)
        # No ~/.aws of the person running the tests is read.
        (config_dir / "config").write_text("")
        (config_dir / "credentials").write_text("")
        env.setenv("AWS_CONFIG_FILE", str(config_dir / "config"))
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(config_dir / "credentials"))
        for name, value in FAKE_ENV.items():
            env.setenv(name, value)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield MotoServer(f"http://{host}:{port}", server)
        finally:
            server.stop()


def age_object(bucket: str, key: str, age: dt.timedelta) -> None:
    """Make an object look ``age`` old (S3 has no API to set LastModified)."""
    from moto.s3.models import s3_backends

    backend = s3_backends[ACCOUNT]["aws"]
    backend.buckets[bucket].keys[key].last_modified = (
        dt.datetime.now(dt.UTC).replace(tzinfo=None) - age)


def age_secret(secret_id: str, age: dt.timedelta) -> None:
    """Make a secret look created ``age`` ago and never rotated."""
    import time

    from moto.secretsmanager.models import secretsmanager_backends

    secret = secretsmanager_backends[ACCOUNT][REGION].secrets[secret_id]
    secret.created_date = int(time.time() - age.total_seconds())
    secret.last_rotation_date = None
