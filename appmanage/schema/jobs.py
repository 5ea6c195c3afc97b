"""The GraphQL Job type, built from a `JobRecord` in one place."""

from __future__ import annotations

from datetime import datetime

import strawberry

from appmanage.job_record import JobRecord
from appmanage.resolvers.jobs import job_log
from appmanage.schema.context import Info
from appmanage.schema.enums import JobKind, JobState
from appmanage.storage import models


@strawberry.type
class Job:
    id: strawberry.ID
    app: str
    kind: JobKind
    state: JobState
    step: str | None
    progress: float | None
    error: str | None
    worker: str | None = strawberry.field(description="host:pid of the worker that runs or ran it.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @strawberry.field(description="The job's log lines, oldest first; the last `tail` when given.")
    async def log(self, info: Info, tail: int | None = None) -> list[str]:
        return await job_log(info.context.services, str(self.id), tail)

    @classmethod
    def from_record(cls, job: JobRecord) -> Job:
        return cls(
            id=strawberry.ID(job.id),
            app=job.app,
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

    @classmethod
    def from_row(cls, job: models.Job) -> Job:
        return cls.from_record(JobRecord.from_row(job))
