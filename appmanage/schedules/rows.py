"""The schedules' rows: those of an app, and their end with it (its uninstall)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from appmanage.storage.models import Schedule


def schedules_of(session: Session, app_name: str | None = None) -> list[Schedule]:
    """Of one app, or of all (None), oldest first."""
    query = select(Schedule).order_by(Schedule.created_at, Schedule.id)
    if app_name is not None:
        query = query.where(Schedule.app_name == app_name)
    return list(session.scalars(query))


def forget_schedules(session: Session, app_name: str) -> None:
    """In the transaction that deletes the app: its armed ticks then find no schedule."""
    session.execute(delete(Schedule).where(Schedule.app_name == app_name))
