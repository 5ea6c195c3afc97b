"""A host's durable settings in the database: its row, the drain flag, its app count."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from appmanage.storage.database import Database
from appmanage.storage.models import App, Host


def host_rows(db: Database) -> dict[str, Host]:
    with db.read() as session:
        return {row.name: row for row in session.scalars(select(Host))}


def register_host(db: Database, name: str) -> None:
    """The host's row, created on its agent's first start (kept as it is afterwards)."""
    try:
        with db.write() as session:
            if session.get(Host, name) is None:
                session.add(Host(name=name))
    except IntegrityError:
        pass  # another process registered it at the same moment


def set_draining(db: Database, name: str, draining: bool) -> Host:
    with db.write() as session:
        row = session.get(Host, name)
        if row is None:
            row = Host(name=name)
            session.add(row)
        row.draining = draining
        session.flush()
        session.refresh(row)
        return row


def app_counts(db: Database) -> dict[str, int]:
    with db.read() as session:
        rows = session.execute(select(App.host, func.count()).group_by(App.host))
        return {host: count for host, count in rows}
