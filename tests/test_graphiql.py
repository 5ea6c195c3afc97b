"""GraphiQL in Debian's Chromium driven by Playwright, against the real server: it loads from
AppManage alone (no request leaves 127.0.0.1, none fails), runs a query, and shows a
subscription's events."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Page, expect

from appmanage.config import Settings
from appmanage.graphiql import page as graphiql
from tests.support.graphql import ADMIN_TOKEN, INSTALL, bearer
from tests.support.playwright import Traffic, in_chromium, wait_until
from tests.support.ports import free_port
from tests.support.processes import start_server, stop_server

TOKEN = f"Bearer {ADMIN_TOKEN}"

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`appmanage serve` in its own process, on a free port; yields its base URL."""
    assert graphiql.assets_ready(), "GraphiQL's assets are not built: run `make assets`"
    running = start_server(settings, log=tmp_path_factory.mktemp("graphiql") / "serve.log")
    try:
        yield running.base
    finally:
        stop_server(running)


def execute(base: str, query: str, **variables: Any) -> dict[str, Any]:
    response = httpx.post(
        f"{base}/graphql", json={"query": query, "variables": variables}, headers=bearer(ADMIN_TOKEN), timeout=30
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


def editor(selector: str) -> str:
    """A JavaScript expression for the CodeMirror instance inside the element `selector`."""
    return f"document.querySelector({json.dumps(selector + ' .CodeMirror')}).CodeMirror"


QUERY_EDITOR = editor(".graphiql-query-editor")
HEADERS_EDITOR = editor(".graphiql-editor-tool .graphiql-editor:not(.hidden)")
RESPONSE = editor(".graphiql-response")
EXECUTE = "Execute query (Ctrl-Enter)"


def open_graphiql(page: Page, base: str) -> None:
    page.goto(f"{base}/graphql")
    expect(page.get_by_role("button", name=EXECUTE)).to_be_visible()
    expect(page.locator(".graphiql-response .CodeMirror")).to_be_attached()


def authenticate(page: Page) -> None:
    page.evaluate(f"{HEADERS_EDITOR}.setValue({json.dumps(json.dumps({'Authorization': TOKEN}))})")


def run(page: Page, query: str) -> None:
    page.evaluate(f"{QUERY_EDITOR}.setValue({json.dumps(query)})")
    page.get_by_role("button", name=EXECUTE).click()


def response_when(page: Page, check: Callable[[dict[str, Any]], bool], seconds: float = 30) -> dict[str, Any]:
    """The response pane's JSON, once `check` accepts it."""

    def accepted() -> dict[str, Any] | None:
        try:
            shown: dict[str, Any] = json.loads(page.evaluate(f"{RESPONSE}.getValue()"))
        except ValueError:
            return None
        return shown if check(shown) else None

    return wait_until(page, accepted, "the response pane to show the result", seconds)


def assert_offline_clean(traffic: Traffic, base: str) -> None:
    local = urlsplit(base).netloc
    remote = [url for url in traffic.requests if urlsplit(url).netloc != local]
    assert not remote, f"GraphiQL asked for other hosts: {remote}"
    failed = [(url, status) for url, status in traffic.responses if status >= 400]
    assert not failed, f"requests that failed: {failed}"
    assert not traffic.failures, f"requests that did not load: {traffic.failures}"
    assert not traffic.errors, f"JavaScript errors: {traffic.errors}"


def test_without_its_assets_the_page_says_how_to_build_them(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(graphiql, "STATIC_DIR", tmp_path)
    response = graphiql.graphiql_page()
    assert response.status_code == 503
    assert b"make assets" in response.body
    assert b"<script" not in response.body


@in_chromium
def test_graphiql_loads_from_appmanage_alone_and_runs_a_query(server: str, page: Page, traffic: Traffic) -> None:
    open_graphiql(page, server)
    served = {urlsplit(url).path for url in traffic.requests}
    assert {"/graphiql-assets/graphiql.min.js", "/graphiql-assets/graphql-ws.min.js"} <= served

    authenticate(page)
    run(page, "{ health { docker redis database } }")
    shown = response_when(page, lambda body: "health" in (body.get("data") or {}))
    assert shown["data"]["health"]["redis"] is True
    assert shown["data"]["health"]["database"] is True
    assert_offline_clean(traffic, server)


@in_chromium
def test_graphiql_shows_the_events_of_a_subscription(
    server: str,
    page: Page,
    traffic: Traffic,
    workers: list[subprocess.Popen[bytes]],
    app_name: Callable[[str], str],
) -> None:
    name = app_name("giql")
    open_graphiql(page, server)
    authenticate(page)
    run(page, EVENTS)
    sent, received = traffic.frames_sent, traffic.frames_received
    wait_until(page, lambda: any(f.get("type") == "subscribe" for f in sent), "the subscribe message")
    init = next(f for f in sent if f.get("type") == "connection_init")
    assert init.get("payload") == {"Authorization": TOKEN}
    wait_until(page, lambda: any(f.get("type") == "connection_ack" for f in received), "connection_ack")

    settings = [{"key": "HTTP_PORT", "value": str(free_port())}]
    install = {"catalogApp": "hello", "name": name, "version": "1", "settings": settings}
    job = execute(server, INSTALL, input=install)["installApp"]["job"]

    shown = response_when(page, lambda body: event_app((body.get("data") or {}).get("events")) == name, 60)
    assert shown["data"]["events"]["__typename"] in ("JobEvent", "AppStatusEvent")
    assert_offline_clean(traffic, server)
    wait_finished(server, job["id"])


EVENTS = """subscription {
  events {
    __typename
    ... on JobEvent { cursor job { app kind state step } line }
    ... on AppStatusEvent { cursor app status statusReason }
  }
}"""


def event_app(event: dict[str, Any] | None) -> str | None:
    if not event:
        return None
    app: str | None = event["job"]["app"] if "job" in event else event.get("app")
    return app


def wait_finished(base: str, job_id: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while execute(base, JOB_STATE, id=job_id)["job"]["state"] in ("QUEUED", "RUNNING"):
        assert time.monotonic() < deadline, f"job {job_id} did not finish in {seconds:.0f} s"
        time.sleep(0.5)


JOB_STATE = "query($id: ID!) { job(id: $id) { state } }"
