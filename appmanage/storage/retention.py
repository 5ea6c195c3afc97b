"""Retention: finished jobs and their log lines are deleted once they are old enough.

Unfinished jobs are never touched, nor the last finished job of an app that still
exists (its status may rest on it: "the last install failed"). Deletes go in small
batches, each its own short transaction, so workers' writes never wait long behind them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Select, and_, delete, func, select

from appmanage.storage.clock import database_now
from appmanage.storage.database import Database
from appmanage.storage.models import App, Job, JobLogLine
from appmanage.storage.queries import UNFINISHED_STATES

JOB_BATCH = 100
LINE_BATCH = 5_000


def prune_finished_jobs(db: Database, older_than: timedelta) -> int:
    """Delete the finished jobs older than `older_than` (by the database's clock) and their
    lines; returns how many jobs went."""
    pruned = 0
    while True:
        with db.write() as session:
            cutoff = database_now(session) - older_than
            job_ids = list(session.scalars(_prunable(cutoff).limit(JOB_BATCH)))
        if not job_ids:
            return pruned
        _delete_lines(db, job_ids)
        with db.write() as session:
            session.execute(delete(Job).where(Job.id.in_(job_ids), Job.state.not_in(UNFINISHED_STATES)))
        pruned += len(job_ids)


def _prunable(cutoff: datetime) -> Select[str]:
    newest = (
        select(Job.app_name, func.max(Job.created_at).label("created_at"))
        .where(Job.state.not_in(UNFINISHED_STATES), Job.app_name.in_(select(App.name)))
        .group_by(Job.app_name)
        .subquery()
    )
    kept = (
        select(Job.id)
        .join(newest, and_(Job.app_name == newest.c.app_name, Job.created_at == newest.c.created_at))
        .where(Job.state.not_in(UNFINISHED_STATES))
    )
    return (
        select(Job.id)
        .where(
            Job.state.not_in(UNFINISHED_STATES),
            func.coalesce(Job.finished_at, Job.created_at) < cutoff,
            Job.id.not_in(kept),
        )
        .order_by(Job.created_at)
    )


def _delete_lines(db: Database, job_ids: list[str]) -> None:
    while True:
        with db.write() as session:
            chunk = select(JobLogLine.id).where(JobLogLine.job_id.in_(job_ids)).limit(LINE_BATCH)
            deleted = cast(
                CursorResult[Any],
                session.execute(delete(JobLogLine).where(JobLogLine.id.in_(chunk.scalar_subquery()))),
            )
        if deleted.rowcount < LINE_BATCH:
            return
