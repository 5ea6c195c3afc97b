"""What a running operation sees: its job, its app's settings, and where to report to."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from appmanage.catalog.model import CatalogApp
from appmanage.errors import NotFound
from appmanage.jobs import records
from appmanage.services import Services
from appmanage.storage import queries
from appmanage.storage.models import Job

CANCEL_CHECK_SECONDS = 0.5
SAVE_SECONDS = 0.1
MASK = "********"


def job_payload(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "app": job.app_name,
        "kind": job.kind.value,
        "state": job.state.value,
        "step": job.step,
        "progress": job.progress,
        "error": job.error,
        "worker": job.worker,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


class JobCanceled(Exception):
    pass


@dataclass
class JobContext:
    services: Services
    job: Job
    secrets: set[str] = field(default_factory=set)
    _last_cancel_check: float = 0.0
    _canceled: bool = False
    _unsaved: list[str] = field(default_factory=list)
    _saved_at: float = 0.0

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
        self.secrets.update(v for v in values if len(v) >= 4)

    def mask(self, line: str) -> str:
        for secret in self.secrets:
            line = line.replace(secret, MASK)
        return line

    def log(self, line: str) -> None:
        """Live subscribers get each line at once; the database gets them in batches."""
        text = self.mask(line)
        self._unsaved.append(text)
        self.services.events.publish("job", {"job": job_payload(self.job), "line": text})
        if time.monotonic() - self._saved_at >= SAVE_SECONDS:
            self.save_log()

    def save_log(self) -> None:
        self._saved_at = time.monotonic()
        if self._unsaved:
            lines, self._unsaved = self._unsaved, []
            with self.services.db.write() as session:
                queries.add_log_lines(session, self.job.id, lines)

    def step(self, name: str, progress: float | None = None) -> None:
        updated = records.set_step(self.services.db, self.job.id, name, progress)
        if updated is not None:
            self.job = updated
        self.log(f"» {name}")

    def should_cancel(self) -> bool:
        self.save_log()
        now = time.monotonic()
        if not self._canceled and now - self._last_cancel_check >= CANCEL_CHECK_SECONDS:
            self._last_cancel_check = now
            self._canceled = records.cancel_requested(self.services.db, self.job.id)
        return self._canceled

    def check_canceled(self) -> None:
        if self.should_cancel():
            raise JobCanceled("canceled")
