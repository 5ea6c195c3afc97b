"""Hand a new Job row to RQ and put it on the event stream. When Redis does not answer,
the row stays QUEUED and recovery enqueues it once Redis is back. Announcing the app's
new status is the caller's (it may hold the app's snapshot already)."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from appmanage.jobs import queue
from appmanage.jobs.context import job_payload
from appmanage.services import Services
from appmanage.storage.models import Job

log = logging.getLogger(__name__)


def dispatch(services: Services, job: Job, host: str) -> None:
    """Onto the queue of `host`, the Docker host of the job's app."""
    try:
        timeout = queue.job_timeout(job.kind, services.settings)
        queue.enqueue(services.redis, services.settings.namespace, job.id, timeout, host=host)
    except RedisError as exc:
        log.warning("job %s stays QUEUED until Redis answers: %s", job.id, exc)
    services.stream.publish("job", {"job": job_payload(job), "line": None})
