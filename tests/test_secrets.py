"""Generated secrets and tokens stay secret: masked for VIEWER and OPERATOR, shown to ADMIN,
never in the service log or a job log, and the files holding them readable by their owner only."""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from appmanage.enums import Role
from appmanage.jobs.context import MASK, JobContext
from appmanage.services import Services
from appmanage.storage.models import App, Job, utcnow
from tests.support.graphql import ADMIN_TOKEN, GraphQLClient
from tests.support.ports import free_port
from tests.support.run import RUN_ID
from tests.support.tokens import create_token

pytestmark = pytest.mark.docker

SETTINGS = (
    "query($name: String!, $reveal: Boolean!) { app(name: $name) { settings(reveal: $reveal) { key value secret } } }"
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def services_of(client: TestClient) -> Services:
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    return services


@pytest.fixture
def recorded_app(client: TestClient) -> Iterator[tuple[str, str]]:
    """An app row with a secret setting, straight in the database: no Docker needed to read it."""
    services = services_of(client)
    name, secret = f"{RUN_ID}-rec-secret", "s3cret-" + RUN_ID + "-value"
    now = utcnow()
    with services.db.write() as session:
        session.add(
            App(
                name=name,
                catalog_app="duo",
                source="",
                version="1",
                settings={"HTTP_PORT": "8182", "DB_PASSWORD": secret},
                host_ports=[],
                installed=True,
                created_at=now,
                updated_at=now,
            )
        )
    yield name, secret
    with services.db.write() as session:
        row = session.get(App, name)
        if row is not None:
            session.delete(row)


@pytest.mark.parametrize("role", list(Role))
def test_secret_values_are_masked_and_only_admin_may_reveal_them(
    client: TestClient, api: GraphQLClient, recorded_app: tuple[str, str], role: Role
) -> None:
    name, secret = recorded_app
    caller = GraphQLClient(client, create_token(api, role)["secret"])
    settings = {s["key"]: s for s in caller.execute(SETTINGS, name=name, reveal=False)["app"]["settings"]}
    assert settings["HTTP_PORT"] == {"key": "HTTP_PORT", "value": "8182", "secret": False}
    assert settings["DB_PASSWORD"] == {"key": "DB_PASSWORD", "value": None, "secret": True}

    asked = client.post(
        "/graphql", json={"query": SETTINGS, "variables": {"name": name, "reveal": True}}, headers=caller.headers
    ).json()
    if role is Role.ADMIN:
        revealed = {s["key"]: s["value"] for s in asked["data"]["app"]["settings"]}
        assert revealed == {"HTTP_PORT": "8182", "DB_PASSWORD": secret}
    else:
        assert [e["extensions"]["code"] for e in asked["errors"]] == ["FORBIDDEN"]
        assert secret not in str(asked)


def test_job_logs_mask_known_secret_values(client: TestClient) -> None:
    context = JobContext(services_of(client), Job(id="x", app_name="x"))
    context.hide(["hunter2-secret", "abc"])
    assert context.mask("password=hunter2-secret; again hunter2-secret") == f"password={MASK}; again {MASK}"
    assert (
        context.mask("abc is short but hidden; abcd is another word")
        == f"{MASK} is short but hidden; abcd is another word"
    )


def test_an_installed_secret_stays_out_of_logs_and_its_files_are_private(
    client: TestClient, api: GraphQLClient, app_name: Callable[[str], str]
) -> None:
    settings = services_of(client).settings
    name = app_name("secret")
    job = api.install("duo", name, HTTP_PORT=str(free_port()))["job"]
    finished = api.wait_job(job["id"], timeout=120)
    assert finished["state"] == "SUCCEEDED", finished
    revealed = api.execute(SETTINGS, name=name, reveal=True)["app"]["settings"]
    secret = next(s["value"] for s in revealed if s["key"] == "DB_PASSWORD")
    assert secret and len(secret) >= 16

    viewer = GraphQLClient(client, create_token(api, Role.VIEWER)["secret"])
    assert secret not in str(viewer.execute(SETTINGS, name=name, reveal=False))
    assert secret not in "\n".join(finished["log"]) and secret not in str(finished["error"])
    for log_file in settings.logs_dir.iterdir():
        text = log_file.read_text(errors="replace")
        assert secret not in text, log_file
        assert ADMIN_TOKEN not in text, log_file

    app_dir = settings.app_dir(name)
    assert mode(app_dir / ".env") == 0o600
    assert secret in (app_dir / ".env").read_text()
    assert mode(settings.data_dir) == 0o700
    for database_file in settings.data_dir.glob("appmanage.db*"):
        if not database_file.name.endswith("lock"):
            assert mode(database_file) == 0o600, database_file

    uninstalled = api.act("uninstallApp", name=name, purgeData=True)
    assert api.wait_job(uninstalled["job"]["id"], timeout=120)["state"] == "SUCCEEDED"
