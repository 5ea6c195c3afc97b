"""Submit an operation: validate it, write its rows, enqueue it, announce it; nothing is
left behind when validation fails. Each submission answers with the job and the app as
it is once the job is accepted, computed from the one snapshot the submission took."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy.exc import IntegrityError

from appmanage.apps.custom import custom_redeploy
from appmanage.apps.plan import InstallPlan, check_install, validate_install
from appmanage.apps.validation import (
    catalog_app_of,
    check_change_refusals,
    check_name_free,
    check_ports_free,
    checked_ports,
    host_ports_in_use,
)
from appmanage.catalog.custom_project import CustomFiles
from appmanage.catalog.params import resolve_settings
from appmanage.enums import AppAction, AppStatus, JobKind, JobState
from appmanage.errors import ActionNotAllowed, Conflict, NotFound, Unavailable, ValidationFailed
from appmanage.job_record import JobRecord
from appmanage.jobs import queue, records
from appmanage.jobs.dispatch import dispatch
from appmanage.jobs.params import (
    InstallParams,
    JobParams,
    RedeployParams,
    RestartParams,
    StartParams,
    StopParams,
    UninstallParams,
    UpdateParams,
    to_json,
)
from appmanage.services import Services
from appmanage.snapshot import AppSnapshot, snapshot_of, with_job
from appmanage.status import Status
from appmanage.status_feed import announce, publish_statuses
from appmanage.storage import queries
from appmanage.storage.models import App, Job, utcnow

__all__ = [
    "Accepted",
    "InstallPlan",
    "busy_conflict",
    "cancel_job",
    "enqueue",
    "idle_snapshot",
    "new_app_row",
    "submit_action",
    "submit_change",
    "submit_install",
    "submit_job",
    "submit_new_app",
    "submit_redeploy",
    "submit_uninstall",
    "submit_update",
    "validate_install",
]

log = logging.getLogger(__name__)

ACTION_OF_KIND = {
    JobKind.START: AppAction.START,
    JobKind.STOP: AppAction.STOP,
    JobKind.RESTART: AppAction.RESTART,
    JobKind.REDEPLOY: AppAction.REDEPLOY,
    JobKind.UPDATE: AppAction.UPDATE,
    JobKind.UNINSTALL: AppAction.UNINSTALL,
    JobKind.EDIT: AppAction.EDIT,
}
PLAIN_ACTIONS: dict[JobKind, JobParams] = {
    JobKind.START: StartParams(),
    JobKind.STOP: StopParams(),
    JobKind.RESTART: RestartParams(),
}
# What a change asks of the app it changes: the job's parameters and the new host ports it holds.
Prepare = Callable[[App], tuple[JobParams, list[int]]]


@dataclass(frozen=True)
class Accepted:
    job: Job
    app: AppSnapshot
    """The app once the job is accepted: its status is the job's."""


def submit_install(
    services: Services,
    catalog_name: str,
    name: str,
    version: str | None,
    given: Mapping[str, str],
    host: str | None = None,
) -> Accepted:
    """Onto `host`, or the host placement chooses when it is None."""
    plan = check_install(services, catalog_name, name, version, given, host)
    catalog_app = plan.catalog_app
    app = new_app_row(name, catalog_app.name, catalog_app.source, plan.version, plan.host, plan.ports, plan.settings)
    return submit_new_app(services, app, plan.busy, InstallParams())


def new_app_row(
    name: str,
    catalog_app: str | None,
    source: str,
    version: str,
    host: str,
    host_ports: Sequence[int],
    settings: Mapping[str, Any] | None = None,
    files: CustomFiles | None = None,
) -> App:
    """The row of an app about to be installed: not installed yet, meant to run; a custom
    app's `files` kept in it."""
    now = utcnow()
    return App(
        name=name,
        catalog_app=catalog_app,
        host=host,
        source=source,
        version=version,
        settings=dict(settings or {}),
        host_ports=list(host_ports),
        installed=False,
        desired_running=True,
        compose_file=None if files is None else files.compose,
        env_file=None if files is None else files.env,
        created_at=now,
        updated_at=now,
    )


def submit_new_app(
    services: Services, app: App, busy: set[int], params: JobParams, kind: JobKind = JobKind.INSTALL
) -> Accepted:
    """`app`'s row (see new_app_row) and its first job, written in one transaction that
    checks again that its name and host ports are free (`busy`: in use on its host), then
    enqueued and announced."""
    with services.db.write() as session:
        check_name_free(session, app.name)
        check_ports_free(session, app.host_ports, busy, except_app=None, host=app.host)
        session.add(app)
        job = records.new_job(session, app.name, kind, to_json(params))
    return enqueue(services, with_job(app, job))


def submit_action(services: Services, name: str, kind: JobKind) -> Accepted:
    """Start, stop or restart."""
    params = PLAIN_ACTIONS[kind]
    return submit_change(services, name, kind, lambda _app: (params, []))


def submit_uninstall(services: Services, name: str, purge: bool) -> Accepted:
    return submit_change(services, name, JobKind.UNINSTALL, lambda _app: (UninstallParams(purge), []))


def submit_redeploy(services: Services, name: str, given: Mapping[str, str]) -> Accepted:
    def prepare(app: App) -> tuple[JobParams, list[int]]:
        if app.catalog_app is None:
            return custom_redeploy(name, given)
        catalog_app = catalog_app_of(services, app)
        host = services.settings.public_host
        settings = resolve_settings(catalog_app, given, previous=app.settings, host=host)
        check_change_refusals(services, catalog_app, name, app.version, settings)
        ports = checked_ports(catalog_app, settings)
        return RedeployParams(settings, ports), [p for p in ports if p not in app.host_ports]

    return submit_change(services, name, JobKind.REDEPLOY, prepare)


