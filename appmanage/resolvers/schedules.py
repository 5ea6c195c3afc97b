"""Schedules: list, make, remove (`apps/schedules.py`), each in a thread."""

from __future__ import annotations

from asyncio import to_thread

from appmanage.apps import schedules
from appmanage.apps.schedules import ScheduleView
from appmanage.enums import JobKind
from appmanage.services import Services


async def list_schedules(services: Services, app: str | None) -> list[ScheduleView]:
    return await to_thread(schedules.list_schedules, services, app)


async def schedule_job(services: Services, app: str, kind: JobKind, cron: str) -> ScheduleView:
    return await to_thread(schedules.create_schedule, services, app, kind, cron)


async def unschedule_job(services: Services, schedule_id: str) -> ScheduleView:
    return await to_thread(schedules.delete_schedule, services, schedule_id)
