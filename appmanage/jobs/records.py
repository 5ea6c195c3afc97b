"""The Job row's lifecycle: QUEUED → RUNNING → SUCCEEDED | FAILED | CANCELED.

Heartbeats are written in the database's clock (`storage/clock.py`), the clock recovery
judges them by.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from appmanage.enums import JobKind, JobState
from appmanage.storage.clock import database_now
from appmanage.storage.database import Database
from appmanage.storage.models import Job, utcnow


def new_job(session: Session, app_name: str, kind: JobKind, params: dict[str, Any] | None = None) -> Job:
    job = Job(
        id=uuid.uuid4().hex,
        app_name=app_name,
        kind=kind,
        state=JobState.QUEUED,
        params=params or {},
        step="queued",
        created_at=utcnow(),
    )
    session.add(job)
    session.flush()
    return job


def claim(db: Database, job_id: str, worker: str) -> Job | None:
    """QUEUED → RUNNING, once: a canceled or already claimed job is not run again."""
    with db.write() as session:
        job = session.get(Job, job_id)
        if job is None or job.state is not JobState.QUEUED or job.cancel_requested:
            return None
        job.state, job.worker = JobState.RUNNING, worker
        job.started_at = utcnow()
        job.heartbeat_at = database_now(session)
        return job


def set_step(db: Database, job_id: str, step: str, progress: float | None) -> Job | None:
    with db.write() as session:
        job = session.get(Job, job_id)
        if job is not None:
            job.step = step
            if progress is not None:
                job.progress = progress
            job.heartbeat_at = database_now(session)
        return job


def beat(db: Database, job_id: str) -> None:
    """A running job's heartbeat."""
    with db.write() as session:
        job = session.get(Job, job_id)
        if job is not None and job.state is JobState.RUNNING:
            job.heartbeat_at = database_now(session)


def finish(db: Database, job_id: str, state: JobState, error: str | None = None) -> Job | None:
    with db.write() as session:
        job = session.get(Job, job_id)
        if job is None or job.state.finished:
            return job
        job.state = state
        job.error = error
        job.finished_at = utcnow()
        job.step = state.value.lower()
        if state is JobState.SUCCEEDED:
            job.progress = 1.0
        return job


def cancel_requested(db: Database, job_id: str) -> bool:
    with db.read() as session:
        job = session.get(Job, job_id)
        return job is None or job.cancel_requested
