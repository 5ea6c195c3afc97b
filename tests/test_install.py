"""Install and uninstall end to end: GraphQL over HTTP, real workers, Docker and Redis."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import docker
import pytest

from appmanage.config import Settings
from tests.support.graphql import GraphQLClient
from tests.support.ports import free_port
from tests.support.projects import app_page as page
from tests.support.projects import project_objects
from tests.support.waiting import wait_for

pytestmark = pytest.mark.docker


def test_install_hello_serves_its_page_then_uninstall_removes_everything(
    api: GraphQLClient, app_name: Callable[[str], str], settings: Settings
) -> None:
    name, port = app_name("hello"), free_port()
    result = api.install("hello", name, version="1", HTTP_PORT=str(port))
    assert result["__typename"] == "JobAccepted"
    assert result["job"]["state"] == "QUEUED"
    assert result["app"]["status"] == "INSTALLING"

    job = api.wait_job(result["job"]["id"])
    assert job["state"] == "SUCCEEDED", job
    assert job["progress"] == 1.0
    assert any("Started" in line for line in job["log"])
    app = api.wait_status(name, "RUNNING")
    assert app["version"] == "1"
    assert app["availableActions"] == ["START", "STOP", "RESTART", "REDEPLOY", "UPDATE", "UNINSTALL", "LOGS"]
    assert app["ports"] == [
        {"service": "web", "hostIp": "127.0.0.1", "hostPort": port, "containerPort": 80, "protocol": "tcp"}
    ]
    assert "version 1" in wait_for(lambda: _try_page(port), 10, "the page")

    env_file = settings.app_dir(name) / ".env"
    assert env_file.stat().st_mode & 0o777 == 0o600
    assert f'HTTP_PORT="{port}"' in env_file.read_text()

    logs = api.execute("query($n: String!) { appLogs(name: $n, tail: 5) { service timestamp line } }", n=name)
    assert any("hello from version 1" in entry["line"] for entry in logs["appLogs"])

    removal = api.act("uninstallApp", name=name)
    assert removal["__typename"] == "JobAccepted"
    assert api.wait_job(removal["job"]["id"])["state"] == "SUCCEEDED"
    assert api.app(name) is None
    assert project_objects(name) == ([], [])
    assert Path(settings.app_dir(name)).exists(), "without purgeData the folder stays"
    assert api.job(result["job"]["id"])["state"] == "SUCCEEDED", "the job history stays"


def _try_page(port: int) -> str | None:
    try:
        return page(port)
    except OSError:
        return None


def test_uninstall_with_purge_removes_the_folder(
    api: GraphQLClient, app_name: Callable[[str], str], settings: Settings
) -> None:
    name = app_name("purge")
    job = api.install("duo", name, HTTP_PORT=str(free_port()))["job"]
    assert api.wait_job(job["id"])["state"] == "SUCCEEDED"
    removal = api.act("uninstallApp", name=name, purgeData=True)
    assert api.wait_job(removal["job"]["id"])["state"] == "SUCCEEDED"
    assert not settings.app_dir(name).exists()
    assert project_objects(name) == ([], [])
    client = docker.from_env()
    assert client.volumes.list(filters={"label": f"com.docker.compose.project={name}"}) == []
    client.close()


def test_duo_runs_although_its_init_container_exited(api: GraphQLClient, app_name: Callable[[str], str]) -> None:
    name = app_name("duo")
    job = api.install("duo", name, HTTP_PORT=str(free_port()))["job"]
    assert api.wait_job(job["id"])["state"] == "SUCCEEDED"
    app = api.wait_status(name, "RUNNING")
    states = {s["name"]: (s["state"], s["exitCode"]) for s in app["services"]}
    assert states == {"init": ("exited", 0), "web": ("running", None), "worker": ("running", None)}
    secret = next(s for s in app["settings"] if s["key"] == "DB_PASSWORD")
    assert secret == {"key": "DB_PASSWORD", "value": None, "secret": True}


def test_crashy_is_restarting(api: GraphQLClient, app_name: Callable[[str], str]) -> None:
    name = app_name("crashy")
    api.wait_job(api.install("crashy", name)["job"]["id"])
    app = api.wait_status(name, "RESTARTING")
    assert "app" in app["statusReason"]
    assert app["availableActions"] == ["STOP", "RESTART", "UNINSTALL", "LOGS"]


def test_sickly_is_unhealthy(api: GraphQLClient, app_name: Callable[[str], str]) -> None:
    name = app_name("sickly")
    api.wait_job(api.install("sickly", name)["job"]["id"])
    app = api.wait_status(name, "UNHEALTHY")
    assert app["services"][0]["health"] == "unhealthy"


def test_broken_fails_with_dockers_error(api: GraphQLClient, app_name: Callable[[str], str]) -> None:
    name = app_name("broken")
    job = api.wait_job(api.install("broken", name)["job"]["id"])
    assert job["state"] == "FAILED"
    assert "appmanage-local/does-not-exist" in job["error"] or "registry" in job["error"] or "image" in job["error"]
    app = api.wait_status(name, "FAILED")
    assert app["statusReason"] == job["error"]
    assert app["availableActions"] == ["REDEPLOY", "UNINSTALL"]
    containers, _ = project_objects(name)
    assert containers == [], "a failed install removes what it started"
    removal = api.act("uninstallApp", name=name)
    assert api.wait_job(removal["job"]["id"])["state"] == "SUCCEEDED"
    assert api.app(name) is None


@pytest.mark.parametrize("status", ["RUNNING", "FAILED"])
def test_apps_filter_by_status(api: GraphQLClient, status: str) -> None:
    apps = api.execute("query($s: AppStatus) { apps(status: $s) { name status } }", s=status)["apps"]
    assert all(a["status"] == status for a in apps)
