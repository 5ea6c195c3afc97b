"""The RQ entry point: run one Job row's operation and record how it ended.

Failures are recorded on the row, never raised to RQ: the row is the truth, and RQ only
carries the work. A worker process hands its clients over once (`serve_jobs_with`), so the
catalog is read and the compose command found once per worker, not once per job.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from appmanage.config import Settings
from appmanage.enums import JobState
from appmanage.errors import AppManageError
from appmanage.jobs import records
from appmanage.jobs.context import JobCanceled, JobContext, job_payload
from appmanage.jobs.operations import OPERATIONS
from appmanage.jobs.recovery import keep_alive
from appmanage.runtime.compose import ComposeCanceled, ComposeError
from appmanage.services import Services
from appmanage.status_feed import announce
from appmanage.storage.models import Job

log = logging.getLogger(__name__)


_worker_services: Services | None = None


def serve_jobs_with(services: Services | None) -> None:
    global _worker_services
    _worker_services = services


def run(job_id: str) -> str:
    if _worker_services is not None:
        return execute(_worker_services, job_id).value
    services = Services(Settings.from_env())
    try:
        return execute(services, job_id).value
    finally:
        services.close()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def execute(services: Services, job_id: str) -> JobState:
    job = records.claim(services.db, job_id, worker_name())
    if job is None:
        log.info("job %s is not queued any more; skipped", job_id)
        return JobState.CANCELED
    ctx = JobContext(services, job)
    _publish_job(services, job)
    announce(services, [job.app_name])
    state, error = JobState.SUCCEEDED, None
    finished_beating = threading.Event()
    keep_alive(services, job_id, finished_beating)
    try:
        OPERATIONS[job.kind](ctx)
    except (JobCanceled, ComposeCanceled):
        state, error = JobState.CANCELED, "canceled"
    except (ComposeError, AppManageError, OSError) as exc:
        state, error = JobState.FAILED, ctx.mask(str(exc))
    except Exception as exc:
        log.exception("job %s failed unexpectedly", job_id)
        state, error = JobState.FAILED, ctx.mask(f"unexpected error: {exc}")
    finally:
        finished_beating.set()
    if error:
        ctx.log(f"{state.value.lower()}: {error}")
    ctx.save_log()
    finished = records.finish(services.db, job_id, state, error)
    if finished is not None:
        _publish_job(services, finished)
    announce(services, [job.app_name])
    return state


def _publish_job(services: Services, job: Job) -> None:
    services.events.publish("job", {"job": job_payload(job), "line": None})
