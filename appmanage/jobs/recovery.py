"""Recovery: the Job rows are the truth, and Redis or a worker may vanish at any time.

Every few seconds, in every worker and in the watcher:
- a RUNNING job whose heartbeat stopped is FAILED with "worker lost", naming the
  containers it left behind, and its app's status is announced;
- a QUEUED job that RQ no longer knows (Redis restarted empty) is enqueued again; the
  claim QUEUED → RUNNING makes sure it runs once however often it is enqueued.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from redis.exceptions import RedisError
from rq.job import Job as RQJob
from sqlalchemy import select

from appmanage.enums import AppStatus, JobKind, JobState
from appmanage.errors import AppManageError
from appmanage.jobs import queue
from appmanage.jobs.context import job_payload
from appmanage.jobs.submit import submit_action
from appmanage.runtime.containers import DockerUnavailable
from appmanage.services import Services
from appmanage.snapshot import take_snapshot
from appmanage.status_feed import announce
from appmanage.storage import queries
from appmanage.storage.models import Job, utcnow

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0
LOST_AFTER = timedelta(seconds=8)
CHECK_SECONDS = 2.0
REQUEUE_GRACE = timedelta(seconds=3)


def fail_lost_jobs(services: Services) -> list[Job]:
    cutoff = utcnow() - LOST_AFTER
    with services.db.read() as session:
        suspects = list(session.scalars(select(Job).where(Job.state == JobState.RUNNING, Job.heartbeat_at < cutoff)))
    failed = []
    for suspect in suspects:
        reason = (
            f"worker lost ({suspect.worker or 'unknown worker'} stopped answering){_left_behind(services, suspect)}"
        )
        with services.db.write() as session:
            job = session.get(Job, suspect.id)
            if (
                job is None
                or job.state is not JobState.RUNNING
                or job.heartbeat_at is None
                or job.heartbeat_at >= cutoff
            ):
                continue
            job.state, job.error, job.step, job.finished_at = JobState.FAILED, reason, "failed", utcnow()
            queries.add_log_lines(session, job.id, [f"failed: {reason}"])
        log.warning("job %s of %s: %s", job.id, job.app_name, reason)
        services.events.publish("job", {"job": job_payload(job), "line": f"failed: {reason}"})
        announce(services, [job.app_name])
        failed.append(job)
    return failed


def _is_lost(job: Job, cutoff: datetime) -> bool:
    return job.state is JobState.RUNNING and job.heartbeat_at is not None and job.heartbeat_at < cutoff


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
        queued = list(session.scalars(select(Job.id).where(Job.state == JobState.QUEUED, Job.created_at < cutoff)))
    requeued = []
    for job_id in queued:
        try:
            if RQJob.exists(job_id, connection=services.redis):
                continue
            queue.enqueue(services.redis, services.settings.namespace, job_id, services.settings.compose_timeout)
        except RedisError as exc:
            log.warning("cannot requeue job %s yet: %s", job_id, exc)
            break
        log.warning("job %s was QUEUED but unknown to RQ; enqueued again", job_id)
        requeued.append(job_id)
    return requeued


def recover(services: Services) -> None:
    try:
        fail_lost_jobs(services)
        requeue_orphans(services)
    except Exception:
        log.exception("recovery pass failed")


def start_recovery(services: Services, stopping: threading.Event) -> threading.Thread:
    def loop() -> None:
        while not stopping.wait(CHECK_SECONDS):
            recover(services)

    recover(services)
    thread = threading.Thread(target=loop, name="recovery", daemon=True)
    thread.start()
    return thread


def keep_alive(services: Services, job_id: str, stopping: threading.Event) -> threading.Thread:
    """The heartbeat of a running job: while it beats, the job is not lost."""

    def beat() -> None:
        while not stopping.wait(HEARTBEAT_SECONDS):
            try:
                with services.db.write() as session:
                    job = session.get(Job, job_id)
                    if job is not None and job.state is JobState.RUNNING:
                        job.heartbeat_at = utcnow()
            except Exception as exc:
                log.warning("heartbeat of job %s missed: %s", job_id, exc)

    thread = threading.Thread(target=beat, name=f"heartbeat-{job_id}", daemon=True)
    thread.start()
    return thread


def resume_desired_state(services: Services) -> list[str]:
    """After a restart (a host reboot), start the apps that should run but are all exited.
    Apps the operator stopped stay stopped: their desired state says so."""
    started = []
    for snapshot in take_snapshot(services):
        app = snapshot.app
        if not (app.installed and app.desired_running and snapshot.status.status is AppStatus.EXITED):
            continue
        try:
            submit_action(services, app.name, JobKind.START)
        except AppManageError as exc:
            log.warning("could not start %s again: %s", app.name, exc)
            continue
        log.info("started %s again: it was running before AppManage stopped", app.name)
        started.append(app.name)
    return started
