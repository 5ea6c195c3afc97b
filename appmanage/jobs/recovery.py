"""Recovery: the Job rows are the truth, and Redis or a worker may vanish at any time.

Every few seconds, in the watcher (the judge of the heartbeats that jobs/heartbeat.py
writes; in an agent, only its watcher child runs it) and in a standalone `appmanage worker`
(which may run without a watcher), for the jobs of the apps on their own Docker host only (an
agent judges its own workers, and requeues onto its own host's queue):
- a RUNNING job is FAILED with "worker lost", naming the containers it left behind, and
  its app's status announced, only when its worker is gone: its heartbeat is older than
  LOST_AFTER by the database's clock (the one clock every host shares; heartbeats are
  written in it too) AND the worker's sign of life in Redis (`jobs/liveness.py`, a key
  with a TTL) is gone or names another job. A heartbeat write that waits behind a
  database lock, or a wall clock that steps, fails nothing while the worker lives.
  When Redis does not answer, the worker cannot be asked: a job is then failed only when
  its heartbeat is older than LOST_AFTER_WITHOUT_REDIS, long past any database lock wait.
  An app a lost BACKUP or RESTORE held paused or stopped gets a START job (`jobs/lost_holds.py`).
  When Redis restarted empty, live workers write their keys again within
  REFRESH_SECONDS, long before their heartbeat could look stale;
- a QUEUED job that RQ no longer knows (Redis restarted empty) is enqueued again; the
  claim QUEUED → RUNNING makes sure it runs once however often it is enqueued;
- once an hour (one process at a time, by a Redis lock), finished jobs older than
  APPMANAGE_JOB_RETENTION_DAYS are deleted with their logs (`storage/retention.py`).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

from redis.exceptions import RedisError
from rq.job import Job as RQJob
from sqlalchemy import ColumnElement, func, select

from appmanage.enums import JobState
from appmanage.jobs import queue
from appmanage.jobs.context import job_payload
from appmanage.jobs.dispatch import dispatch
from appmanage.jobs.liveness import worker_running
from appmanage.jobs.lost_holds import let_go
from appmanage.runtime.containers import DockerUnavailable
from appmanage.schedules.arming import rearm
from appmanage.services import Services
from appmanage.status_feed import announce
from appmanage.storage import queries
from appmanage.storage.clock import database_now
from appmanage.storage.models import LOCAL_HOST, App, Job, utcnow
from appmanage.storage.retention import prune_finished_jobs

log = logging.getLogger(__name__)

LOST_AFTER = timedelta(seconds=8)
LOST_AFTER_WITHOUT_REDIS = timedelta(seconds=120)
CHECK_SECONDS = 2.0
REARM_SECONDS = 10.0
REQUEUE_GRACE = timedelta(seconds=3)
PRUNE_SECONDS = 3600


def fail_lost_jobs(services: Services) -> list[Job]:
    with services.db.read() as session:
        now = database_now(session)
        suspects = list(
            session.scalars(
                select(Job)
                .outerjoin(App, App.name == Job.app_name)
                .where(Job.state == JobState.RUNNING, Job.heartbeat_at < now - LOST_AFTER, _on_host(services))
            )
        )
    failed = []
    for suspect in suspects:
        verdict = _verdict(services, suspect, now)
        if verdict is None:
            continue
        cause, stale_after = verdict
        reason = f"{cause}{_left_behind(services, suspect)}"
        with services.db.write() as session:
            job = session.get(Job, suspect.id)
            if (
                job is None
                or job.state is not JobState.RUNNING
                or job.heartbeat_at is None
                or job.heartbeat_at >= database_now(session) - stale_after
            ):
                continue
            job.state, job.error, job.step, job.finished_at = JobState.FAILED, reason, "failed", utcnow()
            held = let_go(session, job)
            job.error = reason = f"{reason}{held.note}"
            queries.add_log_lines(session, job.id, [f"failed: {reason}"])
        log.warning("job %s of %s: %s", job.id, job.app_name, reason)
        services.stream.publish("job", {"job": job_payload(job), "line": f"failed: {reason}"})
        if held.start is not None:
            dispatch(services, held.start, services.settings.agent_host)
        announce(services, [job.app_name])
        failed.append(job)
    return failed


def _verdict(services: Services, job: Job, now: datetime) -> tuple[str, timedelta] | None:
    """Why the job is lost and how stale its heartbeat must be to say so; None: its worker lives."""
    worker = job.worker or "unknown worker"
    try:
        running = worker_running(services.redis, services.settings.namespace, worker) if job.worker else None
    except RedisError:
        if job.heartbeat_at is not None and job.heartbeat_at < now - LOST_AFTER_WITHOUT_REDIS:
            seconds = LOST_AFTER_WITHOUT_REDIS.total_seconds()
            return f"worker lost ({worker} sent no heartbeat for {seconds:.0f} s; Redis did not answer)", (
                LOST_AFTER_WITHOUT_REDIS
            )
        return None
    if running is None:
        return f"worker lost ({worker} stopped answering)", LOST_AFTER
    if running != job.id:
        return f"worker lost ({worker} lives but no longer runs this job)", LOST_AFTER
    return None


def _left_behind(services: Services, job: Job) -> str:
    try:
        containers = services.containers.by_project(job.app_name).get(job.app_name, [])
    except DockerUnavailable:
        return "; Docker did not answer, so its containers are unknown"
    if not containers:
        return "; no containers were left"
    states = ", ".join(f"{c.service} {c.state}" for c in sorted(containers, key=lambda c: c.service))
    return f"; containers left: {states}"


def requeue_orphans(services: Services) -> list[str]:
    cutoff = utcnow() - REQUEUE_GRACE
    with services.db.read() as session:
        queued = list(
            session.execute(
                select(Job.id, Job.kind)
                .outerjoin(App, App.name == Job.app_name)
                .where(Job.state == JobState.QUEUED, Job.created_at < cutoff, _on_host(services))
            )
        )
    requeued = []
    for job_id, kind in queued:
        try:
            if RQJob.exists(job_id, connection=services.redis):
                continue
            timeout = queue.job_timeout(kind, services.settings)
            host = services.settings.agent_host
            queue.enqueue(services.redis, services.settings.namespace, job_id, timeout, host=host)
        except RedisError as exc:
            log.warning("cannot requeue job %s yet: %s", job_id, exc)
            break
        log.warning("job %s was QUEUED but unknown to RQ; enqueued again", job_id)
        requeued.append(job_id)
    return requeued


def _on_host(services: Services) -> ColumnElement[bool]:
    """Jobs of this process's Docker host (a job whose app row is gone counts as local's)."""
    return func.coalesce(App.host, LOCAL_HOST) == services.settings.agent_host


def prune_when_due(services: Services) -> int:
    """Prune old finished jobs if no process did in the last PRUNE_SECONDS."""
    lock = f"{services.settings.namespace}:pruned"
    try:
        if not services.redis.set(lock, "1", nx=True, ex=PRUNE_SECONDS):
            return 0
    except RedisError:
        return 0
    pruned = prune_finished_jobs(services.db, timedelta(days=services.settings.job_retention_days))
    if pruned:
        log.info("deleted %d finished jobs older than %g days", pruned, services.settings.job_retention_days)
    return pruned


def recover(services: Services) -> None:
    for task in (fail_lost_jobs, requeue_orphans, prune_when_due):
        try:
            task(services)
        except Exception:
            log.exception("recovery pass failed: %s", task.__name__)


def start_recovery(services: Services, stopping: threading.Event) -> threading.Thread:
    """Recovery every CHECK_SECONDS; every REARM_SECONDS, the schedules' ticks armed again
    from the table (after Redis lost them, or a tick's worker died before arming the next)."""

    def loop() -> None:
        rearmed = time.monotonic()
        while not stopping.wait(CHECK_SECONDS):
            recover(services)
            if time.monotonic() - rearmed >= REARM_SECONDS:
                rearm(services)
                rearmed = time.monotonic()

    recover(services)
    rearm(services)
    thread = threading.Thread(target=loop, name="recovery", daemon=True)
    thread.start()
    return thread