def submit_update(services: Services, name: str, version: str) -> Accepted:
    def prepare(app: App) -> tuple[JobParams, list[int]]:
        catalog_app = catalog_app_of(services, app)
        if version not in catalog_app.versions:
            raise NotFound(f"{app.catalog_app} has no version {version}")
        if version == app.version:
            raise ValidationFailed(f"{name} already runs version {version}", field="version")
        check_change_refusals(services, catalog_app, name, version, app.settings)
        return UpdateParams(version, app.version), []

    return submit_change(services, name, JobKind.UPDATE, prepare)


def submit_change(services: Services, name: str, kind: JobKind, prepare: Prepare) -> Accepted:
    """A job of `kind` on an existing app, when its status allows the action of that kind:
    `prepare` gives the job's parameters (or raises the domain error that refuses it)."""
    snapshot = _changeable(services, name, kind)
    params, new_ports = prepare(snapshot.app)
    return submit_job(services, snapshot, kind, params, new_ports)


def submit_job(
    services: Services, snapshot: AppSnapshot, kind: JobKind, params: JobParams, new_ports: Sequence[int] = ()
) -> Accepted:
    """The job's row written for the app of `snapshot` (the host ports it newly takes,
    `new_ports`, checked free in the same transaction), then enqueued and announced. The
    database's one-unfinished-job index turns a race into the Conflict naming the winner."""
    name, host = snapshot.app.name, snapshot.app.host
    busy = host_ports_in_use(services, host) if new_ports else set()
    try:
        with services.db.write() as session:
            if session.get(App, name) is None:
                raise NotFound(f"no app is named {name}")
            if new_ports:
                check_ports_free(session, new_ports, busy, except_app=name, host=host)
            job = records.new_job(session, name, kind, to_json(params))
    except IntegrityError:
        with services.db.read() as session:
            active = queries.unfinished_jobs(session, [name]).get(name)
        if active is None:
            raise
        raise busy_conflict(active) from None
    return enqueue(services, with_job(snapshot.app, job, snapshot.containers))


def idle_snapshot(services: Services, name: str) -> AppSnapshot:
    """The app's snapshot, when no job of it is unfinished and its status is known (its
    host online, its Docker answering): NotFound, Conflict or Unavailable otherwise."""
    snapshot = snapshot_of(services, name)
    if snapshot is None:
        raise NotFound(f"no app is named {name}")
    if snapshot.active_job is not None:
        raise busy_conflict(snapshot.active_job)
    status = snapshot.status
    if status.status is AppStatus.UNKNOWN:
        if status.reason and status.reason.startswith(f"host {snapshot.app.host}"):
            raise Unavailable(f"{name} cannot be changed now: {status.reason}; try again when the host is back")
        raise Unavailable(f"Docker does not answer, so {name} cannot be changed now; try again when it is back")
    return snapshot


def _changeable(services: Services, name: str, kind: JobKind) -> AppSnapshot:
    """The app's idle snapshot, when its status allows the action of `kind`."""
    snapshot = idle_snapshot(services, name)
    status = snapshot.status
    action = ACTION_OF_KIND[kind]
    if action in status.actions:
        return snapshot
    app = snapshot.app
    if action is AppAction.UPDATE and app.catalog_app is None:
        why = f"{name} is your own compose app: it has no catalog versions; change its compose file with editApp"
    elif action is AppAction.EDIT and app.catalog_app is not None:
        why = (
            f"{name} is the catalog app {app.catalog_app}: change it with redeployApp or updateApp; "
            "editApp changes your own compose apps only"
        )
    else:
        allowed = ", ".join(a.value for a in status.actions) or "nothing"
        why = f"{name} is {status.status.value}: {action.value} is not allowed (allowed: {allowed})"
    raise ActionNotAllowed(why, status.status, status.actions)


def cancel_job(services: Services, job_id: str) -> Job:
    """A queued job ends CANCELED at once; a running one is asked to stop, and its runner
    ends the compose process and the job within a second."""
    with services.db.write() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"no job has the id {job_id}")
        was = job.state
        if was is JobState.QUEUED:
            job.state, job.error, job.step, job.finished_at = (
                JobState.CANCELED,
                "canceled",
                "canceled",
                utcnow(),
            )
        if not was.finished:
            job.cancel_requested = True
    if was.finished:
        snapshot = snapshot_of(services, job.app_name)
        status = snapshot.status if snapshot else Status(AppStatus.UNKNOWN, None)
        raise ActionNotAllowed(f"job {job_id} has already ended ({was.value})", status.status, status.actions)
    if was is JobState.QUEUED:
        with contextlib.suppress(RedisError):
            queue.remove_queued(services.redis, job_id)
        services.stream.publish("job", {"job": JobRecord.from_row(job).to_json(), "line": None})
        announce(services, [job.app_name])
    return job


def busy_conflict(job: Job) -> Conflict:
    """The refusal of a new job while `job`, unfinished, holds its app."""
    return Conflict(f"job {job.id} ({job.kind.value}) is {job.state.value} for app {job.app_name}: wait or cancel it")


def enqueue(services: Services, accepted: AppSnapshot) -> Accepted:
    """The job just written for `accepted` (its snapshot once the job is accepted) handed
    to its host's queue, and the app's new status announced."""
    job = accepted.active_job
    assert job is not None
    dispatch(services, job, accepted.app.host)
    publish_statuses(services, [accepted])
    return Accepted(job, accepted)
