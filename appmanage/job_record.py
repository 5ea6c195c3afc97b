"""A job as the API and subscribers see it: one typed record, built from the Job row or
from an event's JSON, and turned into the GraphQL Job type in one place (schema/jobs.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from appmanage.enums import JobKind, JobState
from appmanage.storage.models import Job


@dataclass(frozen=True)
class JobRecord:
    id: str
    app: str
    kind: JobKind
    state: JobState
    step: str | None
    progress: float | None
    error: str | None
    worker: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def from_row(cls, job: Job) -> JobRecord:
        return cls(
            id=job.id,
            app=job.app_name,
            kind=job.kind,
            state=job.state,
            step=job.step,
            progress=job.progress,
            error=job.error,
            worker=job.worker,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "app": self.app,
            "kind": self.kind.value,
            "state": self.state.value,
            "step": self.step,
            "progress": self.progress,
            "error": self.error,
            "worker": self.worker,
            "created_at": self.created_at.isoformat(),
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobRecord:
        return cls(
            id=data["id"],
            app=data["app"],
            kind=JobKind(data["kind"]),
            state=JobState(data["state"]),
            step=data.get("step"),
            progress=data.get("progress"),
            error=data.get("error"),
            worker=data.get("worker"),
            created_at=datetime.fromisoformat(data["created_at"]),
            started_at=_when(data.get("started_at")),
            finished_at=_when(data.get("finished_at")),
        )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
