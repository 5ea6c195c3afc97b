"""The RQ worker with RQ's own scheduler (`rq.scheduler.RQScheduler`), which moves the jobs
due in a queue's ScheduledJobRegistry (a schedule's ticks, `appmanage/schedules/`) onto
the queue. One scheduler per queue runs, however many workers: each worker tries to take
the queue's scheduler lock, and the one that holds it runs the scheduler.

RQ forks a process for it; here it runs RQ's scheduler loop in a thread of the worker
instead (a process of its own cost 22 MB at idle), which dies with the worker. Beside
RQ's own, this worker breaks the lock of a scheduler of this machine whose process is
gone (else the queue waits out the lock's minute), and looks for a free lock every
MAINTENANCE_SECONDS, not every ten minutes.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from redis import Redis
from rq import SimpleWorker
from rq.exceptions import SchedulerNotFound
from rq.scheduler import RQScheduler
from rq.scripts import release_lock

MAINTENANCE_SECONDS = 10

log = logging.getLogger(__name__)


class ThreadedScheduler(RQScheduler):
    """RQ's scheduler, its loop in a daemon thread of the worker."""

    def start(self) -> SchedulerThread:
        self._status = self.Status.STARTED
        thread = SchedulerThread(self)
        thread.start()
        self._process = thread  # type: ignore[assignment]  # RQ's worker asks it is_alive() and pid
        return thread


class SchedulerThread(threading.Thread):
    """RQ's `RQScheduler.work` loop, without the signal handlers a thread cannot install;
    a Redis error is logged and the loop goes on. `pid` None: RQ's worker has no process to kill."""

    pid = None

    def __init__(self, scheduler: Any) -> None:  # Any: RQ's scheduler is untyped
        super().__init__(name="rq scheduler", daemon=True)
        self.scheduler = scheduler

    def run(self) -> None:
        scheduler = self.scheduler
        scheduler.register_birth()
        while not scheduler._stop_requested:
            try:
                if scheduler.should_reacquire_locks:
                    scheduler.acquire_locks()
                scheduler.heartbeat()
                scheduler.enqueue_scheduled_jobs()
            except Exception:
                log.exception("the scheduler of %s failed a round", ", ".join(scheduler._queue_names))
            time.sleep(scheduler.interval)


class SchedulingWorker(SimpleWorker):
    """`maintenance` runs with RQ's maintenance, in the worker's loop between jobs."""

    def __init__(self, *args: Any, maintenance: Callable[[], None] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("maintenance_interval", MAINTENANCE_SECONDS)
        super().__init__(*args, **kwargs)
        self._maintenance = maintenance

    def _start_scheduler(
        self, burst: bool = False, logging_level: str | None = "INFO", *args: Any, **kwargs: Any
    ) -> None:
        """RQ's, with a ThreadedScheduler."""
        scheduler: Any = ThreadedScheduler(  # Any: RQ's scheduler is untyped
            self.queues,
            connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            serializer=self.serializer,
        )
        self.scheduler = scheduler
        self._break_dead_locks()
        scheduler.acquire_locks()
        if not scheduler.acquired_locks:
            return
        if not burst:
            scheduler.start()
            return
        try:
            scheduler.register_birth()
            scheduler.enqueue_scheduled_jobs()
        finally:
            scheduler.release_locks()
            scheduler.register_death()

    def run_maintenance_tasks(self) -> None:
        if self.scheduler is not None and (self.scheduler._process is None or not self.scheduler._process.is_alive()):
            self._break_dead_locks()
        super().run_maintenance_tasks()  # type: ignore[no-untyped-call]
        if self._maintenance is not None:
            try:
                self._maintenance()
            except Exception:
                log.exception("worker %s: maintenance failed", self.name)

    def _break_dead_locks(self) -> None:
        for queue in self.queues:
            break_dead_lock(self.connection, queue.name)


def break_dead_lock(connection: Redis, queue_name: str) -> bool:
    """Free the queue's scheduler lock when its scheduler ran on this machine and its
    process is gone; a scheduler elsewhere keeps its lock until it expires."""
    key = RQScheduler.get_locking_key(queue_name)
    holder = connection.get(key)
    if holder is None:
        return False
    name = holder.decode() if isinstance(holder, bytes) else str(holder)
    try:
        scheduler = RQScheduler.fetch(name, connection)
    except SchedulerNotFound:
        return False  # its process has not registered yet, or the lock expires with it
    if scheduler.hostname != socket.gethostname() or scheduler.pid <= 0 or _alive(scheduler.pid):
        return False
    if release_lock(connection, key, name):
        log.warning("the scheduler lock of %s was held by a dead process (%d): freed", queue_name, scheduler.pid)
        return True
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
