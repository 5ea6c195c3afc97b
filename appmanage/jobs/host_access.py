"""The host-access review right before an `up`, on the app folder as it was really rendered.

This is the review that counts, and for an install without APPMANAGE_REFUSE the only one
(apps/plan.py: submission renders a staging copy only when something is refused, to
answer at once); it cannot be bypassed (a catalog changed on disk since, an API process with another `APPMANAGE_REFUSE`
than the worker's). Every warning is written to the job log; a refused kind fails the job
before compose starts anything. When `APPMANAGE_REFUSE` is set and the folder cannot be
reviewed, the job fails too: nothing runs unreviewed.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from appmanage.catalog.model import CatalogApp
from appmanage.catalog.warning_kinds import ProjectWarning, refusal_message, refused
from appmanage.catalog.warnings import project_warnings, template_warnings
from appmanage.errors import ValidationFailed
from appmanage.jobs.context import JobContext
from appmanage.runtime.compose import ComposeError

CONFIG_TIMEOUT = 60.0


def review_folder(
    ctx: JobContext, catalog_app: CatalogApp | None, folder: Path, compose_file: str
) -> list[ProjectWarning]:
    """`catalog_app` None: an operator's own compose app, which has no template to review."""
    text = ctx.services.compose.config(ctx.app_name, folder, compose_file, timeout=CONFIG_TIMEOUT)
    project = yaml.safe_load(text)
    found = project_warnings(project if isinstance(project, dict) else {}, folder)
    if catalog_app is None:
        return found
    return template_warnings(catalog_app.folder, catalog_app.skip_files) + found


def check_host_access(ctx: JobContext, catalog_app: CatalogApp | None, folder: Path, compose_file: str | None) -> None:
    refuse = ctx.services.settings.refuse
    try:
        if compose_file is None:
            raise ComposeError(f"the app folder {folder} has no compose file")
        warnings = review_folder(ctx, catalog_app, folder, compose_file)
    except (ComposeError, yaml.YAMLError) as exc:
        if refuse:
            raise ValidationFailed(f"refused by APPMANAGE_REFUSE: the host access cannot be reviewed: {exc}") from exc
        ctx.log(f"host access not reviewed: {exc}")
        return
    for warning in warnings:
        ctx.log(f"host access: {warning}")
    refusals = refused(warnings, refuse)
    if refusals:
        raise ValidationFailed(refusal_message(refusals))
