"""The API's doors: no query string in any log, appLogs only for apps AppManage manages, a
cost limit on queries, a cap on websockets per token, and authentication that does not
wait behind slow work in the default thread pool."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import docker
import httpx
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from appmanage.app import create_app
from appmanage.auth import tokens
from appmanage.config import Settings
from appmanage.enums import Role
from appmanage.storage.database import Database
from graphql import get_introspection_query
from tests.support.graphql import ADMIN_TOKEN, bearer
from tests.support.processes import Server, start_server, stop_server
from tests.support.run import RUN_ID
from tests.support.waiting import wait_for
from tests.support.wsclient import GraphQLWebSocket

pytestmark = pytest.mark.docker

HEADERS = bearer(ADMIN_TOKEN)
IMAGE = "appmanage-local/busybox:1"


@pytest.fixture(scope="module")
def served(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(settings, log=tmp_path_factory.mktemp("trust-api") / "serve.out")
    yield server
    stop_server(server)


def test_a_secret_in_a_get_request_reaches_no_log(served: Server, settings: Settings) -> None:
    secret = "pw-" + secrets.token_hex(12)
    document = "query($password: String!) { catalogApp(name: $password) { name } }"
    params = {"query": document, "variables": json.dumps({"password": secret})}
    answer = httpx.get(served.http, params=params, headers=HEADERS, timeout=30)
    assert answer.status_code == 200, answer.text
    assert served.log is not None
    service_log = settings.logs_dir / "appmanage.log"

    def logged() -> bool:
        return '"GET /graphql HTTP/1.1" 200' in service_log.read_text()

    wait_for(logged, 10, "the access log line of the GET request (path only)")
    for path in (service_log, served.log):
        text = path.read_text(errors="replace")
        assert secret not in text, path
        assert "/graphql?" not in text, path


@pytest.fixture
def foreign_project() -> Iterator[str]:
    """A running container of a compose project that is not AppManage's, printing a marker."""
    name = f"{RUN_ID}-foreign-{secrets.token_hex(2)}"
    client = docker.from_env()
    try:
        container = client.containers.run(
            IMAGE,
            ["sh", "-c", f"echo foreign-marker-{name}; sleep 300"],
            name=name,
            labels={"com.docker.compose.project": name, "com.docker.compose.service": "web"},
            network_mode="none",
            detach=True,
        )
        wait_for(lambda: b"foreign-marker" in container.logs(), 20, "the foreign container's first line")
        yield name
    finally:
        for leftover in client.containers.list(all=True, filters={"name": name}):
            leftover.remove(force=True)
        client.close()


def test_app_logs_of_a_project_that_is_not_ours_are_refused(served: Server, foreign_project: str) -> None:
    answer = httpx.post(
        served.http,
        json={
            "query": "query($n: String!) { appLogs(name: $n, tail: 50) { line } }",
            "variables": {"n": foreign_project},
        },
        headers=HEADERS,
        timeout=30,
    )
    assert "foreign-marker" not in answer.text
    body = answer.json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "NOT_FOUND", body
    with GraphQLWebSocket(served.ws) as ws:
        ws.subscribe("logs", "subscription($n: String!) { appLogs(name: $n, tail: 50) { line } }", n=foreign_project)
        message = ws.message_for("logs", 10)
        assert "foreign-marker" not in json.dumps(message)
        assert message["type"] == "next" and message["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def expanding(levels: int) -> str:
    """A small document whose fields, fragments expanded, double with each level."""
    fragments = ["fragment F0 on Query { health { redis } }"]
    fragments += [
        f"fragment F{n} on Query {{ health {{ redis }} ...F{n - 1} ...F{n - 1} }}" for n in range(1, levels + 1)
    ]
    return f"query {{ ...F{levels} }} " + " ".join(fragments)


def test_a_query_past_the_cost_limit_is_refused_at_once(served: Server) -> None:
    def ask(document: str) -> dict[str, Any]:
        answer: dict[str, Any] = httpx.post(served.http, json={"query": document}, headers=HEADERS, timeout=5).json()
        return answer

    started = time.monotonic()
    refused = ask(expanding(200))  # before: Strawberry's depth limiter expanded it for ever
    took = time.monotonic() - started
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY", refused
    assert "APPMANAGE_MAX_QUERY_COST" in refused["errors"][0]["message"]
    assert took < 2, took
    assert ask(expanding(12))["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert "errors" not in ask(expanding(5))
    introspection = ask(get_introspection_query())
    assert "errors" not in introspection and introspection["data"]["__schema"]["types"]
    print(f"a 2^200-field document refused in {took * 1000:.0f} ms")


def test_websockets_per_token_are_capped(settings: Settings) -> None:
    with TestClient(create_app(replace(settings, max_sockets_per_token=2))) as client:
        first = client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"])
        second = client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"])
        with first as one, second as two:
            for ws in (one, two):
                ws.send_json({"type": "connection_init", "payload": HEADERS})
                assert ws.receive_json()["type"] == "connection_ack"
            with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as three:
                three.send_json({"type": "connection_init", "payload": HEADERS})
                with pytest.raises(WebSocketDisconnect) as refused:
                    three.receive_json()
            assert refused.value.code == 4429
            assert "APPMANAGE_MAX_SOCKETS_PER_TOKEN" in refused.value.reason
        with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as again:
            again.send_json({"type": "connection_init", "payload": HEADERS})
            assert again.receive_json()["type"] == "connection_ack"


def test_authentication_does_not_wait_behind_a_busy_default_pool(settings: Settings) -> None:
    db = Database(settings.database_url)
    try:
        with TestClient(create_app(settings)) as client:
            _, secret = tokens.create_token(db, f"{RUN_ID}-busy-{secrets.token_hex(3)}", Role.VIEWER)

            async def saturate() -> None:
                loop = asyncio.get_running_loop()
                for _ in range(16):  # more than the default pool's threads (6 on 2 cores)
                    loop.run_in_executor(None, time.sleep, 2)

            client.portal.call(saturate)
            for token, status in ((secret, 200), ("amt_" + secrets.token_urlsafe(32), 401)):
                started = time.monotonic()
                answer = client.post("/graphql", json={"query": "{ __typename }"}, headers=bearer(token))
                took = time.monotonic() - started
                assert answer.status_code == status, answer.text
                assert took < 1.0, f"authentication took {took:.2f} s behind the busy default pool"
                print(f"authenticated ({status}) in {took * 1000:.0f} ms with the default pool busy")
            started = time.monotonic()
            with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
                ws.send_json({"type": "connection_init", "payload": bearer("amt_" + secrets.token_urlsafe(32))})
                with pytest.raises(WebSocketDisconnect) as closed:
                    ws.receive_json()
            assert closed.value.code == 4403 and time.monotonic() - started < 1.0
    finally:
        db.dispose()
