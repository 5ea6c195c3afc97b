"""The `app_stats_minutes` table: one period's averages written, an app's read back, old ones pruned."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select

from appmanage.storage.clock import database_now
from appmanage.storage.database import Database
from appmanage.storage.models import App, AppStatsMinute

KEEP = timedelta(days=7)


def write_period(db: Database, host: str, start: datetime, averages: Sequence[tuple[str, float, float]]) -> int:
    """(app, cpu %, memory bytes) of one period, for the apps of `host` (other compose
    projects on that engine are not ours); rewrites a period already written. Rows written."""
    with db.write() as session:
        ours = set(session.scalars(select(App.name).where(App.host == host)))
        rows = [AppStatsMinute(app=a, minute=start, host=host, cpu_percent=c, memory_bytes=m) for a, c, m in averages]
        rows = [r for r in rows if r.app in ours]
        if rows:
            session.execute(
                delete(AppStatsMinute).where(
                    AppStatsMinute.minute == start, AppStatsMinute.app.in_([r.app for r in rows])
                )
            )
            session.add_all(rows)
    return len(rows)


def app_history(db: Database, app: str, since: datetime, limit: int) -> list[AppStatsMinute]:
    """The app's periods from `since` on (none from before its install), oldest first."""
    with db.read() as session:
        created = session.scalar(select(App.created_at).where(App.name == app))
        if created is None:
            return []
        start = max(since, created - timedelta(minutes=1))
        query = (
            select(AppStatsMinute)
            .where(AppStatsMinute.app == app, AppStatsMinute.minute >= start)
            .order_by(AppStatsMinute.minute)
            .limit(limit)
        )
        return list(session.scalars(query))


def prune_history(db: Database, keep: timedelta = KEEP) -> int:
    with db.write() as session:
        cutoff = database_now(session) - keep
        result = cast(CursorResult[Any], session.execute(delete(AppStatsMinute).where(AppStatsMinute.minute < cutoff)))
    return result.rowcount
