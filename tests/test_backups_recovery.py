"""A worker killed in the middle of a BACKUP or RESTORE does not leave the app held still.

A paused backup of a `notes` app: its restic is caught and stopped (SIGSTOP) as soon as it
runs, the worker running the job is SIGKILLed (and replaced, so the session keeps its
workers), recovery fails the job and queues a START job that unpauses the app: RUNNING
again, serving its note. A lost in-place RESTORE's error names its safety snapshot (the
recovery pass called directly, on each database backend, with a worker that never lived).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import docker
import pytest
from sqlalchemy import select, update

from appmanage.config import Settings
from appmanage.enums import JobKind, JobState
from appmanage.jobs.params import RestoreParams, to_json
from appmanage.jobs.records import claim, new_job
from appmanage.jobs.recovery import fail_lost_jobs
from appmanage.services import Services
from appmanage.storage.clock import database_now
from appmanage.storage.models import App, Backup, Job
from tests.support.graphql import GraphQLClient
from tests.support.ports import free_port
from tests.support.processes import settings_env
from tests.support.projects import remove_project
from tests.support.run import RUN_ID
from tests.support.services import private_services
from tests.support.waiting import elapsed_until

pytestmark = pytest.mark.docker

BUSYBOX = "appmanage-local/busybox:1"
BACKUP_APP = """mutation($name: String!) { backupApp(name: $name, stop: false) {
    __typename ... on JobAccepted { job { id } } ... on Error { message } } }"""
JOB = "query($id: ID!) { job(id: $id) { state error worker } }"
APP_JOBS = "query($name: String!) { app(name: $name) { status jobs { id kind state } } }"
WORKER = "elsewhere:4242"


def fetch(port: int, path: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/{path}", timeout=5) as response:
        text: str = response.read().decode().strip()
        return text


def container_states(app: str) -> set[str]:
    client = docker.from_env()
    try:
        found = client.containers.list(all=True, filters={"label": f"com.docker.compose.project={app}"})
        return {c.status for c in found}
    finally:
        client.close()


def restic_backup_of(parents: set[int]) -> int | None:
    """The pid of a `restic backup` a process in `parents` started, if one runs."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            if len(argv) < 2 or not argv[0].endswith(b"restic") or argv[1] != b"backup":
                continue
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent in parents:
            return int(entry)
    return None


class ResticCatcher:
    """Stops (SIGSTOP) the first `restic backup` one of the workers starts, as soon as it runs."""

    def __init__(self, workers: list[subprocess.Popen[bytes]]) -> None:
        self.parents = {w.pid for w in workers}
        self.pid: int | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._done.is_set():
            pid = restic_backup_of(self.parents)
            if pid is not None:
                os.kill(pid, signal.SIGSTOP)
                self.pid = pid
                return
            time.sleep(0.005)

    def caught(self, timeout: float) -> int:
        self._thread.join(timeout)
        assert self.pid is not None, "no restic backup was seen"
        return self.pid

    def release(self) -> None:
        """The stopped restic goes on (its parent gone, it got SIGINT: it removes its lock and ends)."""
        self._done.set()
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGCONT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and Path(f"/proc/{self.pid}").exists():
            if Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


@pytest.fixture
def notes(api: GraphQLClient) -> Iterator[tuple[str, int]]:
    name = f"{RUN_ID}-bkr-{secrets.token_hex(2)}"[:31]
    port = free_port()
    result = api.install("notes", name, HTTP_PORT=str(port), WRITE_INTERVAL="1000")
    assert result["__typename"] == "JobAccepted", result
    try:
        assert api.wait_job(result["job"]["id"])["state"] == "SUCCEEDED"
        api.wait_status(name, "RUNNING")
        yield name, port
    finally:
        remove_project(name)


