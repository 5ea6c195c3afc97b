"""Make and remove schedules (the API's side): the app and the cron are checked, the row is
written, and its first tick is armed (`schedules/arming.py`). When Redis does not answer,
the row stays and a worker arms it from the table at its next maintenance."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from redis.exceptions import RedisError
from sqlalchemy import select

from appmanage.enums import JobKind
from appmanage.errors import NotFound, ValidationFailed
from appmanage.schedules.arming import arm, disarm
from appmanage.schedules.cron import checked_cron, next_tick
from appmanage.schedules.rows import schedules_of
from appmanage.services import Services
from appmanage.storage.models import App, Job, Schedule, utcnow

SCHEDULABLE = (JobKind.BACKUP, JobKind.RESTART, JobKind.UPDATE)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScheduleView:
    schedule: Schedule
    last_job: Job | None


def create_schedule(services: Services, app_name: str, kind: JobKind, cron: str) -> ScheduleView:
    if kind not in SCHEDULABLE:
        raise ValidationFailed(f"{kind.value} cannot be scheduled", field="kind")
    cron = checked_cron(cron, services.settings.schedule_seconds)
    with services.db.write() as session:
        app = session.get(App, app_name)
        if app is None:
            raise NotFound(f"no app is named {app_name}")
        if kind is JobKind.UPDATE and app.catalog_app is None:
            raise ValidationFailed(
                f"{app_name} is a custom compose app: there is no version to update to", field="kind"
            )
        now = utcnow()
        schedule = Schedule(
            id=uuid.uuid4().hex,
            app_name=app_name,
            kind=kind,
            cron=cron,
            next_run_at=next_tick(cron, now),
            created_at=now,
        )
        session.add(schedule)
        host = app.host
    assert schedule.next_run_at is not None
    try:
        arm(services.redis, services.settings.namespace, host, schedule.id, schedule.next_run_at)
    except RedisError as exc:
        log.warning("schedule %s is armed by a worker once Redis answers: %s", schedule.id, exc)
    return ScheduleView(schedule, None)


def delete_schedule(services: Services, schedule_id: str) -> ScheduleView:
    with services.db.write() as session:
        schedule = session.get(Schedule, schedule_id)
        if schedule is None:
            raise NotFound(f"no schedule has the id {schedule_id}")
        session.delete(schedule)
        last_job = session.get(Job, schedule.last_job_id) if schedule.last_job_id else None
    disarm(services.redis, services.settings.namespace, schedule.id, schedule.next_run_at)
    return ScheduleView(schedule, last_job)


def list_schedules(services: Services, app_name: str | None = None) -> list[ScheduleView]:
    with services.db.read() as session:
        schedules = schedules_of(session, app_name)
        job_ids = [s.last_job_id for s in schedules if s.last_job_id]
        jobs = {j.id: j for j in session.scalars(select(Job).where(Job.id.in_(job_ids)))} if job_ids else {}
    return [ScheduleView(s, jobs.get(s.last_job_id or "")) for s in schedules]
