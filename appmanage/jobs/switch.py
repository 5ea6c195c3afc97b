"""Moving an installed app to another version or other settings (update, redeploy), and
back to what it ran before when anything fails on the way."""

from __future__ import annotations

import contextlib
import shutil

from appmanage.catalog.params import host_ports
from appmanage.catalog.render import render
from appmanage.errors import ValidationFailed
from appmanage.jobs.context import JobContext, disarm_job_timeout, failure_text
from appmanage.jobs.host_access import check_host_access
from appmanage.jobs.project import (
    RECREATE,
    app_folder,
    catalog_name,
    compose,
    compose_file,
    create_networks,
    render_folder,
    review_host_access,
    save,
)
from appmanage.runtime.compose import ComposeCanceled, ComposeError
from appmanage.storage.models import App


def switch(ctx: JobContext, app: App, version: str, settings: dict[str, str]) -> None:
    """Move the app to (version, settings); on failure, back to what it ran before."""
    old_version, old_settings = app.version, dict(app.settings)
    ctx.step(f"make sure the images of version {version} are present", 0.1)
    prepare_images(ctx, app, version, settings)
    ctx.check_canceled()
    create_networks(ctx, app, settings)
    ctx.step(f"render version {version}", 0.4)
    try:
        render_folder(ctx, app, version, settings)
        review_host_access(ctx, app)
        ctx.step("docker compose up", 0.5)
        compose(ctx, *RECREATE)
        catalog_app = ctx.catalog_app(catalog_name(app))
        save(
            ctx,
            version=version,
            settings=settings,
            host_ports=host_ports(catalog_app, settings),
            installed=True,
            desired_running=True,
        )
    except BaseException as exc:  # any way out, RQ's timeout and "database is locked" included
        cause = ctx.mask(failure_text(exc))
        outcome = roll_back(ctx, app, old_version, old_settings, cause)
        if isinstance(exc, ComposeCanceled) or not isinstance(exc, Exception):
            raise
        raise ComposeError(f"{cause}; {outcome}") from exc


def roll_back(ctx: JobContext, app: App, old_version: str, old_settings: dict[str, str], cause: str) -> str:
    """Bring back the previous version's files and containers; what came of it, for the error.
    It runs to its end (bounded by the compose timeout), whatever failed before it."""
    disarm_job_timeout()
    ctx.log_quietly(f"failed: {cause}")
    try:
        with contextlib.suppress(Exception):
            ctx.step(f"roll back to version {old_version}", 0.8)
        render_folder(ctx, app, old_version, old_settings)
        folder = app_folder(ctx)
        ctx.services.compose.run(ctx.app_name, folder, compose_file(folder) or "", *RECREATE, on_line=ctx.log_quietly)
    except Exception as exc:
        outcome = f"rolling back to {old_version} failed too: {ctx.mask(str(exc))}"
    else:
        outcome = f"rolled back to {old_version}"
    ctx.log_quietly(outcome)
    return outcome


def prepare_images(ctx: JobContext, app: App, version: str, settings: dict[str, str]) -> None:
    """Review the host access of the new version and pull or build what it needs, in a
    staging folder, before touching the app: a refusal leaves its containers as they were."""
    staging = ctx.services.settings.apps_dir / f".staging-{ctx.app_name}-{ctx.job.id}"
    try:
        catalog_app = ctx.catalog_app(catalog_name(app))
        staged_file = render(catalog_app, staging, ctx.app_name, version, settings).name
        runner = ctx.services.compose
        try:
            check_host_access(ctx, catalog_app, staging, staged_file)
            for args in (("pull", "--policy", "missing", "--ignore-buildable"), ("build",)):
                runner.run(ctx.app_name, staging, staged_file, *args, on_line=ctx.log, should_cancel=ctx.should_cancel)
        except ComposeCanceled:
            raise
        except (ComposeError, ValidationFailed) as exc:
            ctx.log(f"rolled back to {app.version}: the running app was not touched")
            raise type(exc)(f"{exc}; rolled back to {app.version}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
