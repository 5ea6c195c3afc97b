"""Jobs always end, right: RQ's timeout or any exception in the middle of a compose step
ends the compose process, an update rolls back, and the row ends FAILED with the reason."""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from appmanage.config import Settings
from appmanage.enums import JobKind
from appmanage.jobs.queue import COMPOSE_STEPS, job_timeout
from tests.support.graphql import GraphQLClient
from tests.support.processes import Stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.docker

JOB_TIMEOUT = 15
# Version 2 waits on a gate that never becomes healthy, so its `up` never ends by itself.
COMPOSE = """services:
  gate:
    image: appmanage-local/busybox:1
    init: true
    command: ["sh", "-c", "while true; do sleep 1; done"]
    environment:
      APP_VERSION: ${APP_VERSION}
    healthcheck:
      test: ["CMD", "sh", "-c", "test \\"$$APP_VERSION\\" = 1"]
      interval: 1s
      retries: 100000
  app:
    image: appmanage-local/busybox:1
    init: true
    command: ["sh", "-c", "while true; do sleep 1; done"]
    environment:
      APP_VERSION: ${APP_VERSION}
    depends_on:
      gate:
        condition: service_healthy
"""
APP = 'title: Sluggish\ndescription: Version 2 never comes up.\nversions: ["1", "2"]\ndefault_version: "1"\n'


@pytest.fixture(scope="module")
def stack(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Two workers, a watcher and an API whose jobs RQ stops after JOB_TIMEOUT seconds."""
    catalog = tmp_path_factory.mktemp("catalog")
    (catalog / "sluggish").mkdir()
    (catalog / "sluggish" / "app.yaml").write_text(APP)
    (catalog / "sluggish" / "compose.yaml").write_text(COMPOSE)
    running = Stack.create(settings, APPMANAGE_JOB_TIMEOUT=str(JOB_TIMEOUT), APPMANAGE_CATALOGS=str(catalog))
    try:
        yield running.start(workers=2, watcher=True)
    finally:
        running.remove()


def compose_processes(project: str) -> list[int]:
    """Processes whose command line names the compose project (`-p <project>`)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a == b"-p" and b == project.encode() for a, b in itertools.pairwise(args)):
            found.append(int(cmdline.parent.name))
    return found


def installed_version_1(api: GraphQLClient, name: str) -> None:
    job = api.wait_job(api.install("sluggish", name, version="1")["job"]["id"], timeout=60)
    assert job["state"] == "SUCCEEDED", job
    api.wait_status(name, "RUNNING")


def back_on_version_1(api: GraphQLClient, name: str) -> None:
    app = api.wait_status(name, "RUNNING", timeout=60)
    assert app["version"] == "1"
    assert {s["name"]: s["state"] for s in app["services"]} == {"gate": "running", "app": "running"}


def test_every_job_kind_gets_time_for_every_compose_step_it_runs(settings: Settings) -> None:
    for kind in JobKind:
        assert job_timeout(kind, settings) >= COMPOSE_STEPS[kind] * settings.compose_timeout + 60
    assert job_timeout(JobKind.UPDATE, settings) >= 4 * settings.compose_timeout  # pull, build, up, rollback up


def test_rq_timeout_kills_compose_rolls_back_and_fails_the_row(stack: Stack, app_name: Callable[[str], str]) -> None:
    api = stack.client()
    name = app_name("slow")
    installed_version_1(api, name)

    started = time.monotonic()
    job_id = api.act("updateApp", name=name, version="2")["job"]["id"]
    wait_for(lambda: compose_processes(name), 30, "compose up of version 2 to run")
    job = api.wait_job(job_id, timeout=JOB_TIMEOUT + 60)
    took = time.monotonic() - started

    print(job["error"])
    assert job["state"] == "FAILED", job
    assert "timed out" in job["error"] and "APPMANAGE_JOB_TIMEOUT" in job["error"], job["error"]
    assert job["error"].endswith("rolled back to 1"), job["error"]
    assert "rolled back to 1" in job["log"]
    assert compose_processes(name) == [], "no compose process outlives its job"
    back_on_version_1(api, name)
    print(f"update stopped by RQ's {JOB_TIMEOUT} s timeout and rolled back in {took:.1f} s")


def test_an_error_saving_a_log_line_mid_step_kills_compose_and_rolls_back(
    stack: Stack, app_name: Callable[[str], str]
) -> None:
    api = stack.client()
    name = app_name("broke")
    installed_version_1(api, name)

    database = sqlite3.connect(str(stack.settings.data_dir / "appmanage.db"), timeout=30)
    trigger = f"fail_{name.replace('-', '_')}"
    database.execute(
        f"CREATE TRIGGER {trigger} BEFORE INSERT ON job_log_lines "
        "WHEN NEW.line LIKE '%Waiting%' AND NEW.job_id = (SELECT id FROM jobs WHERE app_name = ? "
        "AND kind = 'UPDATE' ORDER BY created_at DESC LIMIT 1) "
        "BEGIN SELECT RAISE(ABORT, 'disk full (injected)'); END".replace("?", f"'{name}'")
    )
    database.commit()
    try:
        job_id = api.act("updateApp", name=name, version="2")["job"]["id"]
        job = api.wait_job(job_id, timeout=JOB_TIMEOUT + 60)
    finally:
        database.execute(f"DROP TRIGGER {trigger}")
        database.commit()
        database.close()

    print(job["error"])
    assert job["state"] == "FAILED", job
    assert "disk full (injected)" in job["error"] and "rolled back to 1" in job["error"], job["error"]
    assert "timed out" not in job["error"], "the error ended the job, not RQ's timeout"
    assert compose_processes(name) == []
    back_on_version_1(api, name)
