"""Fixtures: a private data folder, Redis namespace and set of app names per test run, real
worker processes, and the real ASGI app driven in-process. Everything a run creates in
Docker carries its run id and is removed at the end, even when a test fails."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest
from redis import Redis
from starlette.testclient import TestClient

from appmanage.config import SHIPPED_CATALOG, Settings
from appmanage.runtime.compose import detect_compose_command
from tests.helpers import ADMIN_TOKEN, GraphQLClient, free_port, wait_for

RUN_ID = "t" + secrets.token_hex(2)
REDIS_URL = os.environ.get("APPMANAGE_REDIS_URL", "redis://127.0.0.1:6379/0")
FIXTURES = Path(__file__).parent / "fixtures"


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
    )


def settings_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "APPMANAGE_DATA_DIR": str(settings.data_dir),
        "APPMANAGE_NAMESPACE": settings.namespace,
        "APPMANAGE_REDIS_URL": settings.redis_url,
        "APPMANAGE_DATABASE_URL": settings.database_url,
        "APPMANAGE_CATALOGS": os.pathsep.join(str(c) for c in settings.catalogs),
        "APPMANAGE_COMPOSE_TIMEOUT": str(settings.compose_timeout),
        "APPMANAGE_ADMIN_TOKEN": settings.admin_token,
    }


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


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"


def start_server(settings: Settings) -> Server:
    port = free_port()
    env = {**settings_env(settings), "APPMANAGE_PORT": str(port), "APPMANAGE_HOST": "127.0.0.1"}
    process = subprocess.Popen([sys.executable, "-m", "appmanage", "serve"], env=env, stderr=subprocess.DEVNULL)
    server = Server(process, port)

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return True
        except OSError:
            assert process.poll() is None, "the API process exited"
            return False

    wait_for(answers, 30, "the API to answer")
    return server


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()


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


def remove_project(name: str) -> None:
    subprocess.run(
        [*detect_compose_command(), "-p", name, "down", "--volumes", "--remove-orphans", "--timeout", "1"],
        capture_output=True,
        timeout=120,
    )


@pytest.fixture(scope="session", autouse=True)
def leave_nothing_behind(settings: Settings) -> Iterator[None]:
    yield
    client = docker.from_env()
    label = "com.docker.compose.project"
    projects = {
        (c.get("Labels") or {}).get(label, "")
        for c in client.api.containers(all=True, filters={"label": label})
        if (c.get("Labels") or {}).get(label, "").startswith(RUN_ID)
    }
    for project in projects:
        remove_project(project)
    for network in client.networks.list(filters={"label": label}):
        if network.attrs.get("Labels", {}).get(label, "").startswith(RUN_ID):
            network.remove()
    for volume in client.volumes.list(filters={"label": label}):
        if (volume.attrs.get("Labels") or {}).get(label, "").startswith(RUN_ID):
            volume.remove(force=True)
    client.close()
    redis = Redis.from_url(settings.redis_url)
    for pattern in (f"{settings.namespace}*", f"rq:*{settings.namespace}*"):
        for key in redis.scan_iter(match=pattern):
            redis.delete(key)
    redis.close()
    shutil.rmtree(settings.data_dir, ignore_errors=True)
