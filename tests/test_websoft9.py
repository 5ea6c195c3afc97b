"""The Websoft9 docker-library format: loading its app folders as they are, rendering their
`.env`, and installing one end to end (tests/fixtures/websoft9, on the local images)."""

from __future__ import annotations

import secrets
import shutil
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import docker
import pytest

from appmanage.apps import submission as submit
from appmanage.catalog.dotenv import parse_env
from appmanage.catalog.model import Requirements
from appmanage.catalog.params import resolve_settings
from appmanage.catalog.render import render
from appmanage.catalog.requirements import unmet
from appmanage.catalog.sources import Catalog
from appmanage.catalog.warnings import WarningKind, project_warnings
from appmanage.config import SHIPPED_CATALOG, Settings
from appmanage.enums import ParameterType
from appmanage.errors import ValidationFailed
from appmanage.services import Services
from appmanage.storage.models import App
from tests.support.graphql import GraphQLClient
from tests.support.ports import free_port
from tests.support.projects import project_objects
from tests.support.run import FIXTURES, RUN_ID
from tests.support.waiting import wait_for

pytestmark = pytest.mark.docker

WEBSOFT9 = FIXTURES / "websoft9"
BROKEN = FIXTURES / "websoft9-broken"
PREVIEW = """query($input: InstallAppInput!) { previewInstall(input: $input) {
    __typename
    ... on InstallPreview { compose settings { key value secret } warnings }
    ... on Error { message }
    ... on ValidationError { field }
} }"""


def fixture_catalog() -> Catalog:
    return Catalog.load([WEBSOFT9])


def test_a_websoft9_app_folder_loads_as_it_is() -> None:
    catalog = fixture_catalog()
    assert catalog.problems == []
    app = catalog.apps["w9hello"]
    assert (app.title, app.versions, app.default_version) == ("Hello (Websoft9 format)", ("1", "2"), "1")
    assert app.source == str(WEBSOFT9)
    assert app.requirements == Requirements(cpu=1, memory=1, disk=1)
    assert app.version_env["2"] == {"W9_VERSION": "2", "W9_DIST": "community"}
    assert (app.name_keys, app.network_keys, app.env_template) == (("W9_ID",), ("W9_NETWORK",), ".env")
    params = {p.key: p for p in app.parameters}
    assert list(params) == ["W9_POWER_PASSWORD", "W9_HTTP_PORT_SET", "W9_URL", "W9_NETWORK"]
    port = params["W9_HTTP_PORT_SET"]
    assert (port.type, port.default, port.editable, port.label) == (ParameterType.PORT, "9001", True, "HTTP port")
    password = params["W9_POWER_PASSWORD"]
    assert (password.secret, password.default, password.editable) == (True, None, False)
    assert params["W9_URL"].default_from == "{host}:{W9_HTTP_PORT_SET}"
    assert params["W9_NETWORK"].default == "websoft9"


def test_a_secret_that_refers_to_another_stays_derived() -> None:
    app = fixture_catalog().apps["w9hello"]
    assert app.parameter("W9_LOGIN_PASSWORD") is None
    assert app.parameter("W9_RCODE") is None
    assert fixture_catalog().apps["w9risky"].parameter("W9_RCODE") is not None


def test_settings_generate_secrets_and_derive_the_url() -> None:
    app = fixture_catalog().apps["w9hello"]
    values = resolve_settings(app, {"W9_HTTP_PORT_SET": "18080"}, host="box.example")
    assert values["W9_URL"] == "box.example:18080"
    assert values["W9_POWER_PASSWORD"] not in ("", "Fixture!Pass1")
    assert values["W9_NETWORK"] == "websoft9"
    given = resolve_settings(app, {"W9_URL": "apps.example.com"}, host="box.example")
    assert given["W9_URL"] == "apps.example.com"
    with pytest.raises(ValidationFailed) as invalid:
        resolve_settings(app, {"W9_NETWORK": "no spaces"})
    assert invalid.value.field == "W9_NETWORK"


def test_render_sets_name_version_and_settings_and_keeps_every_other_line(tmp_path: Path) -> None:
    app = fixture_catalog().apps["w9hello"]
    values = {"W9_POWER_PASSWORD": "s3cret$x", "W9_HTTP_PORT_SET": "18080", "W9_URL": "h:18080", "W9_NETWORK": "n1"}
    render(app, tmp_path, "myhello", "2", values)
    text = (tmp_path / ".env").read_text()
    env = parse_env(text)
    assert (env["W9_ID"], env["W9_VERSION"], env["W9_DIST"]) == ("myhello", "2", "community")
    assert env["W9_HTTP_PORT_SET"] == "18080"
    assert 'W9_POWER_PASSWORD="s3cret\\$x"' in text
    assert "W9_LOGIN_PASSWORD=$W9_POWER_PASSWORD\n" in text
    assert 'GREETING="hello from $W9_ID"\n' in text
    assert "#### --  Not allowed to edit below environments" in text
    assert (tmp_path / "src" / "about.html").is_file()
    assert (tmp_path / "variables.json").is_file()


def test_unreadable_templates_are_problems_not_crashes() -> None:
    catalog = Catalog.load([BROKEN])
    assert catalog.apps == {}
    problems = {p.app: p.message for p in catalog.problems}
    assert all(p.source == str(BROKEN) for p in catalog.problems)
    assert problems["badyaml"].startswith("docker-compose.yml cannot be read")
    assert problems["servicelist"] == "docker-compose.yml: services must be a mapping"
    assert problems["noenv"].startswith(".env cannot be read")
    assert problems["missingenvfile"] == "docker-compose.yml: service web needs the missing env_file extra.env"
    assert problems["noversions"].startswith("no versions")