def test_a_worker_killed_in_a_paused_backup_leaves_the_app_running(
    api: GraphQLClient,
    notes: tuple[str, int],
    settings: Settings,
    workers: list[subprocess.Popen[bytes]],
) -> None:
    name, port = notes
    subprocess.run(
        ["docker", "run", "--rm", "-v", f"{name}_notes:/data", BUSYBOX, "sh", "-c", "echo kept > /data/www/note.txt"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    catcher = ResticCatcher(workers)
    try:
        accepted = api.execute(BACKUP_APP, name=name)["backupApp"]
        assert accepted["__typename"] == "JobAccepted", accepted
        job_id = accepted["job"]["id"]
        restic = catcher.caught(60)
        assert container_states(name) == {"paused"}

        worker = api.execute(JOB, id=job_id)["job"]["worker"]
        pid = int(worker.rsplit(":", 1)[1])
        [index] = [i for i, w in enumerate(workers) if w.pid == pid]
        assert f" {pid} " in Path(f"/proc/{restic}/stat").read_text()  # its parent: the job's worker
        workers[index].send_signal(signal.SIGKILL)
        workers[index].wait(10)
        workers[index] = subprocess.Popen(
            [sys.executable, "-m", "appmanage", "worker"], env=settings_env(settings), stderr=subprocess.DEVNULL
        )
        killed = time.monotonic()

        def failed() -> bool:
            return bool(api.execute(JOB, id=job_id)["job"]["state"] == "FAILED")

        took = elapsed_until(failed, 30, "the lost backup to be FAILED")
        job = api.execute(JOB, id=job_id)["job"]
        assert "worker lost" in job["error"] and "started again by job" in job["error"], job
        api.wait_status(name, "RUNNING", timeout=30)
        running = time.monotonic() - killed
        print(f"the lost backup FAILED {took:.1f} s after the kill, the app RUNNING again after {running:.1f} s")
        assert running < 30
        assert container_states(name) == {"running"}
        assert fetch(port, "note.txt") == "kept"
        jobs = api.execute(APP_JOBS, name=name)["app"]["jobs"]
        [start] = [j for j in jobs if j["kind"] == "START"]
        assert start["state"] == "SUCCEEDED" and start["id"] in job["error"]
    finally:
        catcher.release()


@pytest.fixture
def services(settings: Settings, tmp_path: Path, database_url: str) -> Iterator[Services]:
    with private_services(settings, tmp_path, database_url=database_url) as services:
        yield services


def lost_restore(services: Services, safety: bool) -> tuple[str, str]:
    """A RUNNING in-place RESTORE of an installed app, its worker gone for a minute; and
    the id of its safety snapshot's row (written when `safety`)."""
    name = f"app-{secrets.token_hex(3)}"
    safety_id = secrets.token_hex(32)
    with services.db.write() as session:
        session.add(
            App(name=name, catalog_app="notes", source="test", version="1", installed=True, desired_running=True)
        )
        params = to_json(RestoreParams(secrets.token_hex(32), name))
        job_id = new_job(session, name, JobKind.RESTORE, params).id
    assert claim(services.db, job_id, WORKER) is not None
    with services.db.write() as session:
        then = database_now(session) - timedelta(seconds=60)
        session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=then))
        if safety:
            session.add(Backup(id=safety_id, app=name, host="local", version="1", safety_for_job=job_id))
    return job_id, safety_id


def test_a_lost_restore_names_its_safety_snapshot_and_starts_the_app(services: Services) -> None:
    cut, safety_id = lost_restore(services, safety=True)
    early, _ = lost_restore(services, safety=False)
    failed = {job.id: job for job in fail_lost_jobs(services)}
    assert set(failed) == {cut, early}
    error = failed[cut].error or ""
    assert "the restore was cut" in error and f"restore the safety snapshot {safety_id}" in error, error
    assert "not replaced" in (failed[early].error or "")
    with services.db.read() as session:
        starts = session.scalars(select(Job).where(Job.kind == JobKind.START)).all()
    assert {j.app_name for j in starts} == {failed[cut].app_name, failed[early].app_name}
    assert {j.state for j in starts} == {JobState.QUEUED}
    for start in starts:
        lost = cut if start.app_name == failed[cut].app_name else early
        assert f"started again by job {start.id}" in (failed[lost].error or "")
