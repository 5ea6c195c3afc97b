"""The RQ side of jobs. The RQ job id is the Job row's id, so RQ's registries and the row agree.

RQ's timeout for a job covers every compose command it may run, each of which may take
up to the compose timeout: an update pulls, builds, brings the new version up and, when
that fails, the old one up again. `APPMANAGE_JOB_TIMEOUT` overrides the computed limit.
"""

from __future__ import annotations

import contextlib

from redis import Redis
from rq import Queue
from rq.job import Job as RQJob

from appmanage.config import Settings
from appmanage.enums import JobKind
from appmanage.storage.models import LOCAL_HOST

RUN_FUNCTION = "appmanage.jobs.runner.run"
RESULT_TTL = 3600
FAILURE_TTL = 24 * 3600
JOB_MARGIN_SECONDS = 60

# The most compose commands one job of each kind runs (see jobs/operations.py).
COMPOSE_STEPS: dict[JobKind, int] = {
    JobKind.INSTALL: 2,  # up; down when it fails
    JobKind.UNINSTALL: 1,
    JobKind.START: 2,  # unpause (a paused app), start
    JobKind.STOP: 1,
    JobKind.RESTART: 1,
    JobKind.REDEPLOY: 4,  # pull, build, up; up of the previous version when it fails
    JobKind.UPDATE: 4,
    JobKind.EDIT: 4,  # up; up of the previous files when it fails (and a compose config before each)
    # a restic command counts as one step here (its own limit: APPMANAGE_BACKUP_TIMEOUT)
    JobKind.BACKUP: 6,  # stop, backup, start, forget (retention), snapshots
    JobKind.RESTORE: 10,  # restore to staging, stop, safety backup, up; the safety copy back and up when it fails
    JobKind.DELETE_BACKUP: 2,  # forget
}


def job_timeout(kind: JobKind, settings: Settings) -> int:
    """RQ's limit for one job, in whole seconds (RQ's timer counts seconds)."""
    if settings.job_timeout > 0:
        return max(1, round(settings.job_timeout))
    return int(COMPOSE_STEPS[kind] * settings.compose_timeout) + JOB_MARGIN_SECONDS


def queue_name(namespace: str, host: str = LOCAL_HOST) -> str:
    """Each Docker host has its own queue: only its agent's workers consume it, so a job
    runs beside the engine of its app, and waits there while that host is away."""
    return f"{namespace}-jobs-{host}"


def job_queue(redis: Redis, namespace: str, host: str = LOCAL_HOST) -> Queue:
    return Queue(queue_name(namespace, host), connection=redis)


def enqueue(redis: Redis, namespace: str, job_id: str, timeout: int, *, host: str) -> None:
    job_queue(redis, namespace, host).enqueue_call(
        RUN_FUNCTION,
        args=(job_id,),
        job_id=job_id,
        timeout=timeout,
        result_ttl=RESULT_TTL,
        failure_ttl=FAILURE_TTL,
        description=f"appmanage job {job_id}",
    )


def remove_queued(redis: Redis, job_id: str) -> None:
    with contextlib.suppress(Exception):
        RQJob.fetch(job_id, connection=redis).cancel()
