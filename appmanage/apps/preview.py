"""An install rendered for a look: into a staging folder that is removed at once, then
through `docker compose config`, as the app folder would be; with its host-access review."""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from appmanage.catalog.model import CatalogApp
from appmanage.catalog.render import render
from appmanage.catalog.secrets import MASK, secret_values
from appmanage.catalog.warnings import ProjectWarning, project_warnings, template_warnings
from appmanage.errors import Unavailable, ValidationFailed
from appmanage.jobs.masking import SecretMask
from appmanage.runtime.compose import ComposeError
from appmanage.services import Services

CONFIG_TIMEOUT = 60.0
PLAIN_MASK = re.compile(rf"(?m)^(\s*(?:-|[^\s:][^:]*:) )({re.escape(MASK)}[^\s'\"]*)$")


@dataclass(frozen=True)
class RenderedProject:
    compose: str
    """As `docker compose config` prints it, with the app folder's paths and secrets masked."""
    warnings: list[ProjectWarning]


def render_project(
    services: Services, app: CatalogApp, name: str, version: str, settings: Mapping[str, str]
) -> RenderedProject:
    compose = services.compose
    try:
        compose.command  # noqa: B018 - raises when no compose is installed
    except ComposeError as exc:
        raise Unavailable(str(exc)) from exc
    staging = services.settings.apps_dir / f".preview-{name}-{secrets.token_hex(4)}"
    hidden = SecretMask()
    hidden.add(secret_values(app, settings))
    app_folder = str(services.settings.app_dir(name))
    try:
        compose_file = render(app, staging, name, version, settings).name
        try:
            text = compose.config(name, staging, compose_file, timeout=CONFIG_TIMEOUT)
        except ComposeError as exc:
            message = _mask(str(exc).replace(str(staging), "<app folder>"), hidden)
            raise ValidationFailed(f"{app.name} {version} does not render to valid compose: {message}") from exc
        project: Any = yaml.safe_load(text)
        found = project_warnings(project if isinstance(project, dict) else {}, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    warnings = template_warnings(app.folder, app.skip_files) + [
        replace(w, detail=_mask(_moved(w.detail, staging, app_folder), hidden)) for w in found
    ]
    return RenderedProject(compose=_mask(_moved(text, staging, app_folder), hidden), warnings=warnings)


def _moved(text: str, staging: Path, app_folder: str) -> str:
    """Paths of the staging folder as they will be in the app folder."""
    return text.replace(str(staging.resolve()), app_folder).replace(str(staging), app_folder)


def _mask(text: str, hidden: SecretMask) -> str:
    """Secret values become the mask, quoted where YAML would read it as an alias."""
    return PLAIN_MASK.sub(r"\1'\2'", hidden(text))
