"""The operations a job runs against an app's compose project, one function per JobKind.

Each raises on failure and leaves the app as it found it, or as close as Docker allows:
a failed install removes what it started, a failed update or redeploy brings the
previous rendered files back up. The app's folder and compose project are in
jobs/project.py, the move to another version or other settings in jobs/switch.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from appmanage.catalog.folder_swap import remove_folder
from appmanage.enums import JobKind
from appmanage.jobs import backup, custom, restore
from appmanage.jobs.context import JobContext, disarm_job_timeout
from appmanage.jobs.params import RedeployParams, UninstallParams, UpdateParams, params_of
from appmanage.jobs.project import (
    app_folder,
    clean_up,
    compose,
    compose_file,
    create_networks,
    hide_secrets,
    load_app,
    render_folder,
    review_host_access,
    save,
)
from appmanage.jobs.switch import switch
from appmanage.schedules.rows import forget_schedules
from appmanage.storage.models import App

Operation = Callable[[JobContext], None]


def install(ctx: JobContext) -> None:
    app = load_app(ctx)
    ctx.step("render the app folder", 0.1)
    if app.catalog_app is None:
        custom.write_custom_folder(ctx, custom.install_files(ctx))
    else:
        render_folder(ctx, app, app.version, app.settings)
    review_host_access(ctx, app)
    create_networks(ctx, app, app.settings)
    ctx.check_canceled()
    ctx.step("docker compose up", 0.3)
    try:
        compose(ctx, "up", "-d", "--remove-orphans")
    except BaseException:  # any way out, RQ's timeout included: nothing half-installed stays
        disarm_job_timeout()
        with contextlib.suppress(Exception):
            clean_up(ctx)
        raise
    save(ctx, installed=True, desired_running=True)


def uninstall(ctx: JobContext) -> None:
    load_app(ctx)
    purge = params_of(ctx.job, UninstallParams).purge
    folder = app_folder(ctx)
    ctx.step("docker compose down", 0.2)
    args = ["down", "--remove-orphans", *(["--volumes"] if purge else [])]
    if compose_file(folder) is not None:
        compose(ctx, *args)
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
        forget_schedules(session, ctx.app_name)
        backup.forget_retention(session, ctx.app_name)


def start(ctx: JobContext) -> None:
    load_app(ctx)
    backup.unpause_paused(ctx)
    ctx.step("docker compose start", 0.3)
    save(ctx, desired_running=True)
    compose(ctx, "start")


def stop(ctx: JobContext) -> None:
    load_app(ctx)
    ctx.step("docker compose stop", 0.3)
    save(ctx, desired_running=False)
    compose(ctx, "stop")


def restart(ctx: JobContext) -> None:
    load_app(ctx)
    ctx.step("docker compose restart", 0.3)
    save(ctx, desired_running=True)
    compose(ctx, "restart")


def redeploy(ctx: JobContext) -> None:
    app = load_app(ctx)
    if app.catalog_app is None:
        return custom.redeploy(ctx, app)
    settings = dict(params_of(ctx.job, RedeployParams).settings or app.settings)
    hide_secrets(ctx, app.catalog_app, settings)
    switch(ctx, app, app.version, settings)


def update(ctx: JobContext) -> None:
    app = load_app(ctx)
    switch(ctx, app, params_of(ctx.job, UpdateParams).version, app.settings)


OPERATIONS: dict[JobKind, Operation] = {
    JobKind.INSTALL: install,
    JobKind.UNINSTALL: uninstall,
    JobKind.START: start,
    JobKind.STOP: stop,
    JobKind.RESTART: restart,
    JobKind.REDEPLOY: redeploy,
    JobKind.UPDATE: update,
    JobKind.EDIT: custom.edit,
    JobKind.BACKUP: backup.backup,
    JobKind.RESTORE: restore.restore,
    JobKind.DELETE_BACKUP: backup.delete_backup,
}
