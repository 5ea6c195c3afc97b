"""The checks a request passes before anything is written: the name rule, the catalog app
and its requirements, ports (given twice, taken by an app, busy on the host) and the
refusals of APPMANAGE_REFUSE."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from appmanage.apps.preview import RenderedProject, render_project
from appmanage.catalog.model import CatalogApp
from appmanage.catalog.params import host_ports
from appmanage.catalog.requirements import unmet
from appmanage.catalog.warning_kinds import refusal_message, refused
from appmanage.enums import JobKind
from appmanage.errors import Conflict, NotFound, Unavailable, ValidationFailed
from appmanage.jobs.params import RedeployParams, params_of
from appmanage.runtime.containers import DockerUnavailable
from appmanage.runtime.host import host_resources
from appmanage.runtime.ports import listening_ports
from appmanage.services import Services
from appmanage.storage import queries
from appmanage.storage.models import App, Job

NAME_PATTERN = re.compile(r"[a-z][a-z0-9-]{1,30}")


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
    catalog_app = services.catalog.get(app.catalog_app)
    if catalog_app is None:
        raise NotFound(f"catalog app {app.catalog_app} is no longer in the catalog")
    return catalog_app


def check_requirements(services: Services, catalog_app: CatalogApp) -> None:
    host = host_resources(services.settings.data_dir)
    missing = unmet(catalog_app.requirements, host.cpu, host.memory, host.disk)
    if missing:
        raise ValidationFailed(f"{catalog_app.name} {'; '.join(missing)}")


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


def host_ports_in_use(services: Services) -> set[int]:
    try:
        published = services.containers.published_ports()
    except DockerUnavailable as exc:
        raise Unavailable(f"Docker does not answer, so nothing can be installed or changed: {exc}") from exc
    return published | listening_ports()


def check_ports_free(session: Session, ports: Iterable[int], busy: set[int], except_app: str | None) -> None:
    """Ports of other apps, and those an unfinished redeploy holds for its app, are taken."""
    owners = queries.ports_in_use_by_apps(session, except_app=except_app)
    pending = session.scalars(select(Job).where(Job.state.in_(queries.UNFINISHED_STATES), Job.kind == JobKind.REDEPLOY))
    for job in pending:
        if job.app_name != except_app:
            owners.update({port: job.app_name for port in params_of(job, RedeployParams).ports})
    for port in ports:
        if port in owners:
            raise Conflict(f"port {port} is already given to app {owners[port]}")
        if port in busy:
            raise Conflict(f"port {port} is in use on this host")
