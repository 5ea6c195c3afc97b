"""The Websoft9 fixture catalog and what its tests look at in Docker: a shared network of
the run (the `w9_network` fixture), a container's environment, a page an app serves."""

from __future__ import annotations

import secrets
import urllib.request
from collections.abc import Iterator

import docker
import pytest

from appmanage.catalog.sources import Catalog
from tests.support.run import FIXTURES, RUN_ID

WEBSOFT9 = FIXTURES / "websoft9"
BROKEN = FIXTURES / "websoft9-broken"
PREVIEW = """query($input: InstallAppInput!) { previewInstall(input: $input) {
    __typename
    ... on InstallPreview { compose settings { key value secret } warnings }
    ... on Error { message }
    ... on ValidationError { field }
} }"""


def fixture_catalog() -> Catalog:
    return Catalog.load([WEBSOFT9])


@pytest.fixture
def w9_network() -> Iterator[str]:
    """A network name of this run for W9_NETWORK; the network is removed after the test."""
    name = f"{RUN_ID}-w9net-{secrets.token_hex(2)}"
    yield name
    client = docker.from_env()
    for network in client.networks.list(names=[name]):
        if network.name == name:
            network.reload()
            for container in network.containers:
                network.disconnect(container, force=True)
            network.remove()
    client.close()


def network_exists(name: str) -> bool:
    client = docker.from_env()
    try:
        return any(n.name == name for n in client.networks.list(names=[name]))
    finally:
        client.close()


def container_env(name: str) -> dict[str, str]:
    client = docker.from_env()
    try:
        env = client.containers.get(name).attrs["Config"]["Env"]
    finally:
        client.close()
    return dict(line.split("=", 1) for line in env)


def fetch(port: int, path: str = "/") -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            text: str = response.read().decode()
            return text
    except OSError:
        return None
