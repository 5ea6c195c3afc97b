"""A backup restored onto another host: two agents (host a on the system engine, host b on
a private dockerd, `tests/support/multihost.py`) share one restic repository (a folder of
the test's) and password; a `notes` app backed up on a comes back as a new app on b,
RUNNING there with the same note."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appmanage.config import Settings
from tests.support.graphql import GraphQLClient
from tests.support.hosts import HOST_INSTALL, containers_of
from tests.support.multihost import MultiHost, two_hosts_two_apis
from tests.support.ports import free_port
from tests.support.run import RUN_ID

pytestmark = pytest.mark.docker

BUSYBOX = "appmanage-local/busybox:1"
ACCEPTED = "__typename ... on JobAccepted { job { id } } ... on Error { message }"
BACKUP_APP = f"mutation($name: String!) {{ backupApp(name: $name) {{ {ACCEPTED} }} }}"
BACKUPS = "query($app: String) { backups(app: $app) { id host } }"
RESTORE_ONTO = f"""mutation($name: String!, $backupId: ID!, $asName: String, $host: String) {{
    restoreApp(name: $name, backupId: $backupId, asName: $asName, host: $host) {{ {ACCEPTED} }} }}"""
APP = "query($name: String!) { app(name: $name) { host status ports { hostPort } } }"
STOP_APP = f"mutation($name: String!) {{ stopApp(name: $name) {{ {ACCEPTED} }} }}"


@pytest.fixture
def shared_repository(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MultiHost]:
    """Both agents (and the APIs) read APPMANAGE_BACKUP_* from the environment they inherit."""
    monkeypatch.setenv("APPMANAGE_BACKUP_REPOSITORY", str(tmp_path / "restic"))
    monkeypatch.setenv("APPMANAGE_BACKUP_PASSWORD", secrets.token_urlsafe(16))
    try:
        with two_hosts_two_apis(settings) as running:
            yield running
    finally:
        shutil.rmtree(tmp_path / "restic", ignore_errors=True)


def accepted_job(answer: dict[str, Any]) -> str:
    assert answer["__typename"] == "JobAccepted", answer
    job_id: str = answer["job"]["id"]
    return job_id


def succeeded(api: GraphQLClient, answer: dict[str, Any]) -> None:
    job = api.wait_job(accepted_job(answer), timeout=120)
    assert job["state"] == "SUCCEEDED", (job.get("error"), job)


def test_a_backup_of_host_a_restored_as_a_new_app_on_host_b(shared_repository: MultiHost) -> None:
    api = shared_repository.client(0)
    name, clone = f"{RUN_ID}-bkh-{secrets.token_hex(2)}"[:31], f"{RUN_ID}-bkh-b-{secrets.token_hex(2)}"[:31]
    settings = [{"key": "HTTP_PORT", "value": str(free_port())}, {"key": "WRITE_INTERVAL", "value": "1000"}]
    given = {"catalogApp": "notes", "name": name, "host": "a", "settings": settings}
    succeeded(api, api.execute(HOST_INSTALL, input=given)["installApp"])
    api.wait_status(name, "RUNNING")
    subprocess.run(
        ["docker", "run", "--rm", "-v", f"{name}_notes:/data", BUSYBOX, "sh", "-c", "echo from-a > /data/www/note.txt"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    succeeded(api, api.execute(BACKUP_APP, name=name)["backupApp"])
    [backup] = api.execute(BACKUPS, app=name)["backups"]
    assert backup["host"] == "a"
    # The two engines share this machine's loopback: the app moves, so its port is free for the clone.
    succeeded(api, api.execute(STOP_APP, name=name)["stopApp"])

    succeeded(
        api, api.execute(RESTORE_ONTO, name=name, backupId=backup["id"][:8], asName=clone, host="b")["restoreApp"]
    )
    api.wait_status(clone, "RUNNING")
    app = api.execute(APP, name=clone)["app"]
    assert app["host"] == "b" and containers_of(clone, shared_repository.engine_b.docker())
    assert containers_of(clone, ["docker"]) == []
    [port] = {p["hostPort"] for p in app["ports"]}
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/note.txt", timeout=5) as response:
        assert response.read().decode().strip() == "from-a"
