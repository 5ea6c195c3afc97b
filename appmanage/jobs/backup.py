"""The BACKUP and DELETE_BACKUP operations: a restic snapshot of an app's folder and named
volumes, mirrored into the `backups` table, then the app's retention applied.

With `stop` the app is stopped for the copy, else paused (crash-consistent: nothing
writes while it is read); either way it runs again afterwards, also when the copy fails,
unless it was not running before (and when the worker dies mid-copy, recovery queues a
START that unpauses it: `jobs/lost_holds.py`). A failed backup leaves no Backup row (restic writes
the snapshot last, only when every file was saved).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable
from datetime import datetime

from redis import Redis
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from appmanage.config import Settings
from appmanage.errors import NotFound, Unavailable, ValidationFailed
from appmanage.jobs.backup_manifest import Manifest, VolumeCopy
from appmanage.jobs.context import JobCanceled, JobContext, disarm_job_timeout, failure_text
from appmanage.jobs.params import BackupParams, DeleteBackupParams, params_of
from appmanage.jobs.project import app_folder, compose, load_app
from appmanage.runtime.backup_repository import open_repository, repository_location
from appmanage.runtime.containers import DockerUnavailable
from appmanage.runtime.project_volumes import ProjectVolume, volume_details
from appmanage.runtime.restic import LineSink, Restic, ResticCanceled, ResticError, ResticProgress
from appmanage.storage.database import Database
from appmanage.storage.models import App, Backup, BackupRetention

PROGRESS_SECONDS = 1.0
PRUNE_EVERY_SECONDS = 24 * 3600
CUSTOM_TAG = "custom"


def backup(ctx: JobContext) -> None:
    app = load_app(ctx)
    stop = params_of(ctx.job, BackupParams).stop
    restic = open_repository(ctx.services.settings)
    ctx.step("open the backup repository", 0.02)
    restic.ensure_repository(on_line=ctx.log)
    volumes = readable_volumes(ctx)
    running = is_running(ctx)
    hold, release = ("stop", "start") if stop else ("pause", "unpause")
    if running:
        ctx.step(f"docker compose {hold}", 0.05)
        compose(ctx, hold)
    try:
        row = take_snapshot(ctx, restic, app, volumes, (0.1, 0.85))
    except BaseException as exc:
        if running:
            disarm_job_timeout()
            ctx.log_quietly(f"the copy failed: {ctx.mask(failure_text(exc))}")
            with contextlib.suppress(Exception):
                ctx.step(f"docker compose {release}", 0.9)
            compose(ctx, release)
        raise
    if running:
        ctx.step(f"docker compose {release}", 0.9)
        compose(ctx, release)
    ctx.log(f"backup {row.id} of {app.name}: {human_bytes(row.size_bytes)}")
    try:
        apply_retention(ctx, restic, app.name)
    except ResticError as exc:  # the backup is done and listed; the next one applies the retention again
        ctx.log(f"the retention was not applied this time: {ctx.mask(str(exc))}")


def delete_backup(ctx: JobContext) -> None:
    backup_id = params_of(ctx.job, DeleteBackupParams).backup_id
    ctx.step(f"forget backup {backup_id[:8]}", 0.2)
    forget_backup(ctx.services.settings, ctx.services.db, ctx.services.redis, backup_id, ctx.log)


def forget_backup(settings: Settings, db: Database, redis: Redis, backup_id: str, on_line: LineSink | None) -> None:
    """Forget one snapshot and its row (also the API's, when its app is gone)."""
    restic = open_repository(settings)
    with db.read() as session:
        if session.get(Backup, backup_id) is None:
            raise NotFound(f"no backup has the id {backup_id}")
    restic.forget(
        [backup_id], prune=prune_due(redis, settings.namespace, repository_location(settings)), on_line=on_line
    )
    with db.write() as session:
        session.execute(delete(Backup).where(Backup.id == backup_id))


def forget_retention(session: Session, app: str) -> None:
    """In the transaction that deletes the app; its backups stay (listed, and restorable as a new app)."""
    session.execute(delete(BackupRetention).where(BackupRetention.app == app))


def readable_volumes(ctx: JobContext) -> list[ProjectVolume]:
    try:
        volumes = volume_details(ctx.services.containers.api, ctx.app_name)
    except DockerUnavailable as exc:
        raise Unavailable(f"Docker does not answer: {exc}") from exc
    others = [v for v in volumes if not v.readable_here]
    if others:
        names = ", ".join(f"{v.name} (driver {v.driver})" for v in others)
        raise ValidationFailed(f"only volumes of the local driver can be backed up for now: {names}")
    return volumes


def is_running(ctx: JobContext) -> bool:
    return _any_container_in(ctx, "running")


def unpause_paused(ctx: JobContext) -> None:
    """`compose unpause` when a container of the app is paused (a paused backup's worker may
    have died): compose starts no paused container, and unpauses none that is not paused."""
    if _any_container_in(ctx, "paused"):
        ctx.step("docker compose unpause", 0.2)
        compose(ctx, "unpause")


def _any_container_in(ctx: JobContext, state: str) -> bool:
    try:
        containers = ctx.services.containers.by_project(ctx.app_name).get(ctx.app_name, [])
    except DockerUnavailable as exc:
        raise Unavailable(f"Docker does not answer: {exc}") from exc
    return any(c.state == state for c in containers)


def take_snapshot(
    ctx: JobContext,
    restic: Restic,
    app: App,
    volumes: list[ProjectVolume],
    span: tuple[float, float],
    safety_for_job: str | None = None,
) -> Backup:
    """Snapshot the app folder and `volumes` (the app is held still by the caller) and
    record its Backup row; progress within `span` of the job's."""
    folder = app_folder(ctx)
    manifest = Manifest.of(app, folder, [VolumeCopy(v.key, v.name, str(v.mountpoint)) for v in volumes])
    manifest.write(folder)
    tags = snapshot_tags(app, safety_for_job)
    what = "safety snapshot" if safety_for_job else "backup"
    ctx.step(f"{what}: restic backup of the app folder and {len(volumes)} volume(s)", span[0])
    try:
        summary = restic.backup(
            [folder, *(v.mountpoint for v in volumes)],
            tags,
            app.host,
            on_progress=_progress_reporter(ctx, what, span),
            on_line=ctx.log,
            should_cancel=ctx.should_cancel,
        )
    except ResticCanceled as exc:
        raise JobCanceled(str(exc)) from exc
    snapshot = restic.snapshot(summary.snapshot_id)
    row = Backup(
        id=snapshot.id,
        app=app.name,
        host=app.host,
        catalog_app=app.catalog_app,
        version=app.version,
        created_at=datetime.fromisoformat(snapshot.time),  # nanoseconds: kept to microseconds
        size_bytes=summary.total_bytes_processed,
        safety_for_job=safety_for_job,
        manifest=manifest.to_json(),
    )
    with ctx.services.db.write() as session:
        session.merge(row)
    ctx.log(
        f"{what} {snapshot.id[:8]}: {human_bytes(summary.total_bytes_processed)} read, "
        f"{human_bytes(summary.data_added)} added to the repository in {summary.seconds:.1f} s"
    )
    return row


def snapshot_tags(app: App, safety_for_job: str | None) -> dict[str, str]:
    tags = {
        "app": app.name,
        "host": app.host,
        "catalog": app.catalog_app or CUSTOM_TAG,
        "version": app.version,
        "kind": "safety" if safety_for_job else "backup",
    }
    if safety_for_job:
        tags["safety"] = safety_for_job
    return tags


def apply_retention(ctx: JobContext, restic: Restic, name: str) -> None:
    """`restic forget` by the app's retention (its backups only, not its safety snapshots),
    then the rows follow the repository. Pruning (freeing the space) is slow and locks the
    repository: at most once a day per repository (`prune_due`)."""
    with ctx.services.db.read() as session:
        rule = session.get(BackupRetention, name)
    keep = retention_policy(rule)
    if not keep:
        return
    ctx.step("apply the retention: restic forget", 0.93)
    settings = ctx.services.settings
    prune = prune_due(ctx.services.redis, settings.namespace, repository_location(settings))
    restic.forget(keep=keep, tag=f"app={name},kind=backup", prune=prune, on_line=ctx.log)
    kept = {s.id for s in restic.snapshots("--tag", f"app={name}")}
    with ctx.services.db.write() as session:
        gone = session.scalars(select(Backup.id).where(Backup.app == name, Backup.id.not_in(kept))).all()
        if gone:
            session.execute(delete(Backup).where(Backup.id.in_(gone)))
    if gone:
        ctx.log(f"retention: forgot {len(gone)} backup(s) of {name}{' and pruned the repository' if prune else ''}")


def retention_policy(rule: BackupRetention | None) -> dict[str, int]:
    if rule is None:
        return {}
    keep = {"last": rule.keep_last, "daily": rule.keep_daily, "weekly": rule.keep_weekly}
    return {k: v for k, v in keep.items() if v > 0}


def prune_due(redis: Redis, namespace: str, repository: str) -> bool:
    """True once a day per repository, for whoever asks first; False when Redis does not answer."""
    key = f"{namespace}:backups:pruned:{hashlib.sha256(repository.encode()).hexdigest()[:16]}"
    try:
        return bool(redis.set(key, "1", nx=True, ex=PRUNE_EVERY_SECONDS))
    except Exception:
        return False


def _progress_reporter(ctx: JobContext, what: str, span: tuple[float, float]) -> Callable[[ResticProgress], None]:
    last = 0.0

    def report(progress: ResticProgress) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < PROGRESS_SECONDS:
            return
        last = now
        eta = f", ETA {progress.seconds_remaining:.0f} s" if progress.seconds_remaining is not None else ""
        ctx.step(
            f"{what}: {human_bytes(progress.bytes_done)} of {human_bytes(progress.total_bytes)} "
            f"at {human_bytes(progress.bytes_per_second)}/s{eta}",
            span[0] + (span[1] - span[0]) * min(max(progress.fraction, 0.0), 1.0),
        )

    return report


def human_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(count) < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GiB"
