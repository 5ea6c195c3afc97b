"""The operator's own compose apps: installed from their compose file and `.env`, kept byte
for byte (comments, anchors, `network_mode`), ports and host access checked like a
catalog app's, edited as a job that rolls back to the previous files when `up` fails,
their files readable with secrets masked below ADMIN, and uninstalled.

The pure parts first, then one app through a real API, workers, compose and Docker."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from appmanage.catalog.custom_project import CustomFiles, masked_env, published_ports, unmasked_env
from appmanage.catalog.secrets import MASK, looks_secret
from appmanage.catalog.warning_kinds import parse_refuse
from appmanage.config import Settings
from appmanage.enums import Role
from appmanage.errors import ValidationFailed
from appmanage.storage.database import Database
from appmanage.storage.models import CUSTOM_SOURCE, App
from tests.support.graphql import ADMIN_TOKEN, GraphQLClient
from tests.support.ports import free_port
from tests.support.processes import Server
from tests.support.projects import app_page, project_objects
from tests.support.tokens import create_token
from tests.support.waiting import wait_for

IMAGE = "appmanage-local/busybox:1"
# A comment, an anchor and a merge key, a service in another one's network namespace: all kept.
COMPOSE = """# my own app: served by busybox httpd
x-base: &base
  image: {image}
  init: true
  restart: unless-stopped

