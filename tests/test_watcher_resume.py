"""The watcher resumes the desired state after a restart through the worker side of the
queue: a START job for each installed app that should run and is all exited, none for an
app the operator stopped or one that already has a job, and a lost race writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rq.job import Job as RQJob

from appmanage.config import Settings
from appmanage.enums import JobKind, JobState
from appmanage.jobs.records import new_job
from appmanage.runtime.containers import ContainerInfo, ContainerReader
from appmanage.services import Services
from appmanage.storage import queries
from appmanage.storage.models import App, Job
from appmanage.watcher import resume
from appmanage.watcher.resume import resume_desired_state
from tests.support.services import private_services

pytestmark = pytest.mark.docker  # Redis


class AllExited(ContainerReader):
    """A host after a reboot: every app's one container exited."""

    def __init__(self) -> None:
        super().__init__()
        self.apps: set[str] = set()

    def by_project(self, project: str | None = None) -> dict[str, list[ContainerInfo]]:
        return {name: [exited(name)] for name in self.apps if project in (None, name)}


def exited(name: str) -> ContainerInfo:
    return ContainerInfo(f"id-{name}", f"{name}-web-1", name, "web", "exited", 255, None, "hello", 0)


@pytest.fixture
def services(settings: Settings, tmp_path: Path, database_url: str) -> Iterator[Services]:
    """On a private database of each backend."""
    with private_services(settings, tmp_path, containers=AllExited(), database_url=database_url) as services:
        yield services


def add_app(services: Services, name: str, installed: bool = True, desired_running: bool = True) -> None:
    assert isinstance(services.containers, AllExited)
    services.containers.apps.add(name)
    with services.db.write() as session:
        session.add(
            App(
                name=name,
                catalog_app="hello",
                source="test",
                version="1",
                installed=installed,
                desired_running=desired_running,
            )
        )


def jobs_of(services: Services, name: str) -> list[Job]:
    with services.db.read() as session:
        return list(session.query(Job).filter(Job.app_name == name))


def test_only_the_apps_that_should_run_get_a_start_job(services: Services) -> None:
    add_app(services, "wanted")
    add_app(services, "stopped", desired_running=False)
    add_app(services, "never", installed=False)
    add_app(services, "busy")
    with services.db.write() as session:
        busy_job = new_job(session, "busy", JobKind.RESTART).id

    assert resume_desired_state(services) == ["wanted"]

    (job,) = jobs_of(services, "wanted")
    assert (job.kind, job.state) == (JobKind.START, JobState.QUEUED)
    assert RQJob.exists(job.id, connection=services.redis), "the job is enqueued for a worker"
    assert jobs_of(services, "stopped") == [] and jobs_of(services, "never") == []
    assert [j.id for j in jobs_of(services, "busy")] == [busy_job]
    assert resume_desired_state(services) == [], "an app with its START job queued is not started twice"


def test_a_job_queued_first_by_a_mutation_wins_the_race(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    add_app(services, "raced")
    real_unfinished = queries.unfinished_jobs

    def a_mutation_got_there_first(session: object, names: object = None) -> dict[str, Job]:
        with services.db.write() as other:
            new_job(other, "raced", JobKind.STOP)
        monkeypatch.setattr(resume.queries, "unfinished_jobs", real_unfinished)
        return {}

    monkeypatch.setattr(resume.queries, "unfinished_jobs", a_mutation_got_there_first)
    assert resume_desired_state(services) == []
    assert [j.kind for j in jobs_of(services, "raced")] == [JobKind.STOP]
