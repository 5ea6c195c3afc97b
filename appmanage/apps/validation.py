"""The checks a request passes before anything is written: the name rule, the catalog app
and its requirements, ports (given twice, taken by an app, busy on the host) and the
refusals of APPMANAGE_REFUSE.

What a host offers comes from its agent's facts in the registry (`hosts/`); the host
`local` without facts (no agent publishes them yet) is this machine, judged as before
hosts existed: its resources read here, its ports from Docker and the listening sockets."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from appmanage.apps.placement import HostOffer, check_host, choose_host, named_host
from appmanage.apps.preview import RenderedProject, render_project
from appmanage.catalog.model import CatalogApp, Requirements
from appmanage.catalog.params import host_ports
from appmanage.catalog.warning_kinds import refusal_message, refused
from appmanage.enums import JobKind
from appmanage.errors import Conflict, NotFound, Unavailable, ValidationFailed
from appmanage.host_availability import availability, registered_hosts
from appmanage.hosts.facts import HostFacts, HostStatus
from appmanage.jobs.params import EditParams, RedeployParams, params_of
from appmanage.runtime.containers import DockerUnavailable
from appmanage.runtime.host import host_resources
from appmanage.runtime.ports import listening_ports
from appmanage.services import Services
from appmanage.storage import queries
from appmanage.storage.models import LOCAL_HOST, App, Job

GB = 1024**3

NAME_PATTERN = re.compile(r"[a-z][a-z0-9-]{1,30}")
PORT_HOLDERS: dict[JobKind, type[RedeployParams] | type[EditParams]] = {
    JobKind.REDEPLOY: RedeployParams,
    JobKind.EDIT: EditParams,
}
"""The jobs whose new host ports are held for their app while they are unfinished."""


def check_name(name: str) -> None:
    if not NAME_PATTERN.fullmatch(name):
        raise ValidationFailed(
            "the name must start with a lowercase letter, then 1 to 30 lowercase letters, digits or dashes",
            field="name",
        )


def check_name_free(session: Session, name: str) -> None:
    if session.get(App, name) is not None:
        raise Conflict(f"the name {name} is taken by an installed app")


def catalog_app_of(services: Services, app: App) -> CatalogApp:
    """The app's catalog app; a custom compose app has none, so what needs one is refused."""
    if app.catalog_app is None:
        raise ValidationFailed(
            f"{app.name} is your own compose app, not a catalog app: it has no catalog versions or settings; "
            "change its compose file with editApp",
            field="name",
        )
    catalog_app = services.catalog.get(app.catalog_app)
    if catalog_app is None:
        raise NotFound(f"catalog app {app.catalog_app} is no longer in the catalog")
    return catalog_app


def check_refusals(services: Services, project: RenderedProject) -> None:
    refusals = refused(project.warnings, services.settings.refuse)
    if refusals:
        raise ValidationFailed(refusal_message(refusals))


