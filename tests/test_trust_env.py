"""Compose runs with a minimal environment: a template sees nothing of AppManage's, and a
worker's own variables never override an app's settings (tests/fixtures/native/leaky)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import docker
import pytest

from appmanage.config import Settings
from appmanage.runtime.environment import subprocess_environment
from tests.support.ports import free_port
from tests.support.processes import Stack
from tests.support.waiting import wait_for
from tests.support.websoft9 import PREVIEW, container_env

WORKER_HTTP_PORT = "1"
WORKER_DB_PASSWORD = "from-the-worker-environment"


def test_only_path_home_docker_and_proxies_pass() -> None:
    ours = {
        "PATH": "/usr/bin",
        "HOME": "/root",
        "DOCKER_HOST": "unix:///run/docker.sock",
        "DOCKER_CONFIG": "/etc/docker-cli",
        "HTTPS_PROXY": "http://proxy:3128",
        "no_proxy": "localhost",
        "APPMANAGE_ADMIN_TOKEN": "secret",
        "APPMANAGE_DATABASE_URL": "postgresql://u:p@db/x",
        "HTTP_PORT": "1",
        "DB_PASSWORD": "x",
        "COMPOSE_PROJECT_NAME": "other",
    }
    assert subprocess_environment(ours) == {
        "PATH": "/usr/bin",
        "HOME": "/root",
        "DOCKER_HOST": "unix:///run/docker.sock",
        "DOCKER_CONFIG": "/etc/docker-cli",
        "HTTPS_PROXY": "http://proxy:3128",
        "no_proxy": "localhost",
        "COMPOSE_STATUS_STDOUT": "1",
    }


@pytest.fixture
def leaky_stack(settings: Settings) -> Iterator[Stack]:
    """API and one worker whose environment holds what a template must not see."""
    stack = Stack.create(settings, HTTP_PORT=WORKER_HTTP_PORT, DB_PASSWORD=WORKER_DB_PASSWORD)
    try:
        yield stack.start(workers=1, watcher=False)
    finally:
        stack.remove()


def published_ports(container: str) -> list[str]:
    client = docker.from_env()
    try:
        bindings = client.containers.get(container).attrs["HostConfig"]["PortBindings"] or {}
    finally:
        client.close()
    return [b["HostPort"] for entries in bindings.values() for b in entries or []]


@pytest.mark.docker
def test_a_template_sees_nothing_of_appmanages_environment(leaky_stack: Stack, app_name: Callable[[str], str]) -> None:
    api, token = leaky_stack.client(), leaky_stack.settings.admin_token
    name, port = app_name("leaky"), free_port()
    given = [{"key": "HTTP_PORT", "value": str(port)}]
    result = api.execute(PREVIEW, input={"catalogApp": "leaky", "name": name, "settings": given})["previewInstall"]
    assert result["__typename"] == "InstallPreview", result
    compose = str(result["compose"])
    assert token not in compose
    assert "LEAKED_TOKEN: none\n" in compose
    assert "LEAKED_REDIS: none\n" in compose
    assert f'published: "{port}"' in compose
    assert WORKER_DB_PASSWORD not in compose

    accepted = api.install("leaky", name, HTTP_PORT=str(port))
    assert accepted["__typename"] == "JobAccepted", accepted
    job = api.wait_job(accepted["job"]["id"])
    assert job["state"] == "SUCCEEDED", job
    container = wait_for(lambda: _container_of(name), 30, f"the container of {name}")
    env = container_env(container)
    assert (env["LEAKED_TOKEN"], env["LEAKED_REDIS"]) == ("none", "none")
    assert env["DB_PASSWORD"] not in ("", WORKER_DB_PASSWORD)
    assert published_ports(container) == [str(port)]
    assert [p["hostPort"] for p in api.app(name)["ports"]] == [port]  # type: ignore[index]


def _container_of(project: str) -> str | None:
    client = docker.from_env()
    try:
        found = client.containers.list(filters={"label": f"com.docker.compose.project={project}"})
        return found[0].name if found else None
    finally:
        client.close()
