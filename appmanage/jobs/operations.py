"""The operations a job runs against an app's compose project, one function per JobKind.

Each raises on failure and leaves the app as it found it, or as close as Docker allows:
a failed install removes what it started, a failed update or redeploy brings the
previous rendered files back up.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appmanage.catalog.folder_swap import remove_folder
from appmanage.catalog.native import COMPOSE_NAMES
from appmanage.catalog.params import host_ports
from appmanage.catalog.render import render
from appmanage.enums import JobKind
from appmanage.errors import NotFound, Unavailable, ValidationFailed
from appmanage.jobs.context import JobContext, disarm_job_timeout, failure_text
from appmanage.jobs.host_access import check_host_access
from appmanage.runtime.compose import ComposeCanceled, ComposeError
from appmanage.runtime.containers import DockerUnavailable
from appmanage.runtime.networks import ensure_network
from appmanage.storage.models import App

Operation = Callable[[JobContext], None]
# A render swaps the app folder for a new one, so every container is recreated to see the
# new folder: one that bind-mounts a template folder would otherwise keep the old one.
RECREATE = ("up", "-d", "--remove-orphans", "--force-recreate")


def _app(ctx: JobContext) -> App:
    with ctx.services.db.read() as session:
        app = session.get(App, ctx.app_name)
    if app is None:
        raise NotFound(f"app {ctx.app_name} is not installed")
    _hide_secrets(ctx, app.catalog_app, app.settings)
    return app


def _hide_secrets(ctx: JobContext, catalog_name: str, settings: dict[str, str]) -> None:
    """Secret values never reach a job log; unknown parameters count as secret."""
    catalog_app = ctx.services.catalog.get(catalog_name)
    for key, value in settings.items():
        param = catalog_app.parameter(key) if catalog_app else None
        if param is None or param.secret:
            ctx.hide([str(value)])


def _save(ctx: JobContext, **changes: Any) -> None:
    with ctx.services.db.write() as session:
        app = session.get(App, ctx.app_name)
        if app is not None:
            for key, value in changes.items():
                setattr(app, key, value)


def _folder(ctx: JobContext) -> Path:
    return ctx.services.settings.app_dir(ctx.app_name)


def _compose_file(folder: Path) -> str | None:
    return next((name for name in COMPOSE_NAMES if (folder / name).is_file()), None)


def _compose(ctx: JobContext, *args: str, check: bool = True) -> None:
    folder = _folder(ctx)
    compose_file = _compose_file(folder)
    if compose_file is None:
        raise ComposeError(f"the app folder {folder} has no compose file: redeploy the app")
    ctx.services.compose.run(
        ctx.app_name,
        folder,
        compose_file,
        *args,
        on_line=ctx.log,
        should_cancel=ctx.should_cancel,
        check=check,
    )


def _render(ctx: JobContext, app: App, version: str, settings: dict[str, str]) -> None:
    catalog_app = ctx.catalog_app(app.catalog_app)
    render(catalog_app, _folder(ctx), ctx.app_name, version, settings)


def _check_host_access(ctx: JobContext, app: App) -> None:
    """The rendered folder's host access, reviewed right before each `up` (jobs/host_access.py)."""
    folder = _folder(ctx)
    check_host_access(ctx, ctx.catalog_app(app.catalog_app), folder, _compose_file(folder))


def _create_networks(ctx: JobContext, app: App, settings: dict[str, str]) -> None:
    """The external networks the app joins, created when missing; never removed by us."""
    for key in ctx.catalog_app(app.catalog_app).network_keys:
        network = settings.get(key)
        if not network:
            continue
        try:
            if ensure_network(ctx.services.containers.api, network):
                ctx.log(f"created the network {network}")
        except DockerUnavailable as exc:
            raise Unavailable(str(exc)) from exc


def _clean_up(ctx: JobContext) -> None:
    ctx.step("remove what was started", 0.9)
    folder = _folder(ctx)
    compose_file = _compose_file(folder)
    if compose_file is not None:
        ctx.services.compose.run(
            ctx.app_name, folder, compose_file, "down", "--remove-orphans", on_line=ctx.log, check=False
        )


def install(ctx: JobContext) -> None:
    app = _app(ctx)
    ctx.step("render the app folder", 0.1)
    _render(ctx, app, app.version, app.settings)
    _check_host_access(ctx, app)
    _create_networks(ctx, app, app.settings)
    ctx.check_canceled()
    ctx.step("docker compose up", 0.3)
    try:
        _compose(ctx, "up", "-d", "--remove-orphans")
    except BaseException:  # any way out, RQ's timeout included: nothing half-installed stays
        disarm_job_timeout()
        with contextlib.suppress(Exception):
            _clean_up(ctx)
        raise
    _save(ctx, installed=True, desired_running=True)


