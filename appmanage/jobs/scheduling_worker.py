"""The RQ worker with RQ's own scheduler (`rq.scheduler.RQScheduler`), which moves the jobs
due in a queue's ScheduledJobRegistry (a schedule's ticks, `appmanage/schedules/`) onto
the queue. One scheduler per queue runs, however many workers: each worker tries to take
the queue's scheduler lock, and the one that holds it forks the scheduler process.

Beside RQ's own, this worker binds that process to its life (it is SIGKILLed when the
worker dies, like the agent's children), gives it its own name, breaks the lock of a
scheduler of this machine whose process is gone (else the queue waits out the lock's
minute), and looks for a free lock every MAINTENANCE_SECONDS, not every ten minutes.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
from collections.abc import Callable
from multiprocessing import get_context
from multiprocessing.process import BaseProcess
from typing import Any

from redis import Redis
from rq import SimpleWorker
from rq.exceptions import SchedulerNotFound
from rq.scheduler import RQScheduler
from rq.scheduler import run as run_scheduler
from rq.scripts import release_lock

MAINTENANCE_SECONDS = 10
PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15

log = logging.getLogger(__name__)


class BoundScheduler(RQScheduler):
    """RQ's scheduler, in a process that dies with the worker that forked it."""

    def start(self) -> BaseProcess:
        self._status = self.Status.STARTED
        self._connection = None  # a connection is not shared across the fork
        process = get_context("fork").Process(target=_run_bound, args=(self, os.getpid()), name="Scheduler")
        process.start()
        self._process = process  # type: ignore[assignment]  # RQ leaves the attribute untyped
        return process


def _run_bound(scheduler: Any, parent: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        libc.prctl(PR_SET_NAME, b"rq scheduler")
    if os.getppid() != parent:  # the worker died before prctl took effect
        os._exit(1)
    run_scheduler(scheduler)  # type: ignore[no-untyped-call]


class SchedulingWorker(SimpleWorker):
    """`maintenance` runs with RQ's maintenance, in the worker's loop between jobs."""

    def __init__(self, *args: Any, maintenance: Callable[[], None] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("maintenance_interval", MAINTENANCE_SECONDS)
        super().__init__(*args, **kwargs)
        self._maintenance = maintenance

    def _start_scheduler(
        self, burst: bool = False, logging_level: str | None = "INFO", *args: Any, **kwargs: Any
    ) -> None:
        """RQ's, with a BoundScheduler."""
        scheduler: Any = BoundScheduler(  # Any: RQ's scheduler is untyped
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
