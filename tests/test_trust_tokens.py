"""Tokens on websockets: a revoked token's open sockets close with 4403 within 5 s on every
API process (revoked through the API or the CLI), an operation after a revocation is
refused even when the announcement never came, and a short APPMANAGE_ADMIN_TOKEN
refuses to start."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from appmanage.app import WeakAdminToken, create_app
from appmanage.auth import tokens
from appmanage.auth.gate import CACHE_SECONDS
from appmanage.config import Settings
from appmanage.enums import Role
from appmanage.storage.database import Database
from tests.support.graphql import GraphQLClient
from tests.support.processes import APPMANAGE, Server, settings_env, start_server, stop_server
from tests.support.tokens import REVOKE, create_token
from tests.support.wsclient import GraphQLWebSocket

pytestmark = pytest.mark.docker

WAITING = "subscription { appStatusChanged(name: null) { status } }"
CLOSE_WITHIN = 5.0


@pytest.fixture(scope="module")
def servers(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Server]]:
    """Two API processes sharing the database and Redis."""
    logs = tmp_path_factory.mktemp("trust-tokens")
    running: list[Server] = []
    try:
        for n in range(2):
            running.append(start_server(settings, log=logs / f"api{n}.log"))
        yield running
    finally:
        for server in running:
            stop_server(server)


@pytest.fixture(scope="module")
def admin(servers: list[Server]) -> Iterator[GraphQLClient]:
    client = GraphQLClient.over_http(servers[0].base)
    yield client
    client.close()


def open_sockets(servers: list[Server], secret: str) -> list[GraphQLWebSocket]:
    """One socket per server, each with a running subscription."""
    sockets = []
    for server in servers:
        ws = GraphQLWebSocket(server.ws, token=secret)
        ws.subscribe("status", WAITING)
        ws.barrier()
        sockets.append(ws)
    return sockets


def test_revoking_through_the_api_closes_the_sockets_on_every_api_process(
    servers: list[Server], admin: GraphQLClient
) -> None:
    created = create_token(admin, Role.VIEWER)
    sockets = open_sockets(servers, created["secret"])
    try:
        revoked_at = time.monotonic()
        assert admin.execute(REVOKE, id=created["token"]["id"])["revokeToken"]["__typename"] == "ApiToken"
        codes = [ws.close_code(CLOSE_WITHIN - (time.monotonic() - revoked_at)) for ws in sockets]
        took = time.monotonic() - revoked_at
        assert codes == [4403, 4403], codes
        assert took < CLOSE_WITHIN, took
        print(f"both sockets closed {took:.2f} s after revokeToken")
    finally:
        for ws in sockets:
            ws.close()


def test_revoking_with_the_cli_closes_the_sockets_on_every_api_process(
    servers: list[Server], admin: GraphQLClient, settings: Settings
) -> None:
    created = create_token(admin, Role.OPERATOR)
    sockets = open_sockets(servers, created["secret"])
    try:
        revoked = subprocess.run(
            [*APPMANAGE, "token", "revoke", created["token"]["id"]],
            env=settings_env(settings),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert revoked.returncode == 0, revoked.stderr
        done_at = time.monotonic()
        codes = [ws.close_code(CLOSE_WITHIN - (time.monotonic() - done_at)) for ws in sockets]
        assert codes == [4403, 4403], (codes, revoked.stderr)
        print(f"both sockets closed {time.monotonic() - done_at:.2f} s after `appmanage token revoke` returned")
    finally:
        for ws in sockets:
            ws.close()


def test_an_operation_after_a_silent_revocation_is_refused(
    servers: list[Server], admin: GraphQLClient, settings: Settings
) -> None:
    """Revoked in the database alone (no announcement through Redis): the socket's next
    operation finds out, once the short cache has expired."""
    created = create_token(admin, Role.ADMIN)
    ws = GraphQLWebSocket(servers[0].ws, token=created["secret"])
    try:
        ws.barrier()
        db = Database(settings.database_url)
        try:
            tokens.revoke_token(db, created["token"]["id"])
        finally:
            db.dispose()
        time.sleep(CACHE_SECONDS + 0.2)
        ws.subscribe("after", 'mutation { stopApp(name: "nothing-here") { __typename } }')
        assert ws.close_code(CLOSE_WITHIN) == 4403
    finally:
        ws.close()


def test_a_short_admin_token_refuses_to_start(settings: Settings, tmp_path: Path) -> None:
    env = {**settings_env(settings), "APPMANAGE_ADMIN_TOKEN": "x" * 31, "APPMANAGE_DATA_DIR": str(tmp_path)}
    for command in ("serve", "worker", "run"):
        started = subprocess.run([*APPMANAGE, command], env=env, capture_output=True, text=True, timeout=60)
        assert started.returncode == 2, (command, started.stderr)
        assert "APPMANAGE_ADMIN_TOKEN is 31 characters long; it must have at least 32" in started.stderr
    with pytest.raises(WeakAdminToken, match="at least 32"):
        create_app(replace(settings, admin_token="short"))
    assert len(settings.admin_token) >= 32, "the tests' own admin token is long enough"
