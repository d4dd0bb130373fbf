"""Shared fixtures: one real embedded Temporal dev server for the whole session.

It is started through runner's own server module (the code users run), in a temporary RUNNER_HOME,
on a free port so it never collides with a server a developer already has.
"""

from __future__ import annotations

import logging
import os
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from runner.client import server
from runner.client.server import ServerInfo, _free_port
from runner.config.manifest import CACHE_ENV

REPO = Path(__file__).resolve().parent.parent

# Tests share one RUNNER_HOME: its default step cache would let one test's steps answer another's
# (tests count calls and renders). A test of the cache names its own folder (`cache:` in the
# manifest, or RUNNER_CACHE in its environment); the default itself is tested without this.
os.environ[CACHE_ENV] = "off"


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# Told to stop (SIGTERM: a CI timeout, a killed `make test`, xdist stopping its workers), the run
# stops as on Ctrl-C: the test's `finally` blocks and the fixtures' teardowns run, so servers are
# stopped and a mounted file system is unmounted. (Python's default for SIGTERM is to die on the
# spot.)
signal.signal(signal.SIGTERM, _stop_on_sigterm)


@pytest.fixture(scope="session")
def runner_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runner-home")


@pytest.fixture(scope="session")
def temporal_server(runner_home: Path) -> Iterator[ServerInfo]:
    info, started = server.start(runner_home, port=_free_port(), owned=True)
    assert started
    yield info
    server.stop(runner_home)


@pytest.fixture(scope="session")
async def client(temporal_server: ServerInfo) -> AsyncIterator[Client]:
    yield await Client.connect(temporal_server.address, data_converter=pydantic_data_converter)


@pytest.fixture
def task_queue() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def cli_env(runner_home: Path, temporal_server: ServerInfo) -> dict[str, str]:
    """Environment for running the real CLI against the session's server (and no configured one)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
    env["RUNNER_HOME"] = str(runner_home)
    env["TEMPORAL_CONFIG_FILE"] = str(runner_home / "no-such-temporal.toml")
    return env


@dataclass
class S3:
    """A bucket of its own on the session's S3 server (moto, on loopback), with the environment that
    points the store's libraries at it."""

    endpoint: str
    bucket: str
    env: dict[str, str]
    api: Any  # a boto3 S3 client

    def url(self, *parts: str) -> str:
        return "/".join([f"s3://{self.bucket}", *parts])

    def keys(self, prefix: str = "") -> dict[str, int]:
        """Every object under ``prefix``: key -> size."""
        pages = self.api.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return {o["Key"]: o["Size"] for page in pages for o in page.get("Contents", [])}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 API (moto in server mode) on loopback for the session; stopped at its end."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        moto.stop()


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> S3:
    """A new bucket, and this process's environment set to reach it (as a worker's would be)."""
    import boto3

    env = {"AWS_ENDPOINT_URL": s3_endpoint, "AWS_ACCESS_KEY_ID": "runner-test",
           "AWS_SECRET_ACCESS_KEY": f"secret-{uuid.uuid4().hex}", "AWS_DEFAULT_REGION": "us-east-1"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(key, raising=False)
    api = boto3.client("s3", endpoint_url=s3_endpoint, aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1")
    bucket = f"runner-{uuid.uuid4().hex[:12]}"
    api.create_bucket(Bucket=bucket)
    return S3(endpoint=s3_endpoint, bucket=bucket, env=env, api=api)
