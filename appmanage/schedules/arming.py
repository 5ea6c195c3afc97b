"""A schedule's next tick in RQ: a job in the ScheduledJobRegistry of its app's host queue,
moved onto the queue when due by RQ's scheduler (`jobs/scheduling_worker.py`).

A tick's RQ job id is the schedule's id and the tick's time, and it is armed with RQ's
`unique`: arming the same tick twice (the tick before arms it, recovery arms it again
from the table) leaves one job. Arming again is therefore safe
at any time, and is how the ticks come back when Redis lost them.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime

from redis import Redis
from redis.exceptions import RedisError
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job as RQJob
from sqlalchemy import select

from appmanage.jobs.queue import job_queue
from appmanage.schedules.cron import next_tick
from appmanage.services import Services
from appmanage.storage.models import App, Schedule, utcnow

TICK_FUNCTION = "appmanage.schedules.tick.run"
TICK_TIMEOUT = 120
TICK_RESULT_TTL = 3600

log = logging.getLogger(__name__)


def tick_id(namespace: str, schedule_id: str, at: datetime) -> str:
    return f"{namespace}-schedule-{schedule_id}-{int(at.timestamp())}"


def arm(redis: Redis, namespace: str, host: str, schedule_id: str, at: datetime) -> bool:
    """Arm the tick at `at`; False when it was armed already."""
    try:
        job_queue(redis, namespace, host).enqueue_at(
            at,
            TICK_FUNCTION,
            args=(schedule_id, at.isoformat()),
            job_id=tick_id(namespace, schedule_id, at),
            unique=True,
            job_timeout=TICK_TIMEOUT,
            result_ttl=TICK_RESULT_TTL,
            failure_ttl=TICK_RESULT_TTL,
            description=f"appmanage schedule {schedule_id} tick {at.isoformat()}",
        )
    except DuplicateJobError:
        return False
    return True


def disarm(redis: Redis, namespace: str, schedule_id: str, at: datetime | None) -> None:
    """Best effort: a tick left armed finds its schedule gone and does nothing."""
    if at is None:
        return
    with contextlib.suppress(NoSuchJobError, RedisError):
        RQJob.fetch(tick_id(namespace, schedule_id, at), connection=redis).delete()


def arm_schedules(services: Services, host: str | None = None) -> int:
    """Arm the next tick of every schedule of the apps of `host` (all hosts: None) from the
    table; the number newly armed. Ticks missed while nothing ran are not made up."""
    with services.db.read() as session:
        query = select(Schedule, App.host).join(App, App.name == Schedule.app_name)
        if host is not None:
            query = query.where(App.host == host)
        rows = [(schedule, app_host) for schedule, app_host in session.execute(query)]
    now, namespace, armed, moved = utcnow(), services.settings.namespace, 0, {}
    ticks = [next_tick(schedule.cron, max(now, schedule.last_run_at or now)) for schedule, _ in rows]
    with services.redis.pipeline(transaction=False) as pipeline:
        for (schedule, _), at in zip(rows, ticks, strict=True):
            pipeline.exists(RQJob.key_for(tick_id(namespace, schedule.id, at)))
        present = pipeline.execute() if rows else []
    for (schedule, app_host), at, known in zip(rows, ticks, present, strict=True):
        if not known and arm(services.redis, namespace, app_host, schedule.id, at):
            armed += 1
        if schedule.next_run_at != at:
            moved[schedule.id] = at
    if moved:
        with services.db.write() as session:
            for schedule_id, at in moved.items():
                found = session.get(Schedule, schedule_id)
                if found is not None and (found.next_run_at is None or found.next_run_at < at):
                    found.next_run_at = at
    if armed:
        log.info("armed %d schedule tick(s) again", armed)
    return armed


def rearm(services: Services) -> None:
    """`arm_schedules` for this process's host, from recovery (`jobs/recovery.py`): a
    failure is logged, and the next pass tries again."""
    try:
        arm_schedules(services, services.settings.agent_host)
    except Exception as exc:
        log.warning("schedules not armed again: %s", exc)