def uninstall(ctx: JobContext) -> None:
    _app(ctx)
    purge = bool(ctx.params.get("purge"))
    folder = _folder(ctx)
    ctx.step("docker compose down", 0.2)
    args = ["down", "--remove-orphans", *(["--volumes"] if purge else [])]
    if _compose_file(folder) is not None:
        _compose(ctx, *args)
    else:
        ctx.services.compose.run_project(ctx.app_name, *args, on_line=ctx.log, should_cancel=ctx.should_cancel)
    if purge and folder.exists():
        ctx.step("remove the app folder", 0.8)
        remove_folder(folder)
    ctx.step("forget the app", 0.9)
    with ctx.services.db.write() as session:
        app = session.get(App, ctx.app_name)
        if app is not None:
            session.delete(app)


def start(ctx: JobContext) -> None:
    _app(ctx)
    ctx.step("docker compose start", 0.3)
    _save(ctx, desired_running=True)
    _compose(ctx, "start")


def stop(ctx: JobContext) -> None:
    _app(ctx)
    ctx.step("docker compose stop", 0.3)
    _save(ctx, desired_running=False)
    _compose(ctx, "stop")


def restart(ctx: JobContext) -> None:
    _app(ctx)
    ctx.step("docker compose restart", 0.3)
    _save(ctx, desired_running=True)
    _compose(ctx, "restart")


def redeploy(ctx: JobContext) -> None:
    app = _app(ctx)
    settings = dict(ctx.params.get("settings") or app.settings)
    _hide_secrets(ctx, app.catalog_app, settings)
    _switch(ctx, app, app.version, settings)


def update(ctx: JobContext) -> None:
    app = _app(ctx)
    _switch(ctx, app, str(ctx.params["version"]), app.settings)


def _switch(ctx: JobContext, app: App, version: str, settings: dict[str, str]) -> None:
    """Move the app to (version, settings); on failure, back to what it ran before."""
    old_version, old_settings = app.version, dict(app.settings)
    ctx.step(f"make sure the images of version {version} are present", 0.1)
    _prepare_images(ctx, app, version, settings)
    ctx.check_canceled()
    _create_networks(ctx, app, settings)
    ctx.step(f"render version {version}", 0.4)
    try:
        _render(ctx, app, version, settings)
        _check_host_access(ctx, app)
        ctx.step("docker compose up", 0.5)
        _compose(ctx, *RECREATE)
        catalog_app = ctx.catalog_app(app.catalog_app)
        _save(
            ctx,
            version=version,
            settings=settings,
            host_ports=host_ports(catalog_app, settings),
            installed=True,
            desired_running=True,
        )
    except BaseException as exc:  # any way out, RQ's timeout and "database is locked" included
        cause = ctx.mask(failure_text(exc))
        outcome = _roll_back(ctx, app, old_version, old_settings, cause)
        if isinstance(exc, ComposeCanceled) or not isinstance(exc, Exception):
            raise
        raise ComposeError(f"{cause}; {outcome}") from exc


def _roll_back(ctx: JobContext, app: App, old_version: str, old_settings: dict[str, str], cause: str) -> str:
    """Bring back the previous version's files and containers; what came of it, for the error.
    It runs to its end (bounded by the compose timeout), whatever failed before it."""
    disarm_job_timeout()
    ctx.log_quietly(f"failed: {cause}")
    try:
        with contextlib.suppress(Exception):
            ctx.step(f"roll back to version {old_version}", 0.8)
        _render(ctx, app, old_version, old_settings)
        folder = _folder(ctx)
        ctx.services.compose.run(ctx.app_name, folder, _compose_file(folder) or "", *RECREATE, on_line=ctx.log_quietly)
    except Exception as exc:
        outcome = f"rolling back to {old_version} failed too: {ctx.mask(str(exc))}"
    else:
        outcome = f"rolled back to {old_version}"
    ctx.log_quietly(outcome)
    return outcome


def _prepare_images(ctx: JobContext, app: App, version: str, settings: dict[str, str]) -> None:
    """Review the host access of the new version and pull or build what it needs, in a
    staging folder, before touching the app: a refusal leaves its containers as they were."""
    staging = ctx.services.settings.apps_dir / f".staging-{ctx.app_name}-{ctx.job.id}"
    try:
        catalog_app = ctx.catalog_app(app.catalog_app)
        compose_file = render(catalog_app, staging, ctx.app_name, version, settings).name
        compose = ctx.services.compose
        try:
            check_host_access(ctx, catalog_app, staging, compose_file)
            for args in (("pull", "--policy", "missing", "--ignore-buildable"), ("build",)):
                compose.run(
                    ctx.app_name, staging, compose_file, *args, on_line=ctx.log, should_cancel=ctx.should_cancel
                )
        except ComposeCanceled:
            raise
        except (ComposeError, ValidationFailed) as exc:
            ctx.log(f"rolled back to {app.version}: the running app was not touched")
            raise type(exc)(f"{exc}; rolled back to {app.version}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


OPERATIONS: dict[JobKind, Operation] = {
    JobKind.INSTALL: install,
    JobKind.UNINSTALL: uninstall,
    JobKind.START: start,
    JobKind.STOP: stop,
    JobKind.RESTART: restart,
    JobKind.REDEPLOY: redeploy,
    JobKind.UPDATE: update,
}