def check_change_refusals(
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
    check_refusals(services, project)


def checked_ports(catalog_app: CatalogApp, settings: Mapping[str, str]) -> list[int]:
    """The host ports the settings publish; a port given to two parameters is refused."""
    ports = [int(settings[k]) for k in catalog_app.port_keys if k in settings]
    for key in catalog_app.port_keys:
        if key in settings and ports.count(int(settings[key])) > 1:
            raise ValidationFailed(f"{key}: port {settings[key]} is given to two parameters", field=key)
    return host_ports(catalog_app, settings)


def host_offers(services: Services, wanted: str | None = None) -> list[HostOffer]:
    """What each known host offers (with `wanted`, that host only, registered or not). The
    host `local` is known without facts only while no host at all is registered."""
    registry = registered_hosts(services.redis, services.settings.namespace)
    facts, statuses = registry if registry is not None else ({}, None)
    names = {wanted} if wanted is not None else set(facts) or {LOCAL_HOST}
    judged = availability(statuses, names)
    with services.db.read() as session:
        counts = {
            host: int(count) for host, count in session.execute(select(App.host, func.count()).group_by(App.host))
        }
        offers = []
        for name in sorted(names):
            offered = _offered(services, name, facts.get(name), judged[name])
            app_ports = _ports_given(session, name, except_app=None)
            offers.append(HostOffer(name, judged[name], *offered, app_ports, counts.get(name, 0)))
    return offers


def _offered(
    services: Services, name: str, facts: HostFacts | None, status: HostStatus
) -> tuple[bool, float, float, float, frozenset[int]]:
    """(draining, cpu, memory GB, disk GB, busy ports) of one host."""
    if facts is not None:
        return facts.draining, facts.cpus, facts.memory_bytes / GB, facts.disk_free_bytes / GB, facts.ports
    if name == LOCAL_HOST and status.online:
        local = host_resources(services.settings.data_dir)
        return False, local.cpu, local.memory, local.disk, frozenset(_local_ports_in_use(services))
    return False, 0.0, 0.0, 0.0, frozenset()


def host_ports_in_use(services: Services, host: str = LOCAL_HOST) -> set[int]:
    """The ports in use on `host`: its agent's facts, or for `local` without them, this machine's."""
    registry = registered_hosts(services.redis, services.settings.namespace)
    facts = None if registry is None else registry[0].get(host)
    if facts is not None:
        return set(facts.ports)
    if host != LOCAL_HOST:
        raise Unavailable(f"host {host}: no agent reports its ports, so nothing can be changed there now")
    return _local_ports_in_use(services)


def _local_ports_in_use(services: Services) -> set[int]:
    try:
        published = services.containers.published_ports()
    except DockerUnavailable as exc:
        raise Unavailable(f"Docker does not answer, so nothing can be installed or changed: {exc}") from exc
    return published | listening_ports()


def check_ports_free(
    session: Session, ports: Iterable[int], busy: set[int], except_app: str | None, host: str = LOCAL_HOST
) -> None:
    """Ports of other apps on `host`, and those an unfinished redeploy or edit holds there, are taken."""
    owners = _ports_given(session, host, except_app)
    for port in ports:
        if port in owners:
            raise Conflict(f"port {port} is already given to app {owners[port]}")
        if port in busy:
            raise Conflict(f"port {port} is in use on host {host}")


def _ports_given(session: Session, host: str, except_app: str | None) -> dict[int, str]:
    """Port → app, of the apps on `host` and of their unfinished redeploys and edits."""
    owners: dict[int, str] = {}
    for name, ports in session.execute(select(App.name, App.host_ports).where(App.host == host)):
        if name != except_app:
            owners.update({int(port): name for port in ports or ()})
    pending = session.scalars(
        select(Job)
        .join(App, App.name == Job.app_name)
        .where(Job.state.in_(queries.UNFINISHED_STATES), Job.kind.in_(PORT_HOLDERS), App.host == host)
    )
    for job in pending:
        if job.app_name != except_app:
            held = params_of(job, PORT_HOLDERS[job.kind]).ports
            owners.update({port: job.app_name for port in held})
    return owners


def place_new_app(
    services: Services, name: str, host: str | None, subject: str, requirements: Requirements, ports: list[int]
) -> HostOffer:
    """The host a new app goes on: the one named, else the one placement chooses; refused
    when it cannot take the app, when its Docker already runs a project of that name, or when
    a port is held there. The chosen offer's `busy_ports` are the ports in use on it."""
    offers = host_offers(services, host)
    if host is None:
        chosen = choose_host(offers, subject, requirements, ports)
    else:
        chosen = named_host(offers, host)
        check_host(chosen, subject, requirements, ports)
    if chosen.name == LOCAL_HOST and services.containers.by_project(name):
        raise Conflict(f"Docker already runs a compose project named {name}")
    with services.db.read() as session:
        check_name_free(session, name)
        check_ports_free(session, ports, set(chosen.busy_ports), except_app=None, host=chosen.name)
    return chosen
