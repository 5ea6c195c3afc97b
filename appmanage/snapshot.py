"""Apps as they are now: their rows, jobs and containers, and the status computed from them.

One Docker listing and three database reads serve any number of apps. The apps of other
Docker hosts than this process's (`agent_host`) are computed from their agents' last
listings (`host_containers.py`) and their host's availability (`host_availability.py`). A mutation takes
its app's snapshot once: the state right after its job is accepted follows from it
(`with_job`), as the status function is pure.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from redis.exceptions import RedisError

from appmanage.host_availability import availability, offline_reason, registered_hosts
from appmanage.host_containers import read_containers
from appmanage.hosts.facts import ONLINE
from appmanage.runtime.containers import ContainerInfo, DockerUnavailable
from appmanage.services import Services
from appmanage.status import JobSummary, Status, StatusFacts, compute_status
from appmanage.storage import queries
from appmanage.storage.models import App, Job


@dataclass(frozen=True)
class AppSnapshot:
    app: App
    status: Status
    containers: tuple[ContainerInfo, ...]
    active_job: Job | None
    host_online: bool = True


def summary(job: Job | None) -> JobSummary | None:
    if job is None:
        return None
    return JobSummary(job.id, job.kind, job.state, job.step, job.error)


def take_snapshot(
    services: Services,
    names: Collection[str] | None = None,
    need_containers: bool = True,
    known: Mapping[str, Sequence[ContainerInfo]] | None = None,
) -> list[AppSnapshot]:
    """Without `need_containers`, Docker is not asked when every app has a job in flight:
    their status is the job's. With `known` containers (the watcher's, from Docker's
    events), Docker is not asked at all."""
    with services.db.read() as session:
        apps = queries.list_apps(session, names)
        app_names = [a.name for a in apps]
        active = queries.unfinished_jobs(session, app_names if names is not None else None)
        last = queries.last_finished_jobs(session, [a.name for a in apps if not a.installed])
    docker_ok = True
    projects: Mapping[str, Sequence[ContainerInfo]] = known or {}
    if apps and known is None and (need_containers or not set(app_names) <= set(active)):
        try:
            only = app_names[0] if names is not None and len(app_names) == 1 else None
            projects = services.containers.by_project(only)
        except DockerUnavailable:
            docker_ok = False
    own = services.settings.agent_host
    # this process's own engine answers for its host itself (docker_ok): no heartbeat's lag,
    # and no registry read while every app is on it (the one-host case stays as fast as before)
    others = {a.host for a in apps} - {own}
    registry = registered_hosts(services.redis, services.settings.namespace) if others else None
    hosts = {**availability(None if registry is None else registry[1], others), own: ONLINE}
    remote = _remote_listings(services, [a for a in apps if a.host != own])
    snapshots = []
    for app in apps:
        listing = projects.get(app.name, ()) if app.host == own else remote.get(app.name, ())
        containers = tuple(sorted(listing, key=lambda c: (c.service, c.name)))
        facts = StatusFacts(
            installed=app.installed,
            desired_running=app.desired_running,
            active_job=summary(active.get(app.name)),
            last_job=summary(last.get(app.name)),
            containers=[c.as_state() for c in containers],
            docker_ok=docker_ok or app.host != own,
            host_offline=offline_reason(app.host, hosts[app.host]),
            custom=app.catalog_app is None,
        )
        status = compute_status(facts)
        snapshots.append(AppSnapshot(app, status, containers, active.get(app.name), hosts[app.host].online))
    return snapshots


def _remote_listings(services: Services, apps: Sequence[App]) -> dict[str, list[ContainerInfo]]:
    listings: dict[str, list[ContainerInfo]] = {}
    for host in {a.host for a in apps}:
        names = [a.name for a in apps if a.host == host]
        with contextlib.suppress(RedisError):  # the host reads OFFLINE: Redis does not answer
            listings.update(read_containers(services.redis, services.settings.namespace, host, names))
    return listings


def snapshot_of(services: Services, name: str) -> AppSnapshot | None:
    found = take_snapshot(services, [name])
    return found[0] if found else None


def with_job(app: App, job: Job, containers: tuple[ContainerInfo, ...] = ()) -> AppSnapshot:
    """The app as it is once `job` is accepted, from what was known before: the job in
    flight decides its status."""
    facts = StatusFacts(
        app.installed,
        app.desired_running,
        summary(job),
        None,
        [c.as_state() for c in containers],
        True,
        custom=app.catalog_app is None,
    )
    return AppSnapshot(app, compute_status(facts), containers, job)
