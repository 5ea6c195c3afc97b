"""Hostile input: query bombs, huge and broken bodies, names and settings built to escape
their folder or a shell. Each is refused as the client's error; nothing is created outside
`<data>/apps/<name>/`, and no request crashes the server or reaches it as an unexpected error."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from appmanage.app import create_app
from appmanage.config import Settings
from appmanage.resolvers import health
from tests.support.graphql import ADMIN_TOKEN, GraphQLClient, bearer
from tests.support.ports import free_port
from tests.support.processes import Server
from tests.support.run import RUN_ID
from tests.support.waiting import wait_for

pytestmark = pytest.mark.docker

HEADERS = bearer(ADMIN_TOKEN)
MARKER = f"appmanage-pwned-{RUN_ID}"
SHELLY = f"$(touch /tmp/{MARKER}) `touch /tmp/{MARKER}`; touch /tmp/{MARKER} | & > /tmp/{MARKER} ' \" $HOME ${{HOME}}"
NAMES = (
    "../escape",
    "../../etc/passwd",
    "/absolute",
    "a/b",
    "ok\x00nul",
    "nul\x00",
    "\u0430pp",  # Cyrillic a
    "\uff41pp",  # fullwidth a
    "ap\u200bp",  # zero-width space
    "app\n",
    "a;rm -rf /",
    "$(id)",
    "`id`",
    "a b",
    "-rf",
    "UPPER",
    "x" * 4096,
)
INSTALL = """mutation($input: InstallAppInput!) {
    installApp(input: $input) { __typename ... on Error { message } ... on ValidationError { field } }
}"""
PREVIEW = """query($input: InstallAppInput!) {
    previewInstall(input: $input) {
        __typename ... on InstallPreview { compose } ... on Error { message } ... on ValidationError { field }
    }
}"""


def post(client: TestClient, body: Any, **kwargs: Any) -> httpx.Response:
    return client.post("/graphql", json=body, headers=HEADERS, **kwargs)


def errors_of(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [error["message"] for error in response.json().get("errors", [])]


@pytest.fixture
def data_tree(settings: Settings) -> Iterator[Callable[[], set[str]]]:
    """What the data folder holds outside the logs, to compare before and after."""

    def tree() -> set[str]:
        skip = {"logs"}
        return {
            str(path.relative_to(settings.data_dir))
            for path in settings.data_dir.rglob("*")
            if path.relative_to(settings.data_dir).parts[0] not in skip and not path.name.startswith("appmanage.db")
        }

    yield tree
    assert not Path("/tmp", MARKER).exists(), "a value reached a shell"
    assert not Path(MARKER).exists(), "a value reached a shell"


def test_depth_alias_token_and_fragment_bombs_are_refused(client: TestClient) -> None:
    cyclic = "{ __schema { types { " + "fields { type { " * 10 + "name" + " } }" * 10 + " } } }"
    assert errors_of(post(client, {"query": cyclic})) == ["Maximum introspection depth exceeded"]
    wrapped = '{ __type(name: "Query") { ' + "ofType { " * 100 + "name" + " }" * 100 + " } }"
    assert errors_of(post(client, {"query": wrapped})) == []  # ofType of a named type is null: cheap
    nested = "{ " + "apps { " * 1500 + "name" + " }" * 1500 + " }"
    assert "nested too deeply" in errors_of(post(client, {"query": nested}))[0]

    aliases = "{ " + " ".join(f"a{i}: health {{ redis }}" for i in range(200)) + " }"
    assert errors_of(post(client, {"query": aliases})) == ["200 aliases found. Allowed: 30"]
    tokens = "{ " + "__typename " * 6000 + "}"
    assert "more than 5000 tokens" in errors_of(post(client, {"query": tokens}))[0]

    cycle = "query { ...A } fragment A on Query { ...B } fragment B on Query { health { redis } ...A }"
    assert "Cannot spread fragment" in errors_of(post(client, {"query": cycle}))[0]
    repeated = "query { " + "...H " * 400 + "} fragment H on Query { health { redis } }"
    assert post(client, {"query": repeated}).status_code == 200


def test_the_introspection_graphiql_sends_fits_the_limits(client: TestClient) -> None:
    from graphql import get_introspection_query

    query = get_introspection_query(
        descriptions=True, specified_by_url=True, directive_is_repeatable=True, input_value_deprecation=True
    )
    response = post(client, {"query": query})
    assert "errors" not in response.json() and response.json()["data"]["__schema"]["queryType"]["name"] == "Query"


def test_big_and_broken_bodies_are_refused(client: TestClient) -> None:
    ten_mb = b'{"query": "' + b"a" * (10 * 1024 * 1024) + b'"}'
    refused = client.post("/graphql", content=ten_mb, headers={**HEADERS, "content-type": "application/json"})
    assert refused.status_code == 413 and "APPMANAGE_MAX_BODY_BYTES" in refused.json()["errors"][0]["message"]

    def chunks() -> Iterator[bytes]:
        yield b'{"query": "'
        for _ in range(11):
            yield b"a" * 1024 * 1024

    streamed = client.post("/graphql", content=chunks(), headers={**HEADERS, "content-type": "application/json"})
    assert streamed.status_code == 413

    for body, kind in (
        (b"\xff\xfe{", "application/json"),
        (b"[" * 200_000 + b"]" * 200_000, "application/json"),
        (
            b'{"query": "{ __typename }", "variables": ' + b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"}",
            "application/json",
        ),
        (b"not json", "application/json"),
        (b"[]", "application/json"),
        (b'{"query": 5}', "application/json"),
        (b'{"query": "{ __typename }", "variables": [1]}', "application/json"),
        (b"{ __typename }", "text/plain"),
        (b"--x\r\n", "multipart/form-data; boundary=x"),
    ):
        answer = client.post("/graphql", content=body, headers={**HEADERS, "content-type": kind})
        assert answer.status_code == 400, (body[:40], answer.status_code, answer.text[:200])


def test_mutations_over_get_are_refused(client: TestClient, api: GraphQLClient) -> None:
    name = f"{RUN_ID}-viaget"
    query = f'mutation {{ createToken(name: "{name}", role: ADMIN) {{ __typename }} }}'
    refused = client.get("/graphql", params={"query": query}, headers=HEADERS)
    assert refused.status_code == 400 and "mutations are not allowed when using GET" in refused.text
    assert name not in {t["name"] for t in api.execute("{ tokens { name } }")["tokens"]}
    allowed = client.get("/graphql", params={"query": "{ health { redis } }"}, headers=HEADERS)
    assert allowed.json() == {"data": {"health": {"redis": True}}}


def test_hostile_names_are_refused_and_create_nothing(
    client: TestClient, data_tree: Callable[[], set[str]], settings: Settings
) -> None:
    before = data_tree()
    for name in NAMES:
        for document, field in ((INSTALL, "installApp"), (PREVIEW, "previewInstall")):
            result = post(client, {"query": document, "variables": {"input": {"catalogApp": "hello", "name": name}}})
            assert result.status_code == 200, (name, result.text)
            answer = result.json()["data"][field]
            assert answer["__typename"] == "ValidationError" and answer["field"] == "name", (name, answer)
        variables = {"name": name}
        assert post(
            client, {"query": "query($name: String!) { app(name: $name) { name } }", "variables": variables}
        ).json() == {"data": {"app": None}}
        logs = post(
            client, {"query": "query($name: String!) { appLogs(name: $name) { line } }", "variables": variables}
        ).json()
        assert logs["data"] is None and logs["errors"][0]["extensions"]["code"] == "NOT_FOUND", (name, logs)
        assert post(
            client, {"query": "query($name: String!) { catalogApp(name: $name) { name } }", "variables": variables}
        ).json() == {"data": {"catalogApp": None}}
        for mutation in ("startApp", "uninstallApp"):
            document = f"mutation($name: String!) {{ {mutation}(name: $name) {{ __typename }} }}"
            result = post(client, {"query": document, "variables": variables}).json()
            assert result["data"][mutation]["__typename"] in ("NotFoundError", "ValidationError"), (name, result)
        for document in (
            "query($id: ID!) { job(id: $id) { id } }",
            "mutation($id: ID!) { cancelJob(id: $id) { __typename } }",
        ):
            assert "errors" not in post(client, {"query": document, "variables": {"id": name}}).json(), name
        look_alike = post(client, {"query": INSTALL, "variables": {"input": {"catalogApp": name, "name": "fine-name"}}})
        assert look_alike.json()["data"]["installApp"]["__typename"] in ("NotFoundError", "ValidationError"), name
    assert data_tree() == before


def test_hostile_settings_are_refused(client: TestClient, data_tree: Callable[[], set[str]]) -> None:
    before = data_tree()
    name = f"{RUN_ID}-hostile"[:31]
    cases = [
        [{"key": "../../etc/passwd", "value": "x"}],
        [{"key": "GREETING", "value": "nul\x00byte"}],
        [{"key": "GREETING", "value": "line\nbreak"}],
        [{"key": "GREETING", "value": "x" * 4097}],
        [{"key": "GREETING", "value": "y" * 900_000}],
        [{"key": "HTTP_PORT", "value": "99999999999999999999"}],
        [{"key": "HTTP_PORT", "value": "8080; rm -rf /"}],
        [{"key": "GREETING", "value": "a"}, {"key": "GREETING", "value": "b"}],
        [{"key": f"K{i}", "value": "v"} for i in range(2000)],
    ]
    for settings in cases:
        for document, field in ((INSTALL, "installApp"), (PREVIEW, "previewInstall")):
            variables = {"input": {"catalogApp": "hello", "name": name, "settings": settings}}
            answer = post(client, {"query": document, "variables": variables}).json()["data"][field]
            assert answer["__typename"] == "ValidationError", (settings[0], answer)
            assert "y" * 100 not in answer["message"]
    assert data_tree() == before


def test_shell_characters_in_a_value_stay_plain_text(
    api: GraphQLClient, app_name: Callable[[str], str], data_tree: Callable[[], set[str]], settings: Settings
) -> None:
    preview = api.execute(
        PREVIEW,
        input={"catalogApp": "hello", "name": "preview-only", "settings": [{"key": "GREETING", "value": SHELLY}]},
    )["previewInstall"]
    assert preview["__typename"] == "InstallPreview", preview
    assert not (settings.apps_dir / "preview-only").exists()

    before = data_tree()
    name = app_name("shelly")
    job = api.install("hello", name, version="1", HTTP_PORT=str(free_port()), GREETING=SHELLY)["job"]
    assert api.wait_job(job["id"], timeout=120)["state"] == "SUCCEEDED"
    logs = wait_for(
        lambda: api.execute("query($n: String!) { appLogs(name: $n) { line } }", n=name)["appLogs"], 30, "the app's log"
    )
    assert logs[0]["line"] == f"{SHELLY} from version 1"
    created = data_tree() - before
    assert created and all(path == f"apps/{name}" or path.startswith(f"apps/{name}/") for path in created), created
    assert (
        api.wait_job(api.act("uninstallApp", name=name, purgeData=True)["job"]["id"], timeout=120)["state"]
        == "SUCCEEDED"
    )


def test_unexpected_errors_reach_clients_masked_with_the_id_in_the_log(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    hidden = "db password is " + secrets.token_hex(8)

    async def broken(*_: object) -> None:
        raise RuntimeError(hidden)

    monkeypatch.setattr(health, "health", broken)
    with caplog.at_level(logging.ERROR, logger="appmanage.api"):
        body = post(client, {"query": "{ health { redis } }"}).json()
    (error,) = body["errors"]
    assert hidden not in json.dumps(body) and "Traceback" not in json.dumps(body)
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    error_id = error["extensions"]["errorId"]
    assert error["message"] == f"unexpected error {error_id}; the service log tells more"
    (record,) = [r for r in caplog.records if error_id in r.getMessage()]
    assert record.exc_info is not None and hidden in str(record.exc_info[1])


def test_failures_outside_graphql_are_masked_too(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from appmanage.auth import bearer as bearer_module

    def broken(*_: object) -> None:
        raise RuntimeError("token store is on fire")

    monkeypatch.setattr(bearer_module, "principal_of", broken)
    raw = TestClient(client.app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="appmanage.api"):
        response = raw.post("/graphql", json={"query": "{ health { redis } }"}, headers=HEADERS)
    assert response.status_code == 500 and "on fire" not in response.text
    error_id = response.json()["errors"][0]["extensions"]["errorId"]
    assert any(error_id in r.getMessage() for r in caplog.records)


def isolated(settings: Settings, **changes: Any) -> TestClient:
    """An app on the same data with other settings, without lifespan: no migration, no hub."""
    return TestClient(create_app(Settings(**{**settings.__dict__, **changes})))


def test_cors_is_off_unless_origins_are_listed(client: TestClient, settings: Settings) -> None:
    preflight = {
        "origin": "https://evil.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization",
    }
    closed = client.options("/graphql", headers=preflight)
    assert "access-control-allow-origin" not in closed.headers
    simple = client.post(
        "/graphql", json={"query": "{ health { redis } }"}, headers={**HEADERS, "origin": "https://x.example"}
    )
    assert "access-control-allow-origin" not in simple.headers

    opened = isolated(settings, cors_origins=("https://ui.example",))
    try:
        allowed = opened.options("/graphql", headers={**preflight, "origin": "https://ui.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://ui.example"
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
        other = opened.options("/graphql", headers=preflight)
        assert "access-control-allow-origin" not in other.headers
    finally:
        opened.app.state.services.close()  # type: ignore[attr-defined]


def test_introspection_can_be_switched_off(settings: Settings) -> None:
    closed = isolated(settings, introspection=False)
    try:
        answer = closed.post("/graphql", json={"query": "{ __schema { types { name } } }"}, headers=HEADERS).json()
        assert "introspection" in answer["errors"][0]["message"].lower()
        typo = closed.post("/graphql", json={"query": "{ healt { redis } }"}, headers=HEADERS).json()
        assert "Did you mean" not in typo["errors"][0]["message"]
    finally:
        closed.app.state.services.close()  # type: ignore[attr-defined]


def test_limits_follow_the_settings(settings: Settings) -> None:
    tight = isolated(settings, max_query_depth=2, max_aliases=1, max_query_tokens=50, max_body_bytes=200)
    try:
        deep = tight.post("/graphql", json={"query": "{ apps { activeJob { id } } }"}, headers=HEADERS).json()
        assert "errors" not in deep
        deeper = 'mutation { installApp(input: {catalogApp: "x", name: "y"}) { ... on JobAccepted { app { activeJob { id } } } } }'  # noqa: E501
        too_deep = tight.post("/graphql", json={"query": deeper}, headers=HEADERS).json()
        assert too_deep["errors"][0]["message"] == "'anonymous' exceeds maximum operation depth of 2"
        aliases = tight.post("/graphql", json={"query": "{ a: __typename b: __typename }"}, headers=HEADERS).json()
        assert "Allowed: 1" in aliases["errors"][0]["message"]
        tokens = tight.post("/graphql", json={"query": "{ " + "__typename " * 60 + "}"}, headers=HEADERS)
        assert tokens.status_code == 413 or "tokens" in tokens.json()["errors"][0]["message"]
        assert (
            tight.post("/graphql", json={"query": "{ __typename }", "x": "y" * 300}, headers=HEADERS).status_code == 413
        )
    finally:
        tight.app.state.services.close()  # type: ignore[attr-defined]


def test_limits_and_origins_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "MAX_QUERY_DEPTH": "7",
        "MAX_QUERY_TOKENS": "700",
        "MAX_ALIASES": "3",
        "MAX_BODY_BYTES": "4096",
        "MAX_LIST_SIZE": "50",
        "MAX_SUBSCRIPTIONS": "5",
        "WS_INIT_TIMEOUT": "2.5",
        "INTROSPECTION": "false",
        "CORS_ORIGINS": "https://a.example, https://b.example",
        "ADMIN_TOKEN": "amt_from_env",
    }.items():
        monkeypatch.setenv(f"APPMANAGE_{key}", value)
    read = Settings.from_env()
    assert (read.max_query_depth, read.max_query_tokens, read.max_aliases) == (7, 700, 3)
    assert (read.max_body_bytes, read.max_list_size, read.max_subscriptions, read.ws_init_timeout) == (4096, 50, 5, 2.5)
    assert read.introspection is False and read.cors_origins == ("https://a.example", "https://b.example")
    assert read.admin_token == "amt_from_env" and "amt_from_env" not in repr(read)


def test_a_websocket_waits_only_so_long_for_connection_init(settings: Settings) -> None:
    impatient = isolated(settings, ws_init_timeout=0.3)
    try:
        with impatient.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            closed = ws.receive()
        assert closed["type"] == "websocket.close" and closed["code"] == 4408
    finally:
        impatient.app.state.services.close()  # type: ignore[attr-defined]


def test_hostile_traffic_does_not_crash_the_server(server: Server) -> None:
    with httpx.Client(timeout=30) as http:
        http.post(
            server.http, content=b"a" * (10 * 1024 * 1024), headers={**HEADERS, "content-type": "application/json"}
        )
        http.post(server.http, content=b"[" * 500_000, headers={**HEADERS, "content-type": "application/json"})
        http.post(server.http, json={"query": "{ " + "apps { " * 1500 + " }"}, headers=HEADERS)
        http.post(
            server.http, json={"query": "{ health { redis } }"}, headers={"Authorization": "Bearer " + "x" * 100_000}
        )
        http.get(server.http, params={"query": "{ __typename }", "variables": "[" * 20_000})
    for payload in ("not json", json.dumps({"type": "connection_init", "payload": "x"}), "x" * (2 * 1024 * 1024)):
        with connect(server.ws, subprotocols=["graphql-transport-ws"], open_timeout=10, max_size=None) as ws:  # type: ignore[list-item]
            try:
                ws.send(payload)
                while True:
                    ws.recv(timeout=10)
            except ConnectionClosed as closed:
                assert closed.rcvd is None or closed.rcvd.code in (1009, 4400, 4403), closed
    assert server.process.poll() is None
    assert httpx.get(server.http.replace("/graphql", "/healthz"), timeout=5).json() == {"ok": True}
    answer = httpx.post(server.http, json={"query": "{ health { redis } }"}, headers=HEADERS, timeout=10).json()
    assert answer == {"data": {"health": {"redis": True}}}
