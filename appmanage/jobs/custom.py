"""The worker side of an operator's own compose app: its folder written from the job's
files (the operator's, byte for byte, and AppManage's override, with a clone's port map
from its row: catalog/custom_ports.py), an edit that recreates the project and puts the
previous files back when anything fails (an edit's new files publish their own ports: the
map is dropped), and a redeploy that recreates it from the files it keeps."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from appmanage.catalog.custom_ports import port_map_of, with_port_map
from appmanage.catalog.custom_project import COMPOSE_FILE, CustomFiles, read_files, write_folder
from appmanage.jobs.context import JobContext, disarm_job_timeout, failure_text
from appmanage.jobs.host_access import CONFIG_TIMEOUT
from appmanage.jobs.params import EditParams, InstallParams, params_of
from appmanage.jobs.project import RECREATE, app_folder, compose, load_app, review_host_access, save
from appmanage.runtime.compose import ComposeCanceled, ComposeError
from appmanage.storage.models import App


def write_custom_folder(ctx: JobContext, files: CustomFiles, ports: Mapping[int, int] | None = None) -> None:
    """The app folder holds `files` and the override that labels each of their services
    (and publishes the port map `ports`)."""
    ctx.hide(files.secret_values())

    def read_project(folder: Path) -> dict[str, Any]:
        text = ctx.services.compose.config(ctx.app_name, folder, COMPOSE_FILE, timeout=CONFIG_TIMEOUT)
        project = yaml.safe_load(text)
        return project if isinstance(project, dict) else {}

    write_folder(app_folder(ctx), ctx.app_name, files, read_project, ports)


def keep_restored_files(ctx: JobContext, relabel: bool = False) -> None:
    """A custom app's folder as a restore left it: its row keeps the files, and with
    `relabel` (a clone) its override is written anew for this app and its row's port map."""
    files = read_files(app_folder(ctx))
    if relabel:
        write_custom_folder(ctx, files, port_map_of(load_app(ctx).settings))
    save(ctx, version=files.version, compose_file=files.compose, env_file=files.env)


def install_files(ctx: JobContext) -> CustomFiles:
    """The files a custom app's install job was given."""
    params = params_of(ctx.job, InstallParams)
    if params.compose is None:
        raise ComposeError(f"the install job of {ctx.app_name} holds no compose file")
    return CustomFiles(params.compose, params.env)


def edit(ctx: JobContext) -> None:
    app = load_custom(ctx)
    params = params_of(ctx.job, EditParams)
    new = CustomFiles(params.compose, params.env)
    ctx.hide(new.secret_values())
    previous = read_files(app_folder(ctx))
    previous_ports = port_map_of(app.settings)
    ctx.step("write the new compose files", 0.2)
    try:
        write_custom_folder(ctx, new)
        review_host_access(ctx, app)
        ctx.check_canceled()
        ctx.step("docker compose up", 0.4)
        compose(ctx, *RECREATE)
        save(
            ctx,
            version=new.version,
            host_ports=params.ports,
            settings=with_port_map(app.settings, {}),
            installed=True,
            desired_running=True,
            compose_file=new.compose,
            env_file=new.env,
        )
    except BaseException as exc:  # any way out, RQ's timeout included: the previous files come back
        cause = ctx.mask(failure_text(exc))
        outcome = roll_back(ctx, previous, previous_ports, cause)
        if isinstance(exc, ComposeCanceled) or not isinstance(exc, Exception):
            raise
        raise ComposeError(f"{cause}; {outcome}") from exc


def roll_back(ctx: JobContext, previous: CustomFiles, ports: Mapping[int, int], cause: str) -> str:
    """The previous files (and port map) back, byte for byte, and up again; what came of it, for the error."""
    disarm_job_timeout()
    ctx.log_quietly(f"failed: {cause}")
    try:
        with contextlib.suppress(Exception):
            ctx.step("roll back to the previous compose files", 0.8)
        write_custom_folder(ctx, previous, ports)
        folder = app_folder(ctx)
        ctx.services.compose.run(ctx.app_name, folder, COMPOSE_FILE, *RECREATE, on_line=ctx.log_quietly)
    except Exception as exc:
        outcome = f"rolling back to the previous compose files failed too: {ctx.mask(str(exc))}"
    else:
        outcome = "rolled back to the previous compose files"
    ctx.log_quietly(outcome)
    return outcome


def redeploy(ctx: JobContext, app: App) -> None:
    """Recreated from the files it keeps, reviewed again first."""
    ctx.step("review the compose files", 0.2)
    review_host_access(ctx, app)
    ctx.step("docker compose up", 0.4)
    compose(ctx, *RECREATE)
    save(ctx, installed=True, desired_running=True)


def load_custom(ctx: JobContext) -> App:
    app = load_app(ctx)
    if app.catalog_app is not None:
        raise ComposeError(f"{app.name} is the catalog app {app.catalog_app}, not a custom compose app")
    return app
