"""The RESTORE operation: a backup put back into its app (in place) or into a new app (a clone).

First the snapshot is restored into a staging folder under the data folder: restic reads
every blob and checks its MAC, so a damaged pack or snapshot fails the job with restic's
words before the app is touched. In place, the app is then stopped, a safety snapshot
taken (tag safety=<job id>, listed among the backups), the folder and each volume's
contents replaced, the project recreated and awaited until RUNNING; when any of that
fails, the safety snapshot is put back the same way and the job fails saying so. A clone
(the job's app is not the backup's) gets the folder rendered anew for its own name and
ports (a custom app's files are copied), its volumes created by compose and filled, then
`up`; a failed clone is taken down with its volumes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from pathlib import Path

from appmanage.enums import AppStatus
from appmanage.errors import AppManageError, NotFound
from appmanage.jobs.backup import human_bytes, is_running, readable_volumes, take_snapshot
from appmanage.jobs.backup_manifest import MANIFEST_NAME, Manifest, staged
from appmanage.jobs.context import JobCanceled, JobContext, disarm_job_timeout, failure_text
from appmanage.jobs.custom import keep_restored_files
from appmanage.jobs.params import RestoreParams, params_of
from appmanage.jobs.project import (
    RECREATE,
    app_folder,
    compose,
    create_networks,
    load_app,
    render_folder,
    review_host_access,
    save,
)
from appmanage.runtime.backup_repository import open_repository
from appmanage.runtime.compose import ComposeError
from appmanage.runtime.containers import DockerUnavailable
from appmanage.runtime.project_volumes import volume_details
from appmanage.runtime.restic import Restic, ResticCanceled
from appmanage.status import StatusFacts, compute_status
from appmanage.storage.models import App, Backup

RUNNING_TIMEOUT = 60.0
WATCH_SECONDS = 0.5
SIZE_EVERY_SECONDS = 2.0


class RestoreFailed(AppManageError):
    pass


def restore(ctx: JobContext) -> None:
    params = params_of(ctx.job, RestoreParams)
    app = load_app(ctx)
    with ctx.services.db.read() as session:
        row = session.get(Backup, params.backup_id)
    if row is None:
        raise NotFound(f"no backup has the id {params.backup_id}")
    manifest = Manifest.from_json(row.manifest)
    restic = open_repository(ctx.services.settings)
    staging = ctx.services.settings.backups_dir / "staging" / ctx.job.id
    try:
        stage(ctx, restic, row.id, staging, (0.05, 0.35))
        if params.new_app:
            restore_clone(ctx, app, manifest, staging)
        else:
            restore_in_place(ctx, restic, app, manifest, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def stage(ctx: JobContext, restic: Restic, snapshot_id: str, staging: Path, span: tuple[float, float]) -> None:
    """The snapshot restored (and so verified) into `staging`; progress by the bytes written there."""
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    total = restic.restore_size(snapshot_id)
    ctx.step(f"restore snapshot {snapshot_id[:8]} ({human_bytes(total)}) into a staging folder", span[0])
    last = time.monotonic()

    def tick() -> None:
        nonlocal last
        if time.monotonic() - last >= SIZE_EVERY_SECONDS and total > 0:
            last = time.monotonic()
            done = folder_size(staging)
            fraction = min(done / total, 1.0)
            ctx.step(
                f"restore into the staging folder: {human_bytes(done)} of {human_bytes(total)}",
                span[0] + (span[1] - span[0]) * fraction,
            )

    try:
        restic.restore(snapshot_id, staging, on_line=ctx.log, should_cancel=ctx.should_cancel, tick=tick)
    except ResticCanceled as exc:
        raise JobCanceled(str(exc)) from exc


def restore_in_place(ctx: JobContext, restic: Restic, app: App, manifest: Manifest, staging: Path) -> None:
    was_running = is_running(ctx)
    volumes = readable_volumes(ctx)
    ctx.step("docker compose stop", 0.4)
    compose(ctx, "stop")
    try:
        safety = take_snapshot(ctx, restic, app, volumes, (0.45, 0.6), safety_for_job=ctx.job.id)
    except BaseException:
        if was_running:
            disarm_job_timeout()
            with contextlib.suppress(Exception):
                ctx.step("the safety snapshot failed: docker compose start", 0.9)
            compose(ctx, "start")
        raise
    try:
        put_back(ctx, manifest, staging, (0.65, 0.8))
        save(
            ctx,
            version=manifest.version,
            settings=manifest.settings,
            host_ports=manifest.host_ports,
            desired_running=True,
        )
        if app.catalog_app is None:
            keep_restored_files(ctx)
        wait_running(ctx)
    except BaseException as exc:
        disarm_job_timeout()
        cause = ctx.mask(failure_text(exc))
        ctx.log_quietly(f"the restore failed: {cause}")
        outcome = put_back_safety(ctx, restic, app, safety.id)
        if isinstance(exc, JobCanceled) or not isinstance(exc, Exception):
            raise
        raise RestoreFailed(f"{cause}; {outcome}") from exc


def put_back(ctx: JobContext, manifest: Manifest, staging: Path, span: tuple[float, float]) -> None:
    """The staged folder and volume contents in place of the app's, then the project recreated."""
    ctx.step("replace the app folder and the volumes' contents", span[0])
    replace_folder(staged(staging, manifest.folder), app_folder(ctx))
    compose(ctx, "up", "--no-start", "--remove-orphans")
    fill_volumes(ctx, manifest, staging)
    ctx.step("docker compose up", span[1])
    compose(ctx, *RECREATE)


