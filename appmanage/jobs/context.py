"""What a running operation sees: its job, its app's settings, and where to report to.

Log lines go to the database in batches (every SAVE_SECONDS) and to the event stream in
batches too: one stream entry carries the lines of up to PUBLISH_SECONDS or PUBLISH_LINES,
so a verbose pull cannot evict the rest of the capped stream (subscriptions unpack the
lines again, in order: `events.unpack`). Secrets are masked first (`jobs/masking.py`).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rq.timeouts import JobTimeoutException
from sqlalchemy.exc import DBAPIError

from appmanage.catalog.model import CatalogApp
from appmanage.errors import NotFound
from appmanage.job_record import JobRecord
from appmanage.jobs import records
from appmanage.jobs.masking import MASK, SecretMask
from appmanage.services import Services
from appmanage.storage import queries
from appmanage.storage.models import Job

__all__ = ["MASK", "JobCanceled", "JobContext", "disarm_job_timeout", "failure_text", "job_payload"]

log = logging.getLogger(__name__)

CANCEL_CHECK_SECONDS = 0.5
SAVE_SECONDS = 0.1
PUBLISH_SECONDS = 0.1
PUBLISH_LINES = 500
SAVE_ATTEMPTS = 2  # a batch of lines that fails this often is given up


def job_payload(job: Job) -> dict[str, Any]:
    """The job as event streams carry it (`JobRecord`, the one translation of a job)."""
    return JobRecord.from_row(job).to_json()


class JobCanceled(Exception):
    pass


def failure_text(exc: BaseException) -> str:
    """How a job step ended, for its row and its log."""
    if isinstance(exc, JobTimeoutException):
        return f"timed out: the job ran longer than RQ allows it ({exc}; see APPMANAGE_JOB_TIMEOUT)"
    if isinstance(exc, DBAPIError):
        return f"database error: {exc.orig}"
    if isinstance(exc, Exception):
        return str(exc) or type(exc).__name__
    return f"interrupted ({type(exc).__name__}): the worker was stopped"


def disarm_job_timeout() -> None:
    """RQ's timer (SIGALRM in the worker's main thread) no longer applies: what follows
    (a rollback, recording the end) must run to its end."""
    if threading.current_thread() is threading.main_thread():
        signal.alarm(0)


@dataclass
class JobContext:
    services: Services
    job: Job
    mask: SecretMask = field(default_factory=SecretMask)
    _last_cancel_check: float = 0.0
    _canceled: bool = False
    _unsaved: list[str] = field(default_factory=list)
    _saved_at: float = 0.0
    _failed_saves: int = 0
    _unpublished: list[str] = field(default_factory=list)
    _published_at: float = 0.0

    @property
    def app_name(self) -> str:
        return self.job.app_name

    @property
    def params(self) -> dict[str, Any]:
        return self.job.params

    def catalog_app(self, name: str) -> CatalogApp:
        app = self.services.catalog.get(name)
        if app is None:
            raise NotFound(f"catalog app {name} is no longer in the catalog")
        return app

    def hide(self, values: Iterable[str]) -> None:
        self.mask.add(values)

    def log(self, line: str) -> None:
        """Subscribers get the lines within PUBLISH_SECONDS, the database within SAVE_SECONDS."""
        text = self.mask(line)
        self._unsaved.append(text)
        self._unpublished.append(text)
        self.flush(force=False)

    def log_quietly(self, line: str) -> None:
        """A log line that may be lost but never raises: for the way out of a failure."""
        try:
            self.log(line)
        except Exception as exc:
            log.warning("job %s: a log line was not saved: %s", self.job.id, exc)

    def flush(self, force: bool = True) -> None:
        """Publish and save the pending lines (when due, unless forced)."""
        now = time.monotonic()
        if self._unpublished and (
            force or len(self._unpublished) >= PUBLISH_LINES or now - self._published_at >= PUBLISH_SECONDS
        ):
            self.publish_lines()
        if force or now - self._saved_at >= SAVE_SECONDS:
            self.save_log()

    def publish_lines(self) -> None:
        self._published_at = time.monotonic()
        if self._unpublished:
            lines, self._unpublished = self._unpublished, []
            self.services.stream.publish("job", {"job": job_payload(self.job), "lines": lines})

    def save_log(self) -> None:
        """Lines a failed write could not save stay pending for the next one, SAVE_ATTEMPTS
        times in all; the error goes up to the operation, which ends or rolls back."""
        self._saved_at = time.monotonic()
        if self._unsaved:
            lines, self._unsaved = self._unsaved, []
            try:
                with self.services.db.write() as session:
                    queries.add_log_lines(session, self.job.id, lines)
            except BaseException:
                self._failed_saves += 1
                if self._failed_saves < SAVE_ATTEMPTS:
                    self._unsaved[:0] = lines
                else:
                    self._failed_saves = 0
                    log.warning("job %s: %d log lines could not be saved and are dropped", self.job.id, len(lines))
                raise
            self._failed_saves = 0

    def step(self, name: str, progress: float | None = None) -> None:
        self.publish_lines()  # the lines before the step carry the job as it was
        updated = records.set_step(self.services.db, self.job.id, name, progress)
        if updated is not None:
            self.job = updated
        self.log(f"» {name}")

    def should_cancel(self) -> bool:
        self.flush(force=False)
        now = time.monotonic()
        if not self._canceled and now - self._last_cancel_check >= CANCEL_CHECK_SECONDS:
            self._last_cancel_check = now
            self._canceled = records.cancel_requested(self.services.db, self.job.id)
        return self._canceled

    def check_canceled(self) -> None:
        if self.should_cancel():
            raise JobCanceled("canceled")
