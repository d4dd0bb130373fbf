"""Where runner's Temporal is, and the one way to connect to it.

With a Temporal address configured (``TEMPORAL_ADDRESS``, or a temporalio envconfig profile:
``TEMPORAL_CONFIG_FILE`` / ``TEMPORAL_PROFILE`` / ``~/.config/temporalio/temporal.toml``; namespace, TLS
and API key come from there too) runner connects there: a self-hosted cluster or Temporal Cloud.
Without one it starts or reuses the embedded dev server (:mod:`runner.client.server`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.envconfig import ClientConfigProfile
from temporalio.runtime import Runtime

from runner.client import server
from runner.contract.errors import ConnectionFailed, UsageError

CONNECT_TIMEOUT_S = 20.0
DEFAULT_TASK_QUEUE = "runner"


@dataclass(frozen=True)
class Target:
    """A Temporal endpoint: configured, or the embedded server."""

    address: str
    namespace: str
    embedded: bool
    options: dict[str, Any] = field(repr=False)  # may hold an API key: never print it

    def describe(self) -> str:
        kind = "embedded dev server" if self.embedded else "configured Temporal"
        return f"{kind} at {self.address}, namespace {self.namespace}"


def configured_target() -> Target | None:
    """The Temporal endpoint configured in the environment or an envconfig profile, if any."""
    try:
        profile = ClientConfigProfile.load()
    except Exception as exc:  # a malformed profile file: say which, do not fall back silently
        raise UsageError(f"cannot read the Temporal client configuration: {exc}") from exc
    if not profile.address:
        return None
    options = dict(profile.to_client_connect_config())
    return Target(address=profile.address, namespace=profile.namespace or "default",
                  embedded=False, options=options)


def resolve_target() -> Target:
    """The configured endpoint, else the embedded server (started if it is not running).

    Raises:
        ServerError: the embedded server could not be started.
    """
    configured = configured_target()
    if configured is not None:
        return configured
    info = server.status()
    if info is None:
        info, _ = server.start()
    return Target(address=info.address, namespace="default", embedded=True,
                  options={"target_host": info.address, "namespace": "default"})


async def connect(target: Target, runtime: Runtime | None = None) -> Client:
    """A client for ``target`` using runner's data converter (pydantic models on the wire), on
    ``runtime`` (the SDK's; e.g. one that serves metrics) or the default one.

    Raises:
        ConnectionFailed: the endpoint did not answer.
    """
    try:
        return await asyncio.wait_for(
            Client.connect(**target.options, data_converter=pydantic_data_converter, runtime=runtime),
            CONNECT_TIMEOUT_S,
        )
    except (TimeoutError, RuntimeError, OSError) as exc:
        raise ConnectionFailed(f"cannot reach {target.describe()}: {exc}") from exc
