"""Fixtures: a private data folder, Redis namespace and set of app names per test run, real
worker processes, and the real ASGI app driven in-process. Everything a run creates in
Docker carries its run id and is removed at the end, even when a test fails. Nothing here
touches Docker or Redis unless a test that needs them runs (`pytest -m "not docker"`
works on a machine without either); a test using one of DOCKER_FIXTURES is marked
`docker` even when its module forgot to say so. The tools are in tests/support."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest
from starlette.testclient import TestClient

from appmanage.config import SHIPPED_CATALOG, Settings
from tests.support.databases import database, database_url, migrated_postgres_template, postgres
from tests.support.graphql import ADMIN_TOKEN, GraphQLClient
from tests.support.playwright import page, traffic
from tests.support.processes import Server, settings_env, start_server, stop_server
from tests.support.projects import delete_keys, remove_project, remove_projects
from tests.support.run import FIXTURES, RUN_ID
from tests.support.websoft9 import w9_network

__all__ = [
    "FIXTURES",
    "RUN_ID",
    "Server",
    "database",
    "database_url",
    "migrated_postgres_template",
    "page",
    "postgres",
    "settings_env",
    "start_server",
    "stop_server",
    "traffic",
    "w9_network",
]

REDIS_URL = os.environ.get("APPMANAGE_REDIS_URL", "redis://127.0.0.1:6379/0")
DOCKER_FIXTURES = {"workers", "watcher", "server", "client", "api", "app_name", "w9_network"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if DOCKER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.docker)


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        data_dir=tmp_path_factory.mktemp("appmanage-data"),
        namespace=f"appmanage-test-{RUN_ID}",
        redis_url=REDIS_URL,
        catalogs=(SHIPPED_CATALOG, FIXTURES / "native", FIXTURES / "websoft9"),
        workers=2,
        compose_timeout=120,
        admin_token=ADMIN_TOKEN,
        schedule_seconds=True,  # a schedule may tick every few seconds (tests/test_schedules.py)
    )


@pytest.fixture(scope="session")
def workers(settings: Settings) -> Iterator[list[subprocess.Popen[bytes]]]:
    env = settings_env(settings)
    subprocess.run([sys.executable, "-m", "appmanage", "migrate"], env=env, check=True)
    processes = [
        subprocess.Popen([sys.executable, "-m", "appmanage", "worker"], env=env, stderr=subprocess.DEVNULL)
        for _ in range(settings.workers)
    ]
    yield processes
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def watcher(settings: Settings) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "appmanage", "watch"], env=settings_env(settings), stderr=subprocess.DEVNULL
    )
    yield process
    process.terminate()
    process.wait(timeout=15)


@pytest.fixture(scope="session")
def server(settings: Settings, workers: list[subprocess.Popen[bytes]], watcher: object) -> Iterator[Server]:
    """A real API process (uvicorn) on a free port, for websocket clients."""
    running = start_server(settings)
    yield running
    stop_server(running)


@pytest.fixture(scope="session")
def client(
    settings: Settings, workers: list[subprocess.Popen[bytes]], watcher: subprocess.Popen[bytes]
) -> Iterator[TestClient]:
    from appmanage.app import create_app

    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def api(client: TestClient) -> GraphQLClient:
    return GraphQLClient(client)


@pytest.fixture
def app_name() -> Iterator[Callable[[str], str]]:
    """Unique app names for one test; their compose projects are removed after it."""
    names: list[str] = []

    def make(short: str) -> str:
        name = f"{RUN_ID}-{short}-{secrets.token_hex(2)}"[:31].rstrip("-")
        names.append(name)
        return name

    yield make
    for name in names:
        remove_project(name)


@pytest.fixture(scope="session", autouse=True)
def leave_nothing_behind(request: pytest.FixtureRequest, settings: Settings) -> Iterator[None]:
    yield
    if not any(item.get_closest_marker("docker") for item in request.session.items):
        return
    remove_projects(RUN_ID)
    delete_keys(settings.redis_url, [settings.namespace])
    shutil.rmtree(settings.data_dir, ignore_errors=True)
