"""An app's folder and compose project as a job sees them: the App row, the rendered
folder, its compose file, the compose commands run in it and the networks it joins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appmanage.catalog.custom_project import COMPOSE_FILE as CUSTOM_COMPOSE
from appmanage.catalog.custom_project import read_files
from appmanage.catalog.native import COMPOSE_NAMES
from appmanage.catalog.render import render
from appmanage.catalog.secrets import secret_values
from appmanage.errors import NotFound, Unavailable, ValidationFailed
from appmanage.jobs.context import JobContext
from appmanage.jobs.host_access import check_host_access
from appmanage.runtime.compose import ComposeError
from appmanage.runtime.containers import DockerUnavailable
from appmanage.runtime.networks import ensure_network
from appmanage.storage.models import App

# A render swaps the app folder for a new one, so every container is recreated to see the
# new folder: one that bind-mounts a template folder would otherwise keep the old one.
RECREATE = ("up", "-d", "--remove-orphans", "--force-recreate")


def load_app(ctx: JobContext) -> App:
    with ctx.services.db.read() as session:
        app = session.get(App, ctx.app_name)
    if app is None:
        raise NotFound(f"app {ctx.app_name} is not installed")
    if app.catalog_app is None:
        folder = app_folder(ctx)
        if (folder / CUSTOM_COMPOSE).is_file():
            ctx.hide(read_files(folder).secret_values())
    else:
        hide_secrets(ctx, app.catalog_app, app.settings)
    return app


def hide_secrets(ctx: JobContext, catalog_name: str | None, settings: dict[str, str]) -> None:
    """Secret values never reach a job log (catalog/secrets.py says which)."""
    catalog_app = None if catalog_name is None else ctx.services.catalog.get(catalog_name)
    ctx.hide(secret_values(catalog_app, settings))


def save(ctx: JobContext, **changes: Any) -> None:
    with ctx.services.db.write() as session:
        app = session.get(App, ctx.app_name)
        if app is not None:
            for key, value in changes.items():
                setattr(app, key, value)


def app_folder(ctx: JobContext) -> Path:
    return ctx.services.settings.app_dir(ctx.app_name)


def compose_file(folder: Path) -> str | None:
    return next((name for name in COMPOSE_NAMES if (folder / name).is_file()), None)


def compose(ctx: JobContext, *args: str, check: bool = True) -> None:
    folder = app_folder(ctx)
    file_name = compose_file(folder)
    if file_name is None:
        raise ComposeError(f"the app folder {folder} has no compose file: redeploy the app")
    ctx.services.compose.run(
        ctx.app_name,
        folder,
        file_name,
        *args,
        on_line=ctx.log,
        should_cancel=ctx.should_cancel,
        check=check,
    )


def render_folder(ctx: JobContext, app: App, version: str, settings: dict[str, str]) -> None:
    catalog_app = ctx.catalog_app(catalog_name(app))
    render(catalog_app, app_folder(ctx), ctx.app_name, version, settings)


def review_host_access(ctx: JobContext, app: App) -> None:
    """The rendered folder's host access, reviewed right before each `up` (jobs/host_access.py)."""
    folder = app_folder(ctx)
    catalog_app = None if app.catalog_app is None else ctx.catalog_app(app.catalog_app)
    check_host_access(ctx, catalog_app, folder, compose_file(folder))


def create_networks(ctx: JobContext, app: App, settings: dict[str, str]) -> None:
    """The external networks the app joins, created when missing; never removed by us.
    A custom app's compose file names its own, which must exist."""
    if app.catalog_app is None:
        return
    for key in ctx.catalog_app(app.catalog_app).network_keys:
        network = settings.get(key)
        if not network:
            continue
        try:
            if ensure_network(ctx.services.containers.api, network):
                ctx.log(f"created the network {network}")
        except DockerUnavailable as exc:
            raise Unavailable(str(exc)) from exc


def catalog_name(app: App) -> str:
    """The app's catalog app; a custom app has none, and what needs one refuses it."""
    if app.catalog_app is None:
        raise ValidationFailed(f"{app.name} is a custom compose app: it has no catalog app", field="name")
    return app.catalog_app


def clean_up(ctx: JobContext) -> None:
    ctx.step("remove what was started", 0.9)
    folder = app_folder(ctx)
    file_name = compose_file(folder)
    if file_name is not None:
        ctx.services.compose.run(
            ctx.app_name, folder, file_name, "down", "--remove-orphans", on_line=ctx.log, check=False
        )
