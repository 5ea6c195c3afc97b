"""An RQ worker on AppManage's queue. Several run side by side, so jobs of different
apps run in parallel; jobs of one app never overlap (one unfinished job per app)."""

from __future__ import annotations

from rq import Worker

from appmanage.config import Settings
from appmanage.jobs.queue import job_queue
from appmanage.jobs.runner import worker_name
from appmanage.services import Services

WORKER_TTL = 10
JOB_MONITORING_INTERVAL = 2


def work(settings: Settings, burst: bool = False) -> int:
    services = Services(settings)
    services.db.migrate()
    queue = job_queue(services.redis, settings.namespace)
    worker = Worker(
        [queue],
        connection=services.redis,
        name=f"appmanage-{worker_name()}",
        worker_ttl=WORKER_TTL,
        job_monitoring_interval=JOB_MONITORING_INTERVAL,
    )
    worker.work(burst=burst, with_scheduler=False)
    services.close()
    return 0
