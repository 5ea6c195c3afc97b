"""A running job's heartbeat: a thread beside the job writes `heartbeat_at` in the
database's clock every HEARTBEAT_SECONDS; while it beats, recovery never fails the job."""

from __future__ import annotations

import logging
import threading

from appmanage.jobs import records
from appmanage.services import Services

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0


def keep_alive(services: Services, job_id: str, stopping: threading.Event) -> threading.Thread:
    """Beat until `stopping` is set."""

    def beat() -> None:
        while not stopping.wait(HEARTBEAT_SECONDS):
            try:
                records.beat(services.db, job_id)
            except Exception as exc:
                log.warning("heartbeat of job %s missed: %s", job_id, exc)

    thread = threading.Thread(target=beat, name=f"heartbeat-{job_id}", daemon=True)
    thread.start()
    return thread
