"""A worker's sign of life: the Redis key `<namespace>:worker:<host:pid>`, refreshed every
REFRESH_SECONDS with a TTL of KEY_TTL_SECONDS, holding the id of the job the worker runs
("" when idle).

A thread of its own refreshes it, apart from the database writes of the job's heartbeat,
so a heartbeat that waits behind a database lock does not make a live worker look dead.
The key's TTL is measured by Redis's clock, the heartbeat by the database's: no host's
wall clock takes part. Recovery (`jobs/recovery.py`) reads the key before failing a job.
"""

from __future__ import annotations

import contextlib
import logging
import threading

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

KEY_TTL_SECONDS = 6
REFRESH_SECONDS = 2.0


def liveness_key(namespace: str, worker: str) -> str:
    return f"{namespace}:worker:{worker}"


class Liveness:
    """The sign of life of one worker process."""

    def __init__(self, redis: Redis, namespace: str, worker: str) -> None:
        self.key = liveness_key(namespace, worker)
        self._redis = redis
        self._job_id = ""
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def running(self, job_id: str | None) -> None:
        """The job this process runs now (None: none); the key says so at once."""
        self._job_id = job_id or ""
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._refresh, name="liveness", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with contextlib.suppress(RedisError):
            self._redis.delete(self.key)

    def _refresh(self) -> None:
        while not self._stopping.is_set():
            try:
                self._redis.set(self.key, self._job_id, ex=KEY_TTL_SECONDS)
            except RedisError as exc:
                log.warning("sign of life not written to Redis: %s", exc)
            self._wake.wait(REFRESH_SECONDS)
            self._wake.clear()


def worker_running(redis: Redis, namespace: str, worker: str) -> str | None:
    """The id of the job `worker` runs ("" when idle), or None when its key is gone.
    Raises RedisError when Redis does not answer."""
    value = redis.get(liveness_key(namespace, worker))
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)
