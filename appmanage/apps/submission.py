"""Validate a requested operation, write its rows, enqueue it; nothing is left behind
when validation fails."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from appmanage.apps.preview import RenderedProject, render_project
from appmanage.apps.reinstall import settings_over_kept_data
from appmanage.catalog.model import CatalogApp
from appmanage.catalog.params import host_ports, resolve_settings
from appmanage.catalog.requirements import unmet
from appmanage.catalog.warning_kinds import refusal_message, refused
from appmanage.enums import AppAction, AppStatus, JobKind, JobState
from appmanage.errors import ActionNotAllowed, Conflict, NotFound, Unavailable, ValidationFailed
from appmanage.jobs import queue, records
from appmanage.jobs.context import job_payload
from appmanage.runtime.containers import DockerUnavailable
from appmanage.runtime.host import host_resources
from appmanage.runtime.ports import listening_ports
from appmanage.services import Services
from appmanage.snapshot import snapshot_of
from appmanage.status import Status
from appmanage.status_feed import announce
from appmanage.storage import queries
from appmanage.storage.models import App, Job, utcnow

log = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"[a-z][a-z0-9-]{1,30}")
ACTION_OF_KIND = {
    JobKind.START: AppAction.START,
    JobKind.STOP: AppAction.STOP,
    JobKind.RESTART: AppAction.RESTART,
    JobKind.REDEPLOY: AppAction.REDEPLOY,
    JobKind.UPDATE: AppAction.UPDATE,
    JobKind.UNINSTALL: AppAction.UNINSTALL,
}


def settings_map(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    given: dict[str, str] = {}
    for key, value in pairs:
        if key in given:
            raise ValidationFailed(f"{key} is given twice", field=key)
        given[key] = value
    return given


@dataclass(frozen=True)
class InstallPlan:
    """An install that passed every check, with its rendered project."""

    catalog_app: CatalogApp
    name: str
    version: str
    settings: dict[str, str]
    ports: list[int]
    busy: set[int]
    project: RenderedProject


def validate_install(
    services: Services, catalog_name: str, name: str, version: str | None, given: Mapping[str, str]
) -> InstallPlan:
    """Everything installApp checks, with nothing written: previewInstall answers with this."""
    if not NAME_PATTERN.fullmatch(name):
        raise ValidationFailed(
            "the name must start with a lowercase letter, then 1 to 30 lowercase letters, digits or dashes",
            field="name",
        )
    catalog_app = services.catalog.get(catalog_name)
    if catalog_app is None:
        raise NotFound(f"the catalog has no app {catalog_name}")
    version = version or catalog_app.default_version
    if version not in catalog_app.versions:
        raise NotFound(f"{catalog_name} has no version {version} (versions: {', '.join(catalog_app.versions)})")
    with services.db.read() as session:
        _check_name_free(session, name)
    given = settings_over_kept_data(services, catalog_app, name, given)
    settings = resolve_settings(catalog_app, given, host=services.settings.public_host)
    ports = _checked_ports(catalog_app, settings)
    _check_requirements(services, catalog_app)
    busy = _host_ports_in_use(services)
    if services.containers.by_project(name):
        raise Conflict(f"Docker already runs a compose project named {name}")
    with services.db.read() as session:
        _check_name_free(session, name)
        _check_ports_free(session, ports, busy, except_app=None)
    project = render_project(services, catalog_app, name, version, settings)
    _check_refusals(services, project)
    return InstallPlan(catalog_app, name, version, settings, ports, busy, project)


def submit_install(
    services: Services, catalog_name: str, name: str, version: str | None, given: Mapping[str, str]
) -> Job:
    plan = validate_install(services, catalog_name, name, version, given)
    with services.db.write() as session:
        _check_name_free(session, name)
        _check_ports_free(session, plan.ports, plan.busy, except_app=None)
        now = utcnow()
        session.add(
            App(
                name=name,
                catalog_app=plan.catalog_app.name,
                source=plan.catalog_app.source,
                version=plan.version,
                settings=plan.settings,
                host_ports=plan.ports,
                installed=False,
                desired_running=True,
                created_at=now,
                updated_at=now,
            )
        )
        job = records.new_job(session, name, JobKind.INSTALL)
    _enqueue(services, job)
    return job


def submit_action(services: Services, name: str, kind: JobKind, params: dict[str, Any] | None = None) -> Job:
    snapshot = snapshot_of(services, name)
    if snapshot is None:
        raise NotFound(f"no app is named {name}")
    if snapshot.active_job is not None:
        raise _busy(snapshot.active_job)
    status = snapshot.status
    if status.status is AppStatus.UNKNOWN:
        raise Unavailable(f"Docker does not answer, so {name} cannot be changed now; try again when it is back")
    action = ACTION_OF_KIND[kind]
    if action not in status.actions:
        allowed = ", ".join(a.value for a in status.actions) or "nothing"
        raise ActionNotAllowed(
            f"{name} is {status.status.value}: {action.value} is not allowed (allowed: {allowed})",
            status.status,
            status.actions,
        )
    params = dict(params or {})
    app = snapshot.app
    ports: list[int] = []
    busy: set[int] = set()
    if kind is JobKind.REDEPLOY:
        catalog_app = _catalog_app_of(services, app)
        host = services.settings.public_host
        settings = resolve_settings(catalog_app, params.pop("given", {}), previous=app.settings, host=host)
        _check_change_refusals(services, catalog_app, name, app.version, settings)
        params["settings"] = settings
        params["ports"] = _checked_ports(catalog_app, settings)
        ports = [p for p in params["ports"] if p not in app.host_ports]
        busy = _host_ports_in_use(services) if ports else set()
    elif kind is JobKind.UPDATE:
        catalog_app = _catalog_app_of(services, app)
        version = str(params["version"])
        if version not in catalog_app.versions:
            raise NotFound(f"{app.catalog_app} has no version {version}")
        if version == app.version:
            raise ValidationFailed(f"{name} already runs version {version}", field="version")
        _check_change_refusals(services, catalog_app, name, version, app.settings)
        params["from_version"] = app.version
    try:
        with services.db.write() as session:
            if session.get(App, name) is None:
                raise NotFound(f"no app is named {name}")
            _check_ports_free(session, ports, busy, except_app=name)
            job = records.new_job(session, name, kind, params)
    except IntegrityError:
        with services.db.read() as session:
            active = queries.unfinished_jobs(session, [name]).get(name)
        if active is None:
            raise
        raise _busy(active) from None
    _enqueue(services, job)
    return job


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
        services.stream.publish("job", {"job": job_payload(job), "line": None})
        announce(services, [job.app_name])
    return job


def _busy(job: Job) -> Conflict:
    return Conflict(f"job {job.id} ({job.kind.value}) is {job.state.value} for app {job.app_name}: wait or cancel it")


def _catalog_app_of(services: Services, app: App) -> CatalogApp:
    catalog_app = services.catalog.get(app.catalog_app)
    if catalog_app is None:
        raise NotFound(f"catalog app {app.catalog_app} is no longer in the catalog")
    return catalog_app


def _check_name_free(session: Any, name: str) -> None:
    if session.get(App, name) is not None:
        raise Conflict(f"the name {name} is taken by an installed app")


def _check_requirements(services: Services, catalog_app: CatalogApp) -> None:
    host = host_resources(services.settings.data_dir)
    missing = unmet(catalog_app.requirements, host.cpu, host.memory, host.disk)
    if missing:
        raise ValidationFailed(f"{catalog_app.name} {'; '.join(missing)}")


def _check_refusals(services: Services, project: RenderedProject) -> None:
    refusals = refused(project.warnings, services.settings.refuse)
    if refusals:
        raise ValidationFailed(refusal_message(refusals))


def _check_change_refusals(
    services: Services, catalog_app: CatalogApp, name: str, version: str, settings: Mapping[str, str]
) -> None:
    """A redeploy or update reviewed like an install, when something is refused and compose
    answers here; its job reviews the really rendered folder again before the up."""
    if not services.settings.refuse:
        return
    try:
        project = render_project(services, catalog_app, name, version, settings)
    except Unavailable:
        return
    _check_refusals(services, project)


def _checked_ports(catalog_app: CatalogApp, settings: Mapping[str, str]) -> list[int]:
    ports = [int(settings[k]) for k in catalog_app.port_keys if k in settings]
    for key in catalog_app.port_keys:
        if key in settings and ports.count(int(settings[key])) > 1:
            raise ValidationFailed(f"{key}: port {settings[key]} is given to two parameters", field=key)
    return host_ports(catalog_app, settings)


def _host_ports_in_use(services: Services) -> set[int]:
    try:
        published = services.containers.published_ports()
    except DockerUnavailable as exc:
        raise Unavailable(f"Docker does not answer, so nothing can be installed or changed: {exc}") from exc
    return published | listening_ports()


def _check_ports_free(session: Any, ports: Iterable[int], busy: set[int], except_app: str | None) -> None:
    owners = queries.ports_in_use_by_apps(session, except_app=except_app)
    pending = session.scalars(select(Job).where(Job.state.in_(queries.UNFINISHED_STATES), Job.kind == JobKind.REDEPLOY))
    for job in pending:
        if job.app_name != except_app:
            owners.update({int(p): job.app_name for p in job.params.get("ports") or ()})
    for port in ports:
        if port in owners:
            raise Conflict(f"port {port} is already given to app {owners[port]}")
        if port in busy:
            raise Conflict(f"port {port} is in use on this host")


def _enqueue(services: Services, job: Job) -> None:
    try:
        timeout = queue.job_timeout(job.kind, services.settings)
        queue.enqueue(services.redis, services.settings.namespace, job.id, timeout)
    except RedisError as exc:
        log.warning("job %s stays QUEUED until Redis answers: %s", job.id, exc)
    services.stream.publish("job", {"job": job_payload(job), "line": None})
    announce(services, [job.app_name])
