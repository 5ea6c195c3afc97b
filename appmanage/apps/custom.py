"""The checks of an operator's own compose app, before anything is written: its files
through `docker compose config` in a staging folder (removed at once), the host ports the
project publishes, its host-access review and `APPMANAGE_REFUSE`, the name rule and
placement, the same as for a catalog app. previewInstall answers with the plan; installApp
and editApp write it.

A custom app always renders at submission, unlike a catalog app (apps/plan.py): its host
ports are known only from the rendered project."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from appmanage.apps.preview import CONFIG_TIMEOUT, RenderedProject
from appmanage.apps.validation import check_name, check_name_free, check_refusals, place_new_app
from appmanage.catalog.custom_project import COMPOSE_FILE, CustomFiles, published_ports, write_files
from appmanage.catalog.model import Requirements
from appmanage.catalog.warnings import project_warnings
from appmanage.errors import Unavailable, ValidationFailed
from appmanage.jobs.masking import SecretMask
from appmanage.jobs.params import RedeployParams
from appmanage.runtime.compose import ComposeError
from appmanage.services import Services

NO_REQUIREMENTS = Requirements()


@dataclass(frozen=True)
class StagedProject:
    """The operator's files as compose reads them."""

    project: RenderedProject
    ports: list[int]


@dataclass(frozen=True)
class CustomPlan:
    """An install of the operator's own files that passed every check."""

    name: str
    files: CustomFiles
    ports: list[int]
    busy: set[int]
    host: str
    project: RenderedProject


def check_source(
    catalog_app: str | None, compose: str | None, env: str | None, version: str | None, settings: bool
) -> None:
    """An install names a catalog app (with its version and settings) or brings a compose
    file (with its `.env`): exactly one of them."""
    if catalog_app is None and compose is None:
        raise ValidationFailed("give a catalog app (catalogApp) or your own compose file (compose)", field="catalogApp")
    if catalog_app is not None and compose is not None:
        raise ValidationFailed(
            "give either a catalog app (catalogApp) or your own compose file (compose), not both", field="compose"
        )
    if catalog_app is not None and env is not None:
        raise ValidationFailed("env is the .env of your own compose file; a catalog app takes settings", field="env")
    if compose is not None and version is not None:
        raise ValidationFailed("version is a catalog app's; your own compose file has none", field="version")
    if compose is not None and settings:
        raise ValidationFailed("settings are a catalog app's; put your variables in env (.env text)", field="settings")


def validate_custom_install(services: Services, name: str, files: CustomFiles, host: str | None) -> CustomPlan:
    check_name(name)
    with services.db.read() as session:
        check_name_free(session, name)
    staged = stage(services, name, files)
    chosen = place_new_app(services, name, host, f"the compose file of {name}", NO_REQUIREMENTS, staged.ports)
    check_refusals(services, staged.project)
    return CustomPlan(name, files, staged.ports, set(chosen.busy_ports), chosen.name, staged.project)


def stage(services: Services, name: str, files: CustomFiles) -> StagedProject:
    """`files` through `docker compose config` in a staging folder: the project masked, its
    host-access warnings, the host ports it publishes (each once)."""
    files.check()
    try:
        services.compose.command  # noqa: B018 - raises when no compose is installed
    except ComposeError as exc:
        raise Unavailable(str(exc)) from exc
    staging = services.settings.apps_dir / f".preview-{name}-{secrets.token_hex(4)}"
    hidden = SecretMask()
    hidden.add(files.secret_values())
    app_folder = str(services.settings.app_dir(name))
    try:
        write_files(staging, files)
        try:
            text = services.compose.config(name, staging, COMPOSE_FILE, timeout=CONFIG_TIMEOUT)
        except ComposeError as exc:
            message = hidden(_moved(str(exc), staging, app_folder))
            raise ValidationFailed(f"the compose file is not valid compose: {message}", field="compose") from exc
        loaded: Any = yaml.safe_load(text)
        project = loaded if isinstance(loaded, dict) else {}
        found = project_warnings(project, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    ports = published_ports(project)
    for port in ports:
        if ports.count(port) > 1:
            raise ValidationFailed(f"the compose file publishes host port {port} twice", field="compose")
    warnings = [replace(w, detail=hidden(_moved(w.detail, staging, app_folder))) for w in found]
    rendered = RenderedProject(compose=hidden(_moved(text, staging, app_folder)), warnings=warnings)
    return StagedProject(rendered, sorted(ports))


def _moved(text: str, staging: Path, app_folder: str) -> str:
    """Paths of the staging folder as they will be in the app folder."""
    return text.replace(str(staging.resolve()), app_folder).replace(str(staging), app_folder)


def custom_redeploy(name: str, given: Mapping[str, str]) -> tuple[RedeployParams, list[int]]:
    """A custom app is recreated from its kept files; it has no settings to change."""
    if given:
        raise ValidationFailed(
            f"{name} is your own compose app: it has no settings; change its compose file or .env with editApp",
            field="settings",
        )
    return RedeployParams(), []
