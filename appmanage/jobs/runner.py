"""The RQ entry point: run one Job row's operation and record how it ended.

Failures are recorded on the row, never raised to RQ: the row is the truth, and RQ only
carries the work. Whatever way the operation ends (success, a cancel, a failure, RQ's
timeout, an interrupt of the worker), the row ends, its heartbeat stops and the worker's
sign of life (`jobs/liveness.py`) no longer names it. When even recording the end fails
(the database refuses every write), recovery fails the row once its heartbeat is stale,
since the live worker no longer runs it.

A worker process hands its clients over once (`serve_jobs_with`), so the catalog is read
and the compose command found once per worker, not once per job.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from appmanage.config import Settings
from appmanage.enums import JobState
from appmanage.errors import AppManageError
from appmanage.jobs import records
from appmanage.jobs.context import JobCanceled, JobContext, disarm_job_timeout, failure_text, job_payload
from appmanage.jobs.heartbeat import keep_alive
from appmanage.jobs.liveness import Liveness
from appmanage.jobs.operations import OPERATIONS
from appmanage.runtime.compose import ComposeCanceled, ComposeError
from appmanage.services import Services
from appmanage.status_feed import announce
from appmanage.storage.models import Job

log = logging.getLogger(__name__)

FINISH_ATTEMPTS = 3
FINISH_RETRY_SECONDS = 1.0

_worker_services: Services | None = None
_worker_liveness: Liveness | None = None


def serve_jobs_with(services: Services | None, liveness: Liveness | None = None) -> None:
    global _worker_services, _worker_liveness
    _worker_services, _worker_liveness = services, liveness


def worker_services() -> Services | None:
    """The clients this worker process handed over, for other RQ entry points (a schedule's tick)."""
    return _worker_services


def run(job_id: str) -> str:
    if _worker_services is not None:
        return execute(_worker_services, job_id, _worker_liveness).value
    services = Services(Settings.from_env())
    try:
        return execute(services, job_id).value
    finally:
        services.close()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def execute(services: Services, job_id: str, liveness: Liveness | None = None) -> JobState:
    job = records.claim(services.db, job_id, worker_name())
    if job is None:
        log.info("job %s is not queued any more; skipped", job_id)
        return JobState.CANCELED
    own_liveness = liveness is None
    if liveness is None:
        liveness = Liveness(services.redis, services.settings.namespace, worker_name())
        liveness.start()
    liveness.running(job_id)
    ctx = JobContext(services, job)
    finished_beating = threading.Event()
    state: JobState = JobState.FAILED
    error: str | None = "the job ended without a result"
    try:
        keep_alive(services, job_id, finished_beating)
        _publish_job(services, job)
        announce(services, [job.app_name])
        OPERATIONS[job.kind](ctx)
        state, error = JobState.SUCCEEDED, None
    except (JobCanceled, ComposeCanceled):
        state, error = JobState.CANCELED, "canceled"
    except (ComposeError, AppManageError, OSError) as exc:
        state, error = JobState.FAILED, ctx.mask(str(exc))
    except BaseException as exc:  # RQ's timeout, a database error, an interrupt: the row ends all the same
        if isinstance(exc, Exception):
            log.exception("job %s failed unexpectedly", job_id)
        state, error = JobState.FAILED, ctx.mask(failure_text(exc))
        if not isinstance(exc, Exception):
            raise
    finally:
        disarm_job_timeout()
        finished_beating.set()
        _end(services, ctx, state, error)
        liveness.running(None)
        if own_liveness:
            liveness.stop()
    return state


def _end(services: Services, ctx: JobContext, state: JobState, error: str | None) -> None:
    """Record how the job ended: its last lines (best effort), then the row itself."""
    if error:
        ctx.log_quietly(f"{state.value.lower()}: {error}")
    try:
        ctx.flush()
    except Exception as exc:
        log.warning("job %s: its last log lines were not saved: %s", ctx.job.id, exc)
    finished = _finish(services, ctx.job.id, state, error)
    if finished is not None:
        _publish_job(services, finished)
    try:
        announce(services, [ctx.app_name])
    except Exception as exc:
        log.warning("job %s: the status of %s was not announced: %s", ctx.job.id, ctx.app_name, exc)


def _finish(services: Services, job_id: str, state: JobState, error: str | None) -> Job | None:
    for attempt in range(1, FINISH_ATTEMPTS + 1):
        try:
            return records.finish(services.db, job_id, state, error)
        except Exception as exc:
            log.warning("job %s: recording its end failed (attempt %d): %s", job_id, attempt, exc)
            time.sleep(FINISH_RETRY_SECONDS * attempt)
    log.error("job %s stays RUNNING in the database; recovery will fail it", job_id)
    return None


def _publish_job(services: Services, job: Job) -> None:
    services.stream.publish("job", {"job": job_payload(job), "line": None})
