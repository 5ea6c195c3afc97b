"""The RQ side of jobs. The RQ job id is the Job row's id, so RQ's registries and the row agree."""

from __future__ import annotations

import contextlib

from redis import Redis
from rq import Queue
from rq.job import Job as RQJob

RUN_FUNCTION = "appmanage.jobs.runner.run"
RESULT_TTL = 3600
FAILURE_TTL = 24 * 3600


def queue_name(namespace: str) -> str:
    return f"{namespace}-jobs"


def job_queue(redis: Redis, namespace: str) -> Queue:
    return Queue(queue_name(namespace), connection=redis)


def enqueue(redis: Redis, namespace: str, job_id: str, timeout: float) -> None:
    job_queue(redis, namespace).enqueue_call(
        RUN_FUNCTION,
        args=(job_id,),
        job_id=job_id,
        timeout=int(timeout) + 60,
        result_ttl=RESULT_TTL,
        failure_ttl=FAILURE_TTL,
        description=f"appmanage job {job_id}",
    )


def remove_queued(redis: Redis, job_id: str) -> None:
    with contextlib.suppress(Exception):
        RQJob.fetch(job_id, connection=redis).cancel()