def put_back_safety(ctx: JobContext, restic: Restic, app: App, safety_id: str) -> str:
    """The safety snapshot back in place and up; what came of it, for the error."""
    staging = ctx.services.settings.backups_dir / "staging" / f"{ctx.job.id}-safety"
    try:
        with contextlib.suppress(Exception):
            ctx.step(f"put the safety snapshot {safety_id[:8]} back", 0.85)
        stage(ctx, restic, safety_id, staging, (0.85, 0.9))
        with ctx.services.db.read() as session:
            row = session.get(Backup, safety_id)
        assert row is not None
        manifest = Manifest.from_json(row.manifest)
        put_back(ctx, manifest, staging, (0.9, 0.95))
        save(ctx, version=app.version, settings=app.settings, host_ports=app.host_ports)
        if app.catalog_app is None:
            keep_restored_files(ctx)
    except Exception as exc:
        outcome = f"putting the safety snapshot {safety_id} back failed too: {ctx.mask(str(exc))}"
    else:
        outcome = f"the safety snapshot {safety_id} was restored"
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    ctx.log_quietly(outcome)
    return outcome


def restore_clone(ctx: JobContext, app: App, manifest: Manifest, staging: Path) -> None:
    """Into the new app of the job (its row written by the API with its own ports)."""
    folder = app_folder(ctx)
    try:
        ctx.step(f"make the folder of {app.name}", 0.4)
        if app.catalog_app is not None and ctx.services.catalog.get(app.catalog_app) is not None:
            render_folder(ctx, app, app.version, app.settings)
            review_host_access(ctx, app)
            create_networks(ctx, app, app.settings)
        else:
            replace_folder(staged(staging, manifest.folder), folder)
            if app.catalog_app is None:
                keep_restored_files(ctx, relabel=True)
                review_host_access(ctx, app)
        (folder / MANIFEST_NAME).unlink(missing_ok=True)
        ctx.step("docker compose up --no-start: the volumes", 0.5)
        compose(ctx, "up", "--no-start", "--remove-orphans")
        ctx.step("fill the volumes", 0.6)
        fill_volumes(ctx, manifest, staging)
        ctx.step("docker compose up", 0.8)
        compose(ctx, "up", "-d", "--remove-orphans")
        wait_running(ctx)
    except BaseException:
        disarm_job_timeout()
        with contextlib.suppress(Exception):
            ctx.step("remove what was started", 0.95)
        if folder.exists():
            with contextlib.suppress(Exception):
                compose(ctx, "down", "--volumes", "--remove-orphans", check=False)
        raise
    save(ctx, installed=True, desired_running=True)


def fill_volumes(ctx: JobContext, manifest: Manifest, staging: Path) -> None:
    """Each volume of the backup, by its compose key, into the project's volume of that key."""
    try:
        current = {v.key: v for v in volume_details(ctx.services.containers.api, ctx.app_name)}
    except DockerUnavailable as exc:
        raise ComposeError(f"Docker does not answer: {exc}") from exc
    for copy in manifest.volumes:
        volume = current.get(copy.key)
        if volume is None or not volume.readable_here:
            raise ComposeError(f"the volume {copy.key} of the backup has no local volume in {ctx.app_name} to go to")
        replace_contents(staged(staging, copy.path), volume.mountpoint)
        ctx.log(f"volume {volume.name}: restored from {copy.name}")


def wait_running(ctx: JobContext, timeout: float = RUNNING_TIMEOUT) -> None:
    ctx.step("wait until the app is RUNNING", 0.97)
    deadline = time.monotonic() + timeout
    reason: str | None = "no answer from Docker"
    while True:
        try:
            containers = ctx.services.containers.by_project(ctx.app_name).get(ctx.app_name, [])
        except DockerUnavailable as exc:
            reason = str(exc)
        else:
            states = [c.as_state() for c in containers]
            status = compute_status(StatusFacts(True, True, None, None, states, True))
            if status.status is AppStatus.RUNNING:
                return
            reason = f"{status.status.value}: {status.reason}"
        ctx.check_canceled()
        if time.monotonic() > deadline:
            raise ComposeError(f"{ctx.app_name} did not reach RUNNING within {timeout:.0f} s ({reason})")
        time.sleep(WATCH_SECONDS)


def replace_folder(source: Path, target: Path) -> None:
    if not source.is_dir():
        raise ComposeError(f"the backup holds no folder {source.name}")
    target.mkdir(parents=True, exist_ok=True)
    replace_contents(source, target)


def replace_contents(source: Path, target: Path) -> None:
    """`target` holds what `source` holds, owners and modes included; moved when both are on
    one file system, else copied (`cp -a`, over whatever was moved already)."""
    for entry in list(target.iterdir()):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    if not source.exists():
        return
    stat = source.stat()
    os.chown(target, stat.st_uid, stat.st_gid)
    os.chmod(target, stat.st_mode & 0o7777)
    with contextlib.suppress(OSError):  # EXDEV: another file system, even with the same st_dev
        for entry in list(source.iterdir()):
            os.rename(entry, target / entry.name)
        return
    done = subprocess.run(["cp", "-a", f"{source}/.", f"{target}/"], capture_output=True, text=True)
    if done.returncode != 0:
        raise ComposeError(f"copying {source} to {target} failed: {done.stderr.strip()}")


def folder_size(folder: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total
