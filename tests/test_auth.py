"""Who may do what: every role, and no token, a wrong one and a revoked one, against every
query, mutation and subscription, over HTTP and over a websocket; and the tokens themselves."""

from __future__ import annotations

import hashlib
import json
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from appmanage.app import FIRST_START
from appmanage.config import Settings
from appmanage.enums import Role
from appmanage.schema.schema import schema
from tests.support.graphql import GraphQLClient, bearer
from tests.support.processes import Server, settings_env, start_server, stop_server
from tests.support.run import RUN_ID
from tests.support.tokens import CREATE, REVOKE, create_token
from tests.support.wsclient import GraphQLWebSocket

pytestmark = pytest.mark.docker

REFUSED = ("none", "wrong", "revoked")
CALLERS = (*REFUSED, "VIEWER", "OPERATOR", "ADMIN")
NO_APP = f"{RUN_ID}-nosuchapp"
NO_ID = "0" * 32


@dataclass(frozen=True)
class Operation:
    field: str
    needs: Role
    document: str
    waits: bool = False  # a subscription that, allowed, stays open without a message
    answers: str | None = None  # the error code it answers when allowed (none: no error)

    @property
    def kind(self) -> str:
        return self.document.split(maxsplit=1)[0]

    def text(self) -> str:
        return self.document.replace("{unique}", f"{RUN_ID}-{secrets.token_hex(4)}")


