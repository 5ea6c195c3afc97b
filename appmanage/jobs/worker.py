"""An RQ worker on the queue of one Docker host (`--host`, default local). Several run side
by side, so jobs of different apps run in parallel; jobs of one app never overlap (one
unfinished job per app).

Jobs run in the worker process itself (SimpleWorker): when a worker dies, its job and
the compose process under it die with it, and recovery fails the job within seconds.
RQ's timeout reaches the job as JobTimeoutException (SIGALRM in this, the main, thread):
the compose process is ended, an update or redeploy rolls back, and the row ends FAILED.
While it lives, the worker keeps its sign of life in Redis (`jobs/liveness.py`).
RQ's scheduler runs beside one worker of each queue (`jobs/scheduling_worker.py`) and
moves the schedules' due ticks onto the queue, in a thread of the worker; recovery (the
watcher's, or a lone worker's) arms the ticks again from the table (`schedules/arming.py`).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from appmanage.config import Settings
from appmanage.jobs.liveness import Liveness
from appmanage.jobs.queue import job_queue
from appmanage.jobs.recovery import start_recovery
from appmanage.jobs.runner import serve_jobs_with, worker_name
from appmanage.jobs.scheduling_worker import SchedulingWorker
from appmanage.runtime.compose import detect_compose_command
from appmanage.services import Services

WORKER_TTL = 10
REDIS_RETRY_MAX_SECONDS = 2.0

log = logging.getLogger(__name__)


def work(settings: Settings, burst: bool = False, migrate: bool = True, recover: bool = True) -> int:
    """`migrate=False` when the parent migrated before forking it, `recover=False` when a
    sibling runs recovery (the agent's watcher does; a standalone worker runs it itself)."""
    services = Services(settings)
    if migrate:
        services.db.migrate()
    detect_compose_command()
    services.catalog  # noqa: B018 - read once, before the first job
    liveness = Liveness(services.redis, settings.namespace, worker_name())
    liveness.start()
    serve_jobs_with(services, liveness)
    stopping = threading.Event()
    if recover and not burst:
        start_recovery(services, stopping)
    try:
        while True:
            _wait_for_redis(services)
            try:
                _rq_worker(services).work(burst=burst, with_scheduler=True)
                return 0
            except (RedisConnectionError, RedisTimeoutError) as exc:
                log.warning("Redis went away (%s); waiting for it", exc)
    finally:
        stopping.set()
        serve_jobs_with(None)
        liveness.stop()
        services.close()


def _rq_worker(services: Services) -> SchedulingWorker:
    worker = SchedulingWorker(
        [job_queue(services.redis, services.settings.namespace, services.settings.agent_host)],
        connection=services.redis,
        name=f"appmanage-{worker_name()}-{secrets.token_hex(2)}",
        worker_ttl=WORKER_TTL,
    )
    worker.max_connection_wait_time = REDIS_RETRY_MAX_SECONDS
    return worker


def _wait_for_redis(services: Services) -> None:
    delay = 0.2
    while not services.redis_ok():
        time.sleep(delay)
        delay = min(delay * 2, REDIS_RETRY_MAX_SECONDS)
