"""A job is declared lost only when its worker is gone: heartbeats judged on the database's
clock, and the worker's sign of life in Redis checked before the job is failed."""

from __future__ import annotations

import secrets
import signal
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from appmanage.config import Settings
from appmanage.enums import JobKind, JobState
from appmanage.jobs import recovery
from appmanage.jobs.liveness import Liveness, liveness_key
from appmanage.jobs.records import claim, new_job
from appmanage.jobs.recovery import fail_lost_jobs
from appmanage.services import Services
from appmanage.storage.clock import database_now
from appmanage.storage.models import App, Job, utcnow
from tests.support.processes import Stack
from tests.support.services import private_services
from tests.support.waiting import elapsed_until, wait_for

pytestmark = pytest.mark.docker

WORKER = "elsewhere:4242"


@pytest.fixture
def services(settings: Settings, tmp_path: Path, database_url: str) -> Iterator[Services]:
    """In-process clients on a private database (each backend) and Redis namespace."""
    with private_services(settings, tmp_path, database_url=database_url) as services:
        yield services


def running_job(services: Services, worker: str = WORKER) -> str:
    name = f"app-{secrets.token_hex(3)}"
    with services.db.write() as session:
        session.add(App(name=name, catalog_app="hello", source="test", version="1"))
        job_id = new_job(session, name, JobKind.START).id
    assert claim(services.db, job_id, worker) is not None
    return job_id


def heartbeat_ago(services: Services, job_id: str, seconds: float) -> None:
    with services.db.write() as session:
        then = database_now(session) - timedelta(seconds=seconds)
        session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=then))


def state(services: Services, job_id: str) -> JobState:
    with services.db.read() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job.state


def test_wall_clock_steps_do_not_fail_a_beating_job(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker's clock an hour behind when it beats, recovery's an hour ahead when it
    judges: the database's clock says the heartbeat is fresh."""
    hour = timedelta(hours=1)
    monkeypatch.setattr("appmanage.jobs.records.utcnow", lambda: utcnow() - hour)
    job_id = running_job(services)
    monkeypatch.setattr("appmanage.jobs.recovery.utcnow", lambda: utcnow() + hour)
    assert fail_lost_jobs(services) == []
    assert state(services, job_id) is JobState.RUNNING


def test_a_stale_heartbeat_fails_nothing_while_the_worker_runs_the_job(services: Services) -> None:
    job_id = running_job(services)
    heartbeat_ago(services, job_id, 60)
    liveness = Liveness(services.redis, services.settings.namespace, WORKER)
    liveness.running(job_id)
    liveness.start()
    try:
        wait_for(lambda: services.redis.get(liveness_key(services.settings.namespace, WORKER)), 5, "the key")
        assert fail_lost_jobs(services) == []
        assert state(services, job_id) is JobState.RUNNING

        liveness.running("another-job")  # it lives, but no longer runs this one (its end was not recorded)
        wait_for(lambda: services.redis.get(liveness.key) == b"another-job", 5, "the key to change")
        (failed,) = fail_lost_jobs(services)
        assert failed.id == job_id and "no longer runs this job" in (failed.error or "")
    finally:
        liveness.stop()


def test_without_redis_only_a_long_silence_fails_a_job(services: Services) -> None:
    job_id = running_job(services)
    unreachable = replace(services.settings, redis_url="redis://127.0.0.1:9/0")
    blind = Services(unreachable)
    try:
        heartbeat_ago(services, job_id, 30)  # past LOST_AFTER, but as long as a database lock may hold it
        assert fail_lost_jobs(blind) == []
        heartbeat_ago(services, job_id, recovery.LOST_AFTER_WITHOUT_REDIS.total_seconds() + 10)
        (failed,) = fail_lost_jobs(blind)
        assert "Redis did not answer" in (failed.error or "")
    finally:
        blind.close()


def test_a_heartbeat_held_back_fails_nothing_until_the_worker_really_dies(
    settings: Settings, app_name: Callable[[str], str]
) -> None:
    stack = Stack.create(settings).start(workers=2, watcher=True)
    try:
        api = stack.client()
        name = app_name("held")
        job_id = api.install("slowpoke", name)["job"]["id"]
        wait_for(lambda: "compose up" in (api.job(job_id)["step"] or ""), 30, "the install to run compose up")

        database = sqlite3.connect(str(stack.settings.data_dir / "appmanage.db"), timeout=30)
        try:
            held_until = time.monotonic() + 3 * recovery.LOST_AFTER.total_seconds() / 2
            while time.monotonic() < held_until:  # every heartbeat the worker writes is set back at once
                database.execute("UPDATE jobs SET heartbeat_at = '2000-01-01 00:00:00' WHERE id = ?", (job_id,))
                database.commit()
                time.sleep(0.1)
        finally:
            database.close()
        job = api.job(job_id)
        assert job["state"] == "RUNNING", job

        worker = api.execute("query($id: ID!) { job(id: $id) { worker } }", id=job_id)["job"]["worker"]
        pid = int(worker.rsplit(":", 1)[1])
        (process,) = [p for p in stack.workers if p.pid == pid]
        stack.kill(process, signal.SIGKILL)
        took = elapsed_until(lambda: api.job(job_id)["state"] == "FAILED", 20, "the job to be FAILED")
        assert "worker lost" in api.job(job_id)["error"]
        print(f"a killed worker's job FAILED after {took:.1f} s")
        assert took < 15
    finally:
        stack.remove()