OPERATIONS = (
    Operation("Query.catalog", Role.VIEWER, "query { catalog { name } }"),
    Operation("Query.catalogApp", Role.VIEWER, 'query { catalogApp(name: "hello") { name } }'),
    Operation("Query.catalogProblems", Role.VIEWER, "query { catalogProblems { app } }"),
    Operation(
        "Query.previewInstall",
        Role.VIEWER,
        'query { previewInstall(input: {catalogApp: "hello", name: "X"}) { __typename } }',
    ),
    Operation("Query.apps", Role.VIEWER, "query { apps { name } }"),
    Operation("Query.viewer", Role.VIEWER, "query { viewer { role } }"),
    Operation("Query.appsConnection", Role.VIEWER, "query { appsConnection(first: 5) { totalCount } }"),
    Operation("Query.app", Role.VIEWER, f'query {{ app(name: "{NO_APP}") {{ name }} }}'),
    Operation("Query.job", Role.VIEWER, f'query {{ job(id: "{NO_ID}") {{ id }} }}'),
    Operation("Query.appLogs", Role.VIEWER, f'query {{ appLogs(name: "{NO_APP}") {{ line }} }}', answers="NOT_FOUND"),
    Operation("Query.health", Role.VIEWER, "query { health { redis } }"),
    Operation("Query.tokens", Role.ADMIN, "query { tokens { id name role } }"),
    Operation("Query.hosts", Role.VIEWER, "query { hosts { name status } }"),
    Operation("Query.host", Role.VIEWER, f'query {{ host(name: "{NO_APP}") {{ name }} }}'),
    Operation(
        "Mutation.installApp",
        Role.OPERATOR,
        'mutation { installApp(input: {catalogApp: "hello", name: "X"}) { __typename } }',
    ),
    Operation("Mutation.startApp", Role.OPERATOR, f'mutation {{ startApp(name: "{NO_APP}") {{ __typename }} }}'),
    Operation("Mutation.stopApp", Role.OPERATOR, f'mutation {{ stopApp(name: "{NO_APP}") {{ __typename }} }}'),
    Operation("Mutation.restartApp", Role.OPERATOR, f'mutation {{ restartApp(name: "{NO_APP}") {{ __typename }} }}'),
    Operation("Mutation.redeployApp", Role.OPERATOR, f'mutation {{ redeployApp(name: "{NO_APP}") {{ __typename }} }}'),
    Operation(
        "Mutation.updateApp",
        Role.OPERATOR,
        f'mutation {{ updateApp(name: "{NO_APP}", version: "1") {{ __typename }} }}',
    ),
    Operation(
        "Mutation.uninstallApp", Role.OPERATOR, f'mutation {{ uninstallApp(name: "{NO_APP}") {{ __typename }} }}'
    ),
    Operation("Mutation.cancelJob", Role.OPERATOR, f'mutation {{ cancelJob(id: "{NO_ID}") {{ __typename }} }}'),
    Operation(
        "Mutation.editApp",
        Role.OPERATOR,
        f'mutation {{ editApp(name: "{NO_APP}", compose: "services: {{}}") {{ __typename }} }}',
    ),
    Operation(
        "Mutation.createToken",
        Role.ADMIN,
        'mutation { createToken(name: "{unique}", role: VIEWER) { __typename ... on TokenCreated { secret } } }',
    ),
    Operation("Mutation.revokeToken", Role.ADMIN, f'mutation {{ revokeToken(id: "{NO_ID}") {{ __typename }} }}'),
    Operation(
        "Subscription.appStatusChanged",
        Role.VIEWER,
        f'subscription {{ appStatusChanged(name: "{NO_APP}") {{ status }} }}',
        waits=True,
    ),
    Operation("Subscription.jobUpdated", Role.VIEWER, f'subscription {{ jobUpdated(id: "{NO_ID}") {{ line }} }}'),
    Operation(
        "Subscription.appLogs",
        Role.VIEWER,
        f'subscription {{ appLogs(name: "{NO_APP}") {{ line }} }}',
        answers="NOT_FOUND",
    ),
    Operation("Mutation.drainHost", Role.ADMIN, f'mutation {{ drainHost(name: "{NO_APP}") {{ __typename }} }}'),
    Operation("Mutation.undrainHost", Role.ADMIN, f'mutation {{ undrainHost(name: "{NO_APP}") {{ __typename }} }}'),
    Operation(
        "Subscription.hostStatusChanged",
        Role.VIEWER,
        f'subscription {{ hostStatusChanged(name: "{NO_APP}") {{ status }} }}',
        waits=True,
    ),
    Operation("Subscription.events", Role.VIEWER, 'subscription { events(after: "1-0") { __typename } }'),
    Operation("Query.hostStats", Role.VIEWER, "query { hostStats { cpus } }"),
    Operation(
        "Subscription.appStats",
        Role.VIEWER,
        f'subscription {{ appStats(name: "{NO_APP}") {{ cpuPercent }} }}',
        answers="NOT_FOUND",
    ),
    Operation(
        "Subscription.hostStats",
        Role.VIEWER,
        f'subscription {{ hostStats(host: "{NO_APP}") {{ cpus }} }}',
        answers="NOT_FOUND",
    ),
    Operation("Query.backups", Role.VIEWER, "query { backups { id } }"),
    Operation("Query.backupRetention", Role.VIEWER, f'query {{ backupRetention(app: "{NO_APP}") {{ keepLast }} }}'),
    Operation("Mutation.backupApp", Role.OPERATOR, f'mutation {{ backupApp(name: "{NO_APP}") {{ __typename }} }}'),
    Operation(
        "Mutation.restoreApp",
        Role.OPERATOR,
        f'mutation {{ restoreApp(name: "{NO_APP}", backupId: "{NO_ID}") {{ __typename }} }}',
    ),
    Operation("Mutation.deleteBackup", Role.OPERATOR, f'mutation {{ deleteBackup(id: "{NO_ID}") {{ __typename }} }}'),
    Operation(
        "Mutation.setBackupRetention",
        Role.OPERATOR,
        f'mutation {{ setBackupRetention(app: "{NO_APP}", keepLast: 1, keepDaily: 0, keepWeekly: 0) '
        "{ __typename } }",
    ),
    Operation("Query.schedules", Role.VIEWER, "query { schedules { id } }"),
    Operation(
        "Mutation.scheduleJob",
        Role.OPERATOR,
        f'mutation {{ scheduleJob(app: "{NO_APP}", kind: RESTART, cron: "@daily") {{ __typename }} }}',
    ),
    Operation("Mutation.unscheduleJob", Role.OPERATOR, f'mutation {{ unscheduleJob(id: "{NO_ID}") {{ __typename }} }}'),
)

TOKENS = "{ tokens { id name role createdAt lastUsedAt } }"


@pytest.fixture(scope="module")
def callers(api: GraphQLClient) -> dict[str, str | None]:
    """Each caller's token: none, an unknown one, a revoked one, and one of each role."""
    revoked = create_token(api, Role.ADMIN)
    api.execute(REVOKE, id=revoked["token"]["id"])
    made = {role.value: create_token(api, role)["secret"] for role in Role}
    return {"none": None, "wrong": "amt_" + secrets.token_urlsafe(32), "revoked": revoked["secret"], **made}


