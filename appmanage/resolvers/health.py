from __future__ import annotations

import asyncio
from asyncio import to_thread
from dataclasses import dataclass

from rq import Worker

from appmanage.jobs.queue import job_queue
from appmanage.services import Services


@dataclass(frozen=True)
class HealthReport:
    docker: bool
    redis: bool
    database: bool
    workers: int
    subscribers: int


async def health(services: Services, subscribers: int) -> HealthReport:
    docker, redis, database = await asyncio.gather(
        to_thread(services.containers.ping), to_thread(services.redis_ok), to_thread(services.db.ping)
    )
    workers = await to_thread(_count_workers, services) if redis else 0
    return HealthReport(docker, redis, database, workers, subscribers)


def _count_workers(services: Services) -> int:
    try:
        return Worker.count(queue=job_queue(services.redis, services.settings.namespace))
    except Exception:
        return 0
