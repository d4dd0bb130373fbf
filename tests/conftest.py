"""Shared fixtures: one real embedded Temporal dev server for the whole session.

It is started through runner's own server module (the code users run), in a temporary RUNNER_HOME,
on a free port so it never collides with a server a developer already has.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

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
