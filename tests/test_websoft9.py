"""The Websoft9 docker-library format in Docker: installing one end to end, previewing,
refusing (tests/fixtures/websoft9, on the local images). Without Docker:
tests/test_websoft9_catalog.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from appmanage.apps import submission
from appmanage.config import Settings
from appmanage.errors import ValidationFailed
from appmanage.services import Services
from appmanage.storage.models import App
from tests.support.graphql import GraphQLClient
from tests.support.ports import free_port
from tests.support.projects import project_objects
from tests.support.waiting import wait_for
from tests.support.websoft9 import PREVIEW, WEBSOFT9, container_env, fetch, network_exists

pytestmark = pytest.mark.docker


@pytest.mark.docker
def test_websoft9_app_installs_runs_updates_and_uninstalls(
    w9_network: str, api: GraphQLClient, app_name: Callable[[str], str], settings: Settings
) -> None:
    name, port = app_name("w9"), free_port()
    result = api.install("w9hello", name, W9_HTTP_PORT_SET=str(port), W9_NETWORK=w9_network)
    assert result["__typename"] == "JobAccepted", result
    job = api.wait_job(result["job"]["id"])
    assert job["state"] == "SUCCEEDED", job
    assert f"created the network {w9_network}" in job["log"]
    assert network_exists(w9_network)
    app = api.wait_status(name, "RUNNING")
    assert (app["catalogApp"], app["version"]) == ("w9hello", "1")
    assert "version 1" in wait_for(lambda: fetch(port), 10, "the page")
    assert fetch(port, "/about.html") == "<p>about w9hello</p>\n"

    env = container_env(name)
    assert (env["W9_ID"], env["W9_VERSION"], env["GREETING"]) == (name, "1", f"hello from {name}")
    assert env["W9_URL"] == f"{settings.public_host}:{port}"
    assert env["W9_POWER_PASSWORD"] not in ("", "Fixture!Pass1")
    assert env["W9_LOGIN_PASSWORD"] == env["W9_POWER_PASSWORD"]
    assert container_env(f"{name}-worker")["ADMIN_PASSWORD"] == env["W9_POWER_PASSWORD"]
    shown = {s["key"]: s for s in app["settings"]}
    assert shown["W9_POWER_PASSWORD"] == {"key": "W9_POWER_PASSWORD", "value": None, "secret": True}
    assert shown["W9_URL"]["value"] == f"{settings.public_host}:{port}"

    update = api.act("updateApp", name=name, version="2")
    assert update["__typename"] == "JobAccepted", update
    assert api.wait_job(update["job"]["id"])["state"] == "SUCCEEDED"
    assert api.wait_status(name, "RUNNING")["version"] == "2"
    assert "version 2" in wait_for(lambda: fetch(port), 10, "the page of version 2")
    updated = container_env(name)
    assert (updated["W9_VERSION"], updated["W9_POWER_PASSWORD"]) == ("2", env["W9_POWER_PASSWORD"])

    removal = api.act("uninstallApp", name=name)
    assert api.wait_job(removal["job"]["id"])["state"] == "SUCCEEDED"
    assert api.app(name) is None
    assert project_objects(name) == ([], [])
    assert network_exists(w9_network), "a shared network stays"


def preview(api: GraphQLClient, catalog_app: str, name: str, **settings: str) -> dict[str, object]:
    given = [{"key": k, "value": v} for k, v in settings.items()]
    data = api.execute(PREVIEW, input={"catalogApp": catalog_app, "name": name, "settings": given})
    result: dict[str, object] = data["previewInstall"]
    return result


@pytest.mark.docker
def test_preview_renders_the_project_masks_secrets_and_creates_nothing(
    api: GraphQLClient, app_name: Callable[[str], str], settings: Settings
) -> None:
    name, port = app_name("w9pv"), free_port()
    result = preview(api, "w9hello", name, W9_HTTP_PORT_SET=str(port), W9_POWER_PASSWORD="Given-Secret-42")
    assert result["__typename"] == "InstallPreview", result
    compose = str(result["compose"])
    assert f"name: {name}\n" in compose
    assert "Given-Secret-42" not in compose
    assert "ADMIN_PASSWORD: '********'\n" in compose
    assert f'published: "{port}"' in compose
    assert str(settings.app_dir(name) / "src" / "about.html") in compose
    assert ".preview-" not in compose
    assert result["warnings"] == []
    assert {"key": "W9_POWER_PASSWORD", "value": None, "secret": True} in result["settings"]  # type: ignore[operator]

    assert api.app(name) is None
    assert not settings.app_dir(name).exists()
    assert not list(settings.apps_dir.glob(".preview-*"))
    assert project_objects(name) == ([], [])


@pytest.mark.docker
def test_preview_warns_about_what_an_operator_should_know(api: GraphQLClient, app_name: Callable[[str], str]) -> None:
    result = preview(api, "w9risky", app_name("risky"))
    assert result["__typename"] == "InstallPreview", result
    assert result["warnings"] == [
        "privileged: service tool runs privileged",
        "host-network: service tool uses the host's network",
        "host-pid: service tool sees the host's processes",
        "docker-socket: service tool mounts the Docker socket /var/run/docker.sock",
        "bind-mount: service tool mounts /etc/hostname from outside the app folder",
        "untagged-image: service tool runs image appmanage-local/busybox without a tag",
    ]


@pytest.mark.docker
def test_preview_and_install_check_requirements_alike(api: GraphQLClient, app_name: Callable[[str], str]) -> None:
    name = app_name("big")
    result = preview(api, "w9big", name)
    assert result["__typename"] == "ValidationError"
    message = str(result["message"])
    assert message.startswith("w9big needs 4096 CPU cores, this host has ")
    assert "needs 1048576 GB of memory, this host has " in message
    assert api.install("w9big", name) == {"__typename": "ValidationError", "message": message, "field": None}
    assert api.app(name) is None


@pytest.mark.docker
def test_refused_warnings_stop_preview_and_install(
    api: GraphQLClient, app_name: Callable[[str], str], settings: Settings
) -> None:
    services = Services(replace(settings, refuse=frozenset({"docker-socket", "host-pid"})))
    name = app_name("refused")
    try:
        for attempt in (submission.validate_install, submission.submit_install):
            with pytest.raises(ValidationFailed) as refused:
                attempt(services, "w9risky", name, None, {})
            assert refused.value.message == (
                "refused by APPMANAGE_REFUSE: host-pid: service tool sees the host's processes; "
                "docker-socket: service tool mounts the Docker socket /var/run/docker.sock"
            )
        with services.db.read() as session:
            assert session.get(App, name) is None
        port = {"W9_HTTP_PORT_SET": str(free_port()), "W9_NETWORK": "unused"}
        assert submission.validate_install(services, "w9hello", name, "2", port).version == "2"
    finally:
        services.close()


@pytest.mark.docker
def test_catalog_lists_websoft9_apps_and_no_problems_for_them(api: GraphQLClient) -> None:
    query = '{ catalog(search: "websoft9") { name source } catalogProblems { source app message } }'
    data = api.execute(query)
    assert {a["name"] for a in data["catalog"]} == {"w9hello", "w9risky", "w9big"}
    assert all(a["source"] == str(WEBSOFT9) for a in data["catalog"])
    assert [p for p in data["catalogProblems"] if p["source"] == str(WEBSOFT9)] == []
