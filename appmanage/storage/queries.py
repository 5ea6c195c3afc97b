"""Reads and writes shared by the API and the workers."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from appmanage.enums import JobState
from appmanage.storage.models import App, Job, JobLogLine

UNFINISHED_STATES = (JobState.QUEUED, JobState.RUNNING)


def list_apps(session: Session, names: Collection[str] | None = None) -> list[App]:
    query = select(App).order_by(App.name)
    if names is not None:
        query = query.where(App.name.in_(names))
    return list(session.scalars(query))


def unfinished_jobs(session: Session, names: Collection[str] | None = None) -> dict[str, Job]:
    query = select(Job).where(Job.state.in_(UNFINISHED_STATES))
    if names is not None:
        query = query.where(Job.app_name.in_(names))
    return {job.app_name: job for job in session.scalars(query)}


def last_finished_jobs(session: Session, names: Collection[str]) -> dict[str, Job]:
    if not names:
        return {}
    newest = (
        select(Job.app_name, func.max(Job.created_at).label("created_at"))
        .where(Job.app_name.in_(names), Job.state.not_in(UNFINISHED_STATES))
        .group_by(Job.app_name)
        .subquery()
    )
    query = select(Job).join(newest, (Job.app_name == newest.c.app_name) & (Job.created_at == newest.c.created_at))
    return {job.app_name: job for job in session.scalars(query)}


def app_jobs(session: Session, name: str, first: int) -> list[Job]:
    query = select(Job).where(Job.app_name == name).order_by(Job.created_at.desc()).limit(first)
    return list(session.scalars(query))


def job_log(session: Session, job_id: str, tail: int | None = None) -> list[str]:
    query = select(JobLogLine.line).where(JobLogLine.job_id == job_id)
    if tail is not None:
        query = query.order_by(JobLogLine.id.desc()).limit(max(tail, 0))
        return list(reversed(session.scalars(query).all()))
    return list(session.scalars(query.order_by(JobLogLine.id)))


def ports_in_use_by_apps(session: Session, except_app: str | None = None) -> dict[int, str]:
    owners: dict[int, str] = {}
    for name, ports in session.execute(select(App.name, App.host_ports)):
        if name != except_app:
            owners.update({int(port): name for port in ports or ()})
    return owners


def add_log_lines(session: Session, job_id: str, lines: Sequence[str]) -> None:
    session.add_all(JobLogLine(job_id=job_id, line=line) for line in lines)
