"""Schedules over GraphQL: `schedules(app)` (VIEWER), `scheduleJob` and `unscheduleJob`
(OPERATOR). A schedule's cron is in UTC; each tick it fires is an ordinary job."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import strawberry

from appmanage.apps.schedules import ScheduleView
from appmanage.enums import JobKind
from appmanage.errors import AppManageError
from appmanage.resolvers import schedules
from appmanage.schema.context import Info
from appmanage.schema.errors import NotFoundError, ValidationError, error_result
from appmanage.schema.jobs import Job
from appmanage.schema.permissions import CanOperate, CanView


@strawberry.enum(description="The kinds of job a schedule may run.")
class ScheduleKind(StrEnum):
    BACKUP = "BACKUP"
    """A backup with the app stopped for the copy."""
    RESTART = "RESTART"
    UPDATE = "UPDATE"
    """To the catalog app's default version; a tick finding the app there starts nothing."""


@strawberry.type(description="A job run on a cron schedule (UTC).")
class Schedule:
    id: strawberry.ID
    app: str
    kind: ScheduleKind
    cron: str
    next_run_at: datetime | None
    last_run_at: datetime | None = strawberry.field(description="The last tick, whether it started a job or not.")
    last_job: Job | None = strawberry.field(description="The last job a tick started (None once retention took it).")
    last_error: str | None = strawberry.field(description="Why the last tick started no job; null when it did.")
    created_at: datetime

    @classmethod
    def from_view(cls, view: ScheduleView) -> Schedule:
        row = view.schedule
        return cls(
            id=strawberry.ID(row.id),
            app=row.app_name,
            kind=ScheduleKind(row.kind.value),
            cron=row.cron,
            next_run_at=row.next_run_at,
            last_run_at=row.last_run_at,
            last_job=Job.from_row(view.last_job) if view.last_job is not None else None,
            last_error=row.last_error,
            created_at=row.created_at,
        )


ScheduleJobResult = Annotated[Schedule | ValidationError | NotFoundError, strawberry.union("ScheduleJobResult")]
UnscheduleJobResult = Annotated[Schedule | NotFoundError, strawberry.union("UnscheduleJobResult")]


@strawberry.type
class SchedulesQuery:
    @strawberry.field(permission_classes=[CanView], description="The schedules of an app, or of every app.")
    async def schedules(self, info: Info, app: str | None = None) -> list[Schedule]:
        return [Schedule.from_view(v) for v in await schedules.list_schedules(info.context.services, app)]


@strawberry.type
class SchedulesMutation:
    @strawberry.mutation(
        permission_classes=[CanOperate],
        description="Run a job of the app on a cron schedule (five fields, UTC; at most once a minute).",
    )
    async def schedule_job(self, info: Info, app: str, kind: ScheduleKind, cron: str) -> ScheduleJobResult:
        try:
            view = await schedules.schedule_job(info.context.services, app, JobKind(kind.value), cron)
        except AppManageError as exc:
            return error_result(exc, ValidationError, NotFoundError)
        return Schedule.from_view(view)

    @strawberry.mutation(permission_classes=[CanOperate], description="Remove a schedule; its job in flight goes on.")
    async def unschedule_job(self, info: Info, id: strawberry.ID) -> UnscheduleJobResult:
        try:
            return Schedule.from_view(await schedules.unschedule_job(info.context.services, str(id)))
        except AppManageError as exc:
            return error_result(exc, NotFoundError)