services:
  web:
    <<: *base
    environment:
      GREETING: ${{GREETING}}
    command: ["sh", "-c", "mkdir -p /www && echo \\"$$GREETING\\" > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports:
      - "127.0.0.1:{port}:8080"
      - "8081"  # no host port: ephemeral, not reserved
  sidecar:
    <<: *base
    network_mode: "service:web"
    command: ["sleep", "3600"]
"""
ENV = "# the greeting\nGREETING={greeting}\nDB_PASSWORD='{password}'\n"

INSTALL = """mutation($input: InstallAppInput!) { installApp(input: $input) {
    __typename ... on JobAccepted { job { id } app { name status } }
    ... on Error { message } ... on ValidationError { field }
} }"""
PREVIEW = """query($input: InstallAppInput!) { previewInstall(input: $input) {
    __typename ... on InstallPreview { compose warnings host settings { key value secret } }
    ... on Error { message } ... on ValidationError { field }
} }"""
EDIT = """mutation($name: String!, $compose: String!, $env: String) {
  editApp(name: $name, compose: $compose, env: $env) {
    __typename ... on JobAccepted { job { id } }
    ... on Error { message } ... on ValidationError { field } ... on ActionNotAllowedError { status }
} }"""
APP = """query($name: String!) { app(name: $name) {
    name catalogApp source version status availableActions compose { compose env } jobs { id kind state error }
} }"""


def compose_text(port: int, image: str = IMAGE) -> str:
    return COMPOSE.format(image=image, port=port)


def env_text(greeting: str, password: str = "pw-" + "x" * 12) -> str:
    return ENV.format(greeting=greeting, password=password)


# The pure parts.


def test_published_ports_are_the_host_ports_only() -> None:
    project = {
        "services": {
            "a": {"ports": [{"target": 80, "published": "8080"}, {"target": 81}, {"target": 82, "published": ""}]},
            "b": {"ports": [{"target": 90, "published": "9000-9002"}]},
            "c": {"network_mode": "host"},
        }
    }
    assert published_ports(project) == [8080, 9000, 9001, 9002]


def test_env_secrets_are_masked_by_their_keys_only() -> None:
    text = "# note\nGREETING=hi\nDB_PASSWORD='p w'\nexport API_KEY=abc\r\nEMPTY_TOKEN=\n"
    assert masked_env(text) == f"# note\nGREETING=hi\nDB_PASSWORD={MASK}\nexport API_KEY={MASK}\r\nEMPTY_TOKEN=\n"
    files = CustomFiles("services: {}\n", text)
    assert sorted(files.secret_values()) == ["abc", "p w"]
    assert [looks_secret(k) for k in ("JWT_SECRET", "ADMIN_PASSWD", "GREETING", "PORT")] == [True, True, False, False]
    assert CustomFiles("a", "b").version != CustomFiles("a", "c").version


def test_a_masked_value_sent_back_keeps_the_secret() -> None:
    previous = "DB_PASSWORD=s3cret\nPORT=80\n"
    assert unmasked_env(masked_env(previous), previous) == previous
    assert unmasked_env(f"DB_PASSWORD={MASK}\nPORT=81\n", previous) == "DB_PASSWORD=s3cret\nPORT=81\n"
    assert unmasked_env("DB_PASSWORD=new\n", previous) == "DB_PASSWORD=new\n"
    with pytest.raises(ValidationFailed, match="API_TOKEN is masked"):
        unmasked_env(f"API_TOKEN={MASK}\n", previous)


def test_a_custom_app_row_keeps_its_files(database: Database) -> None:
    """Migration 0005, on SQLite and PostgreSQL: apps.catalog_app may be null, and the row
    keeps the operator's compose file and `.env` byte for byte (no `.env`: null)."""
    compose = compose_text(8080) + "# ünïcode, 'quotes' and a long tail\n" + "#" * 100_000 + "\r\n"
    with database.write() as session:
        session.add(App(name="mine", catalog_app=None, source=CUSTOM_SOURCE, version="abc", compose_file=compose))
        session.add(App(name="theirs", catalog_app="hello", source="native", version="1"))
    with database.write() as session:
        mine = session.get(App, "mine")
        assert mine is not None and mine.env_file is None
        mine.env_file = env_text("hi")
    with database.read() as session:
        app, catalog = session.get(App, "mine"), session.get(App, "theirs")
        assert app is not None and app.catalog_app is None and app.source == "custom"
        assert (app.compose_file, app.env_file) == (compose, env_text("hi"))
        assert catalog is not None and (catalog.compose_file, catalog.env_file) == (None, None)


# Through a real API, workers and Docker.


@pytest.fixture
def viewer(api: GraphQLClient) -> GraphQLClient:
    return GraphQLClient(api.client, create_token(api, Role.VIEWER)["secret"])


def _install(api: GraphQLClient, name: str, compose: str, env: str | None) -> dict[str, Any]:
    result: dict[str, Any] = api.execute(INSTALL, input={"name": name, "compose": compose, "env": env})["installApp"]
    return result


def _edit(api: GraphQLClient, name: str, compose: str, env: str | None) -> dict[str, Any]:
    result: dict[str, Any] = api.execute(EDIT, name=name, compose=compose, env=env)["editApp"]
    return result


def _files(settings: Settings, name: str) -> tuple[bytes, bytes]:
    folder = settings.app_dir(name)
    return (folder / "compose.yaml").read_bytes(), (folder / ".env").read_bytes()


def _kept(settings: Settings, name: str) -> tuple[str | None, str | None]:
    """The files the app's row keeps."""
    database = Database(settings.database_url)
    try:
        with database.read() as session:
            app = session.get(App, name)
            assert app is not None
            return app.compose_file, app.env_file
    finally:
        database.dispose()


def _serves(port: int, text: str) -> None:
    def answers() -> bool:
        try:
            return app_page(port).strip() == text
        except OSError:
            return False

    wait_for(answers, 30, f"port {port} to serve {text}")


@pytest.mark.docker
def test_install_edit_roll_back_and_uninstall(
    api: GraphQLClient, viewer: GraphQLClient, settings: Settings, app_name: Callable[[str], str]
) -> None:
    name, port = app_name("own"), free_port()
    compose, env = compose_text(port), env_text("hello-one", "s3cret-one-value")
    accepted = _install(api, name, compose, env)
    assert accepted["__typename"] == "JobAccepted", accepted
    assert api.wait_job(accepted["job"]["id"])["state"] == "SUCCEEDED"
    api.wait_status(name, "RUNNING")
    assert _files(settings, name) == (compose.encode(), env.encode())
    assert "io.appmanage.app: " + name in (settings.app_dir(name) / "appmanage.override.yaml").read_text()
    _serves(port, "hello-one")
    containers, _ = project_objects(name)
    assert {c.labels.get("io.appmanage.app") for c in containers} == {name}  # type: ignore[attr-defined]

    app = api.execute(APP, name=name)["app"]
    assert (app["catalogApp"], app["source"]) == (None, "custom")
    assert app["availableActions"] == ["START", "STOP", "RESTART", "REDEPLOY", "EDIT", "UNINSTALL", "LOGS"]
    assert app["compose"] == {"compose": compose, "env": env}
    assert _kept(settings, name) == (compose, env)
    seen = viewer.execute(APP, name=name)["app"]["compose"]
    assert seen["compose"] == compose
    assert seen["env"] == f"# the greeting\nGREETING=hello-one\nDB_PASSWORD={MASK}\n"

    taken = _install(api, app_name("taken"), compose_text(port), None)
    assert taken["__typename"] == "ConflictError" and str(port) in taken["message"], taken

    good_env = env_text("hello-two", "s3cret-two-value")
    edited = _edit(api, name, compose, good_env)
    assert edited["__typename"] == "JobAccepted", edited
    job = api.wait_job(edited["job"]["id"])
    assert job["state"] == "SUCCEEDED", job
    assert "s3cret-two-value" not in str(job["log"])
    _serves(port, "hello-two")
    good = _files(settings, name)
    assert good == (compose.encode(), good_env.encode())
    assert _kept(settings, name) == (compose, good_env)

    bad = _edit(api, name, compose_text(port, "appmanage-local/no-such-image:1"), env_text("bad"))
    assert bad["__typename"] == "JobAccepted", bad
    failed = api.wait_job(bad["job"]["id"], timeout=120)
    assert failed["state"] == "FAILED" and "rolled back to the previous compose files" in failed["error"], failed
    assert _files(settings, name) == good
    assert _kept(settings, name) == (compose, good_env)
    api.wait_status(name, "RUNNING")
    _serves(port, "hello-two")
    # App.compose answers from the row, not from this API's disk: the app may live on another host
    (settings.app_dir(name) / "compose.yaml").rename(settings.app_dir(name) / "compose.moved")
    try:
        assert api.execute(APP, name=name)["app"]["compose"] == {"compose": compose, "env": good_env}
    finally:
        (settings.app_dir(name) / "compose.moved").rename(settings.app_dir(name) / "compose.yaml")

    jobs_before = len(api.execute(APP, name=name)["app"]["jobs"])
    invalid = _edit(api, name, "services: [unclosed\n", None)
    assert (invalid["__typename"], invalid["field"]) == ("ValidationError", "compose"), invalid
    refused = api.act("updateApp", name=name, version="2")
    assert refused["__typename"] == "ActionNotAllowedError" and "editApp" in refused["message"], refused
    assert len(api.execute(APP, name=name)["app"]["jobs"]) == jobs_before

    redeployed = api.act("redeployApp", name=name)
    assert api.wait_job(redeployed["job"]["id"])["state"] == "SUCCEEDED"
    api.wait_status(name, "RUNNING")
    assert _files(settings, name) == good

    removed = api.act("uninstallApp", name=name, purgeData=True)
    assert api.wait_job(removed["job"]["id"])["state"] == "SUCCEEDED"
    assert api.app(name) is None
    assert project_objects(name)[0] == []
    assert not settings.app_dir(name).exists()


@pytest.mark.docker
def test_one_source_exactly_and_catalog_apps_are_not_edited(api: GraphQLClient, app_name: Callable[[str], str]) -> None:
    neither = api.execute(INSTALL, input={"name": app_name("none")})["installApp"]
    assert (neither["__typename"], neither["field"]) == ("ValidationError", "catalogApp")
    both = api.execute(INSTALL, input={"name": app_name("both"), "catalogApp": "hello", "compose": "services: {}"})
    assert (both["installApp"]["__typename"], both["installApp"]["field"]) == ("ValidationError", "compose")
    name = app_name("cat")
    installed = api.install("hello", name, HTTP_PORT=str(free_port()))
    api.wait_job(installed["job"]["id"])
    refused = _edit(api, name, compose_text(free_port()), None)
    assert refused["__typename"] == "ActionNotAllowedError" and "catalog app hello" in refused["message"], refused


@pytest.fixture
def guarded_api(settings: Settings, api: GraphQLClient) -> Iterator[GraphQLClient]:
    """An API of the same stack that refuses privileged containers."""
    from appmanage.app import create_app

    with TestClient(create_app(replace(settings, refuse=parse_refuse("privileged")))) as client:
        yield GraphQLClient(client)


@pytest.mark.docker
def test_host_access_is_reviewed_and_refused(
    api: GraphQLClient, guarded_api: GraphQLClient, app_name: Callable[[str], str], tmp_path: Path
) -> None:
    name, port = app_name("priv"), free_port()
    compose = compose_text(port).replace("  init: true\n", "  init: true\n  privileged: true\n")
    preview = api.execute(PREVIEW, input={"name": name, "compose": compose, "env": env_text("hi", "pv-secret")})
    shown = preview["previewInstall"]
    assert shown["__typename"] == "InstallPreview", shown
    assert any(w.startswith("privileged: service web") for w in shown["warnings"]), shown["warnings"]
    assert f'published: "{port}"' in shown["compose"] and "pv-secret" not in shown["compose"]
    assert {"key": "DB_PASSWORD", "value": None, "secret": True} in shown["settings"]
    refused = _install(guarded_api, name, compose, None)
    assert refused["__typename"] == "ValidationError" and "privileged" in refused["message"], refused
    assert api.app(name) is None


def _cli(server: Server, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPMANAGE_")}
    env |= {"APPMANAGE_URL": server.http, "APPMANAGE_TOKEN": ADMIN_TOKEN}
    done = subprocess.run(
        [sys.executable, "-m", "appmanage", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


@pytest.mark.docker
def test_the_cli_installs_shows_edits_and_uninstalls(
    server: Server, settings: Settings, app_name: Callable[[str], str], tmp_path: Path
) -> None:
    name, port = app_name("cli"), free_port()
    compose, env = tmp_path / "compose.yaml", tmp_path / "app.env"
    compose.write_text(compose_text(port))
    env.write_text(env_text("from-cli"))
    assert f"install {name} SUCCEEDED" in _cli(
        server, "install", "--compose", str(compose), "--env", str(env), name, "--wait"
    )
    _serves(port, "from-cli")
    shown = _cli(server, "compose", name)
    assert shown.startswith(compose_text(port)) and "GREETING=from-cli" in shown
    env.write_text(env_text("edited-by-cli"))
    assert f"edit {name} SUCCEEDED" in _cli(
        server, "edit", name, "--compose", str(compose), "--env", str(env), "--wait"
    )
    _serves(port, "edited-by-cli")
    assert _files(settings, name) == (compose.read_bytes(), env.read_bytes())
    assert f"uninstall {name} SUCCEEDED" in _cli(server, "uninstall", name, "--purge", "--wait")