def test_a_name_in_two_sources_is_a_problem(tmp_path: Path) -> None:
    library = tmp_path / "library"
    shutil.copytree(WEBSOFT9, library / "apps")
    catalog = Catalog.load([WEBSOFT9, library])
    assert sorted(catalog.apps) == ["w9big", "w9hello", "w9risky"]
    assert all(a.source == str(WEBSOFT9) for a in catalog.apps.values())
    assert {(p.source, p.app) for p in catalog.problems} == {
        (str(library), "w9big"),
        (str(library), "w9hello"),
        (str(library), "w9risky"),
    }
    assert catalog.problems[0].message == f"the name is taken by {WEBSOFT9}"


def test_sources_are_detected_per_catalog_folder() -> None:
    catalog = Catalog.load([SHIPPED_CATALOG, WEBSOFT9])
    assert catalog.apps["hello"].env_template is None
    assert catalog.apps["w9hello"].env_template == ".env"


def test_env_values_read_as_compose_reads_them() -> None:
    env = parse_env("A='x # y'\nB=\"q\"\nC=plain # comment\n# D=no\nE=$A-z\nexport F=1\n")
    assert env == {"A": "x # y", "B": "q", "C": "plain", "E": "$A-z", "F": "1"}


def test_unmet_requirements_name_both_numbers() -> None:
    needs = Requirements(cpu=4, memory=8, disk=10)
    assert unmet(needs, cpu=8, memory=7.7, disk=100) == []
    assert unmet(needs, cpu=2, memory=3.5, disk=2.25) == [
        "needs 4 CPU cores, this host has 2",
        "needs 8 GB of memory, this host has 3.5",
        "needs 10 GB of free disk, this host has 2.2",
    ]


def test_warnings_from_a_rendered_project() -> None:
    folder = Path("/data/apps/x")
    project = {
        "services": {
            "a": {
                "image": "busybox",
                "privileged": True,
                "network_mode": "host",
                "pid": "host",
                "volumes": [
                    {"type": "bind", "source": "/var/run/docker.sock", "target": "/var/run/docker.sock"},
                    {"type": "bind", "source": "/etc", "target": "/host/etc"},
                    {"type": "bind", "source": "/data/apps/x/src/a.conf", "target": "/a.conf"},
                    {"type": "bind", "source": "/data/apps/x/../y", "target": "/y"},
                    {"type": "volume", "source": "data", "target": "/data"},
                ],
            },
            "b": {"image": "registry:5000/team/tool:1.2"},
            "c": {"image": "tool@sha256:abc"},
            "d": {"image": "x-d", "build": {"context": "."}},
        }
    }
    warnings = project_warnings(project, folder)
    assert [(w.kind, w.service) for w in warnings] == [
        (WarningKind.PRIVILEGED, "a"),
        (WarningKind.HOST_NETWORK, "a"),
        (WarningKind.HOST_PID, "a"),
        (WarningKind.DOCKER_SOCKET, "a"),
        (WarningKind.BIND_MOUNT, "a"),
        (WarningKind.BIND_MOUNT, "a"),
        (WarningKind.UNTAGGED_IMAGE, "a"),
    ]
    assert str(warnings[4]) == "bind-mount: service a mounts /etc from outside the app folder"


def test_refuse_accepts_only_warning_kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APPMANAGE_REFUSE", "privileged, Docker-Socket")
    assert Settings.from_env().refuse == {"privileged", "docker-socket"}
    monkeypatch.setenv("APPMANAGE_REFUSE", "privileged,sudo")
    with pytest.raises(ValueError, match="sudo"):
        Settings.from_env()


@pytest.fixture
def w9_network() -> Iterator[str]:
    """A network name of this run for W9_NETWORK; the network is removed after the test."""
    name = f"{RUN_ID}-w9net-{secrets.token_hex(2)}"
    yield name
    client = docker.from_env()
    for network in client.networks.list(names=[name]):
        if network.name == name:
            network.reload()
            for container in network.containers:
                network.disconnect(container, force=True)
            network.remove()
    client.close()


def network_exists(name: str) -> bool:
    client = docker.from_env()
    try:
        return any(n.name == name for n in client.networks.list(names=[name]))
    finally:
        client.close()


def container_env(name: str) -> dict[str, str]:
    client = docker.from_env()
    try:
        env = client.containers.get(name).attrs["Config"]["Env"]
    finally:
        client.close()
    return dict(line.split("=", 1) for line in env)


def fetch(port: int, path: str = "/") -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            text: str = response.read().decode()
            return text
    except OSError:
        return None


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
        for attempt in (submit.validate_install, submit.submit_install):
            with pytest.raises(ValidationFailed) as refused:
                attempt(services, "w9risky", name, None, {})
            assert refused.value.message == (
                "refused by APPMANAGE_REFUSE: host-pid: service tool sees the host's processes; "
                "docker-socket: service tool mounts the Docker socket /var/run/docker.sock"
            )
        with services.db.read() as session:
            assert session.get(App, name) is None
        port = {"W9_HTTP_PORT_SET": str(free_port()), "W9_NETWORK": "unused"}
        assert submit.validate_install(services, "w9hello", name, "2", port).version == "2"
    finally:
        services.close()


@pytest.mark.docker
def test_catalog_lists_websoft9_apps_and_no_problems_for_them(api: GraphQLClient) -> None:
    query = '{ catalog(search: "websoft9") { name source } catalogProblems { source app message } }'
    data = api.execute(query)
    assert {a["name"] for a in data["catalog"]} == {"w9hello", "w9risky", "w9big"}
    assert all(a["source"] == str(WEBSOFT9) for a in data["catalog"])
    assert [p for p in data["catalogProblems"] if p["source"] == str(WEBSOFT9)] == []
