"""Storage on SQLite (WAL, locks taken up front) and on PostgreSQL when one answers."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from appmanage.enums import JobKind, JobState
from appmanage.jobs import records
from appmanage.storage.database import Database
from appmanage.storage.models import App, Job
from tests.support.databases import sqlite


def add_app(database: Database, name: str) -> None:
    with database.write() as session:
        session.add(App(name=name, catalog_app="hello", source="test", version="1"))


def one_unfinished_job_per_app(database: Database) -> None:
    add_app(database, "solo")
    with database.write() as session:
        first = records.new_job(session, "solo", JobKind.INSTALL)
    with pytest.raises(IntegrityError), database.write() as session:
        records.new_job(session, "solo", JobKind.STOP)
    records.finish(database, first.id, JobState.SUCCEEDED)
    with database.write() as session:
        records.new_job(session, "solo", JobKind.STOP)
    with database.read() as session:
        assert session.query(Job).filter_by(app_name="solo").count() == 2


def test_sqlite_is_in_wal_mode_and_private(tmp_path: Path) -> None:
    database = sqlite(tmp_path)
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    database.dispose()


def test_one_unfinished_job_per_app(database: Database) -> None:
    one_unfinished_job_per_app(database)


def test_writers_wait_for_each_other_instead_of_failing(database: Database) -> None:
    """Twenty threads, each reading then writing in one transaction: with the lock taken
    up front no one sees "database is locked" or loses an update."""
    add_app(database, "counter")
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(10):
                with database.write() as session:
                    app = session.get(App, "counter")
                    assert app is not None
                    app.version = str(int(app.version) + 1)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with database.read() as session:
        app = session.get(App, "counter")
        assert app is not None and app.version == "201"