def headers_of(token: str | None) -> dict[str, str]:
    return bearer(token) if token else {}


def codes(errors: list[dict[str, Any]]) -> list[str | None]:
    return [(error.get("extensions") or {}).get("code") for error in errors]


def test_the_matrix_covers_every_root_field() -> None:
    served = schema._schema
    roots = (served.query_type, served.mutation_type, served.subscription_type)
    fields = {f"{root.name}.{name}" for root in roots if root is not None for name in root.fields}
    assert {op.field for op in OPERATIONS} == fields


@pytest.mark.parametrize("caller", CALLERS)
def test_every_caller_against_every_operation_over_http(
    client: TestClient, callers: dict[str, str | None], caller: str
) -> None:
    headers = headers_of(callers[caller])
    for op in OPERATIONS:
        response = client.post("/graphql", json={"query": op.text()}, headers=headers)
        if caller in REFUSED:
            assert response.status_code == 401, (op.field, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
            assert codes(response.json()["errors"]) == ["UNAUTHENTICATED"]
        elif op.kind == "subscription":
            assert response.status_code == 400, (op.field, response.text)
            assert "subscriptions are not allowed" in response.text
        else:
            assert response.status_code == 200, (op.field, response.text)
            body = response.json()
            if Role(caller).includes(op.needs):
                assert codes(body.get("errors", [])) == ([op.answers] if op.answers else []), (caller, op.field, body)
            else:
                assert body["data"] is None, (caller, op.field, body)
                assert codes(body["errors"]) == ["FORBIDDEN"], (caller, op.field, body)


def init_refused(url: str, payload: object) -> int:
    """The close code a websocket gets for this connection_init payload."""
    with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=10) as connection:  # type: ignore[list-item]
        connection.send(json.dumps({"type": "connection_init", "payload": payload}))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                connection.recv(timeout=10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


@pytest.mark.parametrize("caller", CALLERS)
def test_every_caller_against_every_operation_over_a_websocket(
    server: Server, callers: dict[str, str | None], caller: str
) -> None:
    token = callers[caller]
    if caller in REFUSED:
        assert init_refused(server.ws, headers_of(token)) == 4403
        return
    assert token is not None
    with GraphQLWebSocket(server.ws, token=token) as ws:
        for op in OPERATIONS:
            ws.send({"id": op.field, "type": "subscribe", "payload": {"query": op.text()}})
        ws.barrier()
        for op in OPERATIONS:
            allowed = Role(caller).includes(op.needs)
            if op.waits and allowed:
                continue
            message = ws.message_for(op.field, 10)
            errors = message["payload"] if message["type"] == "error" else message["payload"].get("errors", [])
            if allowed:
                assert "FORBIDDEN" not in codes(errors), (caller, op.field, message)
                if op.answers:
                    assert codes(errors) == [op.answers], (caller, op.field, message)
                elif op.kind != "subscription":
                    assert message["type"] == "next" and not errors, (caller, op.field, message)
            else:
                assert codes(errors) == ["FORBIDDEN"], (caller, op.field, message)
        time.sleep(0.5)
        for op in OPERATIONS:
            if op.waits:
                assert not ws._pending.get(op.field), (caller, op.field, ws._pending[op.field])
                ws.complete(op.field)


def test_websocket_without_connection_params_or_with_odd_ones_is_refused(server: Server) -> None:
    for payload in (
        {},
        {"Authorization": "Basic abc"},
        {"Authorization": 42},
        {"Authorization": "Bearer \u00e9t\u00e9"},
    ):
        assert init_refused(server.ws, payload) == 4403, payload


def test_a_token_works_until_it_is_revoked(client: TestClient, api: GraphQLClient, server: Server) -> None:
    created = create_token(api, Role.VIEWER)
    headers = bearer(created["secret"])
    assert client.post("/graphql", json={"query": "{ health { redis } }"}, headers=headers).status_code == 200
    listed = {t["id"]: t for t in api.execute(TOKENS)["tokens"]}
    assert listed[created["token"]["id"]]["lastUsedAt"] is not None
    with GraphQLWebSocket(server.ws, token=created["secret"]) as ws:
        ws.barrier()

    revoked = api.execute(REVOKE, id=created["token"]["id"])["revokeToken"]
    assert revoked == {"__typename": "ApiToken", "id": created["token"]["id"], "name": created["token"]["name"]}
    assert client.post("/graphql", json={"query": "{ health { redis } }"}, headers=headers).status_code == 401
    assert init_refused(server.ws, bearer(created["secret"])) == 4403
    assert created["token"]["id"] not in {t["id"] for t in api.execute(TOKENS)["tokens"]}
    again = api.execute(REVOKE, id=created["token"]["id"])["revokeToken"]
    assert again["__typename"] == "NotFoundError"


def test_tokens_are_kept_as_hashes_only(api: GraphQLClient, settings: Settings) -> None:
    created = create_token(api, Role.OPERATOR)
    secret = created["secret"]
    assert secret.startswith("amt_") and len(secret) >= 40
    stored = b"".join(
        path.read_bytes() for path in settings.data_dir.glob("appmanage.db*") if not path.name.endswith("lock")
    )
    assert secret.encode() not in stored
    assert hashlib.sha256(secret.encode()).hexdigest().encode() in stored
    assert "secret" not in json.dumps(api.execute(TOKENS))


def test_token_names_are_checked(api: GraphQLClient) -> None:
    name = f"{RUN_ID}-dup"
    create_token(api, Role.VIEWER, name)
    taken = api.execute(CREATE, name=name, role="VIEWER")["createToken"]
    assert taken["__typename"] == "ConflictError"
    for bad in ("", " lead", "x" * 65, "../x", "a\x00b", "tab\tname", "\u0430dmin"):
        refused = api.execute(CREATE, name=bad, role="VIEWER")["createToken"]
        assert refused["__typename"] == "ValidationError", bad


def test_token_command_creates_lists_and_revokes(client: TestClient, settings: Settings) -> None:
    env = settings_env(settings)
    command = [sys.executable, "-m", "appmanage", "token"]
    name = f"{RUN_ID}-cli"
    made = subprocess.run([*command, "create", "--name", name, "--role", "operator"], env=env, capture_output=True)
    assert made.returncode == 0, made.stderr
    secret = made.stdout.decode().strip()
    headers = bearer(secret)
    allowed = client.post(
        "/graphql", json={"query": f'mutation {{ stopApp(name: "{NO_APP}") {{ __typename }} }}'}, headers=headers
    )
    assert allowed.json()["data"]["stopApp"]["__typename"] == "NotFoundError"

    listed = subprocess.run([*command, "list"], env=env, capture_output=True, check=True).stdout.decode()
    line = next(line for line in listed.splitlines() if line.endswith(name))
    assert "OPERATOR" in line and secret not in listed
    token_id = line.split()[0]
    subprocess.run([*command, "revoke", token_id], env=env, capture_output=True, check=True)
    assert client.post("/graphql", json={"query": "{ health { redis } }"}, headers=headers).status_code == 401
    again = subprocess.run([*command, "revoke", token_id], env=env, capture_output=True)
    assert again.returncode == 1 and b"no token" in again.stderr


def test_graphiql_page_loads_without_a_token_but_queries_over_get_need_one(client: TestClient) -> None:
    page = client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code in (200, 503) and "<html" in page.text
    query = client.get("/graphql", params={"query": "{ health { redis } }"})
    assert query.status_code == 401


def test_first_start_without_any_token_says_how_to_make_one(tmp_path: Path, settings: Settings, server: Server) -> None:
    fresh = Settings(data_dir=tmp_path / "data", namespace=settings.namespace + "-fresh", redis_url=settings.redis_url)
    first = start_server(fresh)
    try:
        assert httpx.post(first.http, json={"query": "{ health { redis } }"}, timeout=10).status_code == 401
    finally:
        stop_server(first)
    assert FIRST_START in (fresh.logs_dir / "appmanage.log").read_text()
    assert "appmanage token create --name admin --role ADMIN" in FIRST_START
    assert FIRST_START not in (settings.logs_dir / "appmanage.log").read_text(), "APPMANAGE_ADMIN_TOKEN is a token"
