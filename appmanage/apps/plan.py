"""The install plan: everything installApp checks, with nothing written. previewInstall
answers with it; submission writes it.

The render through `docker compose config` is left out of the submission's checks
(`check_install`) unless APPMANAGE_REFUSE is set: the review that counts is the worker's,
on the folder it really renders, before every `up` (jobs/host_access.py), and running
compose config a second time for one install cost ~60 ms before the job even existed.
So without refusals an install whose templates do not render to valid compose is
accepted and its job fails with compose's message; with refusals the submission renders
and reviews too, so a refused kind is answered at once; a preview always renders.

The host is the one asked for, or the one placement chooses (`apps/placement.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from appmanage.apps.preview import RenderedProject, render_project
from appmanage.apps.reinstall import settings_over_kept_data
from appmanage.apps.validation import (
    check_name,
    check_name_free,
    check_refusals,
    checked_ports,
    place_new_app,
)
from appmanage.catalog.model import CatalogApp
from appmanage.catalog.params import resolve_settings
from appmanage.errors import NotFound
from appmanage.services import Services


@dataclass(frozen=True)
class InstallChecks:
    """An install that passed every check that needs no render."""

    catalog_app: CatalogApp
    name: str
    version: str
    settings: dict[str, str]
    ports: list[int]
    busy: set[int]
    host: str


@dataclass(frozen=True)
class InstallPlan(InstallChecks):
    """An install that passed every check, with its rendered project."""

    project: RenderedProject


def validate_install(
    services: Services,
    catalog_name: str,
    name: str,
    version: str | None,
    given: Mapping[str, str],
    host: str | None = None,
) -> InstallPlan:
    """Every check, the render and its host-access review included (previewInstall)."""
    checks = _checks(services, catalog_name, name, version, given, host)
    project = render_project(services, checks.catalog_app, name, checks.version, checks.settings)
    check_refusals(services, project)
    return InstallPlan(**vars(checks), project=project)


def check_install(
    services: Services,
    catalog_name: str,
    name: str,
    version: str | None,
    given: Mapping[str, str],
    host: str | None = None,
) -> InstallChecks:
    """The checks installApp answers from before its job exists; with APPMANAGE_REFUSE set,
    the render and its review too (see the module's docstring)."""
    if services.settings.refuse:
        return validate_install(services, catalog_name, name, version, given, host)
    return _checks(services, catalog_name, name, version, given, host)


def _checks(
    services: Services,
    catalog_name: str,
    name: str,
    version: str | None,
    given: Mapping[str, str],
    host: str | None,
) -> InstallChecks:
    check_name(name)
    catalog_app = services.catalog.get(catalog_name)
    if catalog_app is None:
        raise NotFound(f"the catalog has no app {catalog_name}")
    version = version or catalog_app.default_version
    if version not in catalog_app.versions:
        raise NotFound(f"{catalog_name} has no version {version} (versions: {', '.join(catalog_app.versions)})")
    with services.db.read() as session:
        check_name_free(session, name)
    given = settings_over_kept_data(services, catalog_app, name, given)
    settings = resolve_settings(catalog_app, given, host=services.settings.public_host)
    ports = checked_ports(catalog_app, settings)
    chosen = place_new_app(services, name, host, catalog_app.name, catalog_app.requirements, ports)
    return InstallChecks(catalog_app, name, version, settings, ports, set(chosen.busy_ports), chosen.name)
