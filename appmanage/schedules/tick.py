"""A schedule's tick, run on a worker by RQ: take the tick once, arm the next one, and start
the schedule's job as an ordinary Job row (with its log and events), or say in the
schedule's `last_error` why it started none.

A tick is taken by a conditional UPDATE of the schedule row (its `last_run_at` still
before the tick): however many times the tick's RQ job ran, one of them takes it. The
Job row is written in the same transaction, so a tick taken has its job or its reason.
"""

from __future__ import annotations

import logging
from datetime import datetime

from redis.exceptions import RedisError
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from appmanage.config import Settings
from appmanage.enums import AppAction, AppStatus, JobKind
from appmanage.jobs import records
from appmanage.jobs.dispatch import dispatch
from appmanage.jobs.params import BackupParams, JobParams, RestartParams, UpdateParams, to_json
from appmanage.jobs.runner import worker_services
from appmanage.schedules.arming import arm
from appmanage.schedules.cron import next_tick
from appmanage.services import Services
from appmanage.snapshot import snapshot_of
from appmanage.status import Status
from appmanage.status_feed import announce
from appmanage.storage import queries
from appmanage.storage.models import App, Job, Schedule, utcnow

log = logging.getLogger(__name__)


class Skipped(Exception):
    """Why a tick starts no job."""


def run(schedule_id: str, tick: str) -> str:
    """RQ's entry point."""
    services = worker_services()
    if services is not None:
        return take_tick(services, schedule_id, datetime.fromisoformat(tick))
    services = Services(Settings.from_env())
    try:
        return take_tick(services, schedule_id, datetime.fromisoformat(tick))
    finally:
        services.close()


def take_tick(services: Services, schedule_id: str, at: datetime) -> str:
    """What became of the tick, in a few words (RQ keeps it as the job's result)."""
    with services.db.read() as session:
        found = session.get(Schedule, schedule_id)
        app = session.get(App, found.app_name) if found is not None else None
    if found is None or app is None:
        return "no such schedule"
    status = _status(services, app.name)
    following = next_tick(found.cron, max(at, utcnow()))
    job: Job | None = None
    with services.db.write() as session:
        if not _take(session, schedule_id, at, following):
            return "taken already"
        try:
            with session.begin_nested():
                job = _start(services, session, app, found.kind, status)
                queries.add_log_lines(
                    session, job.id, [f"scheduled: {found.kind.value} at {at.isoformat()} ({found.cron})"]
                )
            _record(session, schedule_id, job.id, None)
        except Skipped as exc:
            _record(session, schedule_id, None, str(exc))
        except IntegrityError:  # the unique index: another job of the app came first
            _record(session, schedule_id, None, "skipped: the app has an unfinished job")
    if job is not None:
        dispatch(services, job, app.host)  # without Redis, the row stays QUEUED and recovery enqueues it
        announce(services, [app.name])
    try:
        arm(services.redis, services.settings.namespace, app.host, schedule_id, following)
    except RedisError as exc:
        log.warning("schedule %s: the next tick is armed by a worker's maintenance: %s", schedule_id, exc)
    return "skipped" if job is None else f"job {job.id}"


def _take(session: Session, schedule_id: str, at: datetime, following: datetime) -> bool:
    taken = session.execute(
        update(Schedule)
        .where(Schedule.id == schedule_id, or_(Schedule.last_run_at.is_(None), Schedule.last_run_at < at))
        .values(last_run_at=at, next_run_at=following)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(taken, "rowcount", 0) == 1)


def _record(session: Session, schedule_id: str, job_id: str | None, error: str | None) -> None:
    values: dict[str, object] = {"last_error": error}
    if job_id is not None:
        values["last_job_id"] = job_id
    session.execute(
        update(Schedule).where(Schedule.id == schedule_id).values(**values).execution_options(synchronize_session=False)
    )


def _status(services: Services, name: str) -> Status | None:
    try:
        snapshot = snapshot_of(services, name)
    except Exception as exc:
        log.warning("schedule of %s: its status is unknown: %s", name, exc)
        return None
    return snapshot.status if snapshot is not None else None


def _start(services: Services, session: Session, app: App, kind: JobKind, status: Status | None) -> Job:
    active = queries.unfinished_jobs(session, [app.name]).get(app.name)
    if active is not None:
        raise Skipped(f"skipped: job {active.id} ({active.kind.value}) is {active.state.value}")
    if status is None or status.status is AppStatus.UNKNOWN:
        reason = f": {status.reason}" if status is not None and status.reason else ""
        raise Skipped(f"skipped: the status of {app.name} is unknown{reason}")
    action = AppAction.__members__.get(kind.value)
    if action is not None and action not in status.actions:
        raise Skipped(f"skipped: {app.name} is {status.status.value}: {action.value} is not allowed")
    return records.new_job(session, app.name, kind, to_json(_params(services, app, kind)))


def _params(services: Services, app: App, kind: JobKind) -> JobParams:
    if kind is JobKind.RESTART:
        return RestartParams()
    if kind is JobKind.BACKUP:
        return BackupParams(stop=True)
    catalog_app = services.catalog.get(app.catalog_app) if app.catalog_app else None
    if catalog_app is None:
        raise Skipped(f"skipped: {app.name} has no catalog app to update from")
    if catalog_app.default_version == app.version:
        raise Skipped(f"already at version {app.version}")
    return UpdateParams(catalog_app.default_version, app.version)
