"""The database's clock: the one clock every process judges heartbeats by.

Each host's wall clock may differ from the others or step (at boot, by NTP); the database
is shared, so times written and compared through it agree whatever host asks.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

_NOW = {
    "sqlite": "SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')",
    "postgresql": "SELECT statement_timestamp() AT TIME ZONE 'UTC'",
}


def database_now(session: Session) -> datetime:
    """The database's current time, as an aware UTC datetime."""
    dialect = session.get_bind().dialect.name
    value = session.execute(text(_NOW[dialect])).scalar_one()
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    return moment.replace(tzinfo=UTC)
