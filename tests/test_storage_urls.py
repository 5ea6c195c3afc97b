"""Database URLs: every spelling of PostgreSQL reaches psycopg 3 with its query parameters;
`appmanage migrate` prepares a PostgreSQL database; the database's clock on both backends."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from appmanage.config import Settings
from appmanage.storage.clock import database_now
from appmanage.storage.database import Database
from appmanage.storage.urls import DatabaseUrlError, normalise_database_url
from tests.support.databases import private_postgres_url


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg"])
def test_every_postgres_spelling_means_psycopg_with_its_query_kept(scheme: str) -> None:
    url = f"{scheme}://app:s%40cret@db.example:6432/appmanage?sslmode=verify-full&sslrootcert=/etc/ca.pem"
    normal = make_url(normalise_database_url(url))
    assert normal.drivername == "postgresql+psycopg"
    assert (normal.username, normal.password, normal.host, normal.port) == ("app", "s@cret", "db.example", 6432)
    assert dict(normal.query) == {"sslmode": "verify-full", "sslrootcert": "/etc/ca.pem"}


def test_unsupported_urls_are_refused_without_echoing_them(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUrlError, match="scheme 'mysql' is not supported") as refused:
        Settings(data_dir=tmp_path, database_url="mysql://app:hunter2@db/appmanage")
    assert "hunter2" not in str(refused.value)
    with pytest.raises(DatabaseUrlError, match="not a database URL") as garbage:
        Settings(data_dir=tmp_path, database_url="app:hunter2@db")
    assert "hunter2" not in str(garbage.value)
    assert "hunter2" not in repr(Settings(data_dir=tmp_path, database_url="postgresql://app:hunter2@db/x"))


def test_a_plain_postgresql_url_connects_and_hands_its_parameters_to_libpq() -> None:
    with private_postgres_url() as url:
        plain = make_url(url).set(drivername="postgresql").update_query_dict({"application_name": "appmanage-t"})
        database = Database(plain.render_as_string(hide_password=False))
        try:
            with database.engine.connect() as connection:
                assert connection.execute(text("SHOW application_name")).scalar_one() == "appmanage-t"
        finally:
            database.dispose()
        require_tls = Database(plain.update_query_dict({"sslmode": "require"}).render_as_string(hide_password=False))
        try:
            ssl_on = Database(url)
            with ssl_on.engine.connect() as connection:
                server_has_tls = connection.execute(text("SHOW ssl")).scalar_one() == "on"
            ssl_on.dispose()
            if server_has_tls:
                with require_tls.engine.connect() as connection:
                    assert connection.execute(text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).scalar()
            else:
                with pytest.raises(OperationalError, match="SSL"), require_tls.engine.connect():
                    pass
        finally:
            require_tls.dispose()


def test_appmanage_migrate_prepares_a_postgres_database(tmp_path: Path) -> None:
    with private_postgres_url() as url:
        plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        env = {**os.environ, "APPMANAGE_DATA_DIR": str(tmp_path), "APPMANAGE_DATABASE_URL": plain}
        for _ in range(2):  # and again: nothing left to do
            subprocess.run([sys.executable, "-m", "appmanage", "migrate"], env=env, check=True, timeout=60)
        database = Database(url)
        try:
            with database.engine.connect() as connection:
                tables = set(inspect(connection).get_table_names())
                indexes = {index["name"] for index in inspect(connection).get_indexes("jobs")}
            assert {"apps", "jobs", "job_log_lines", "api_tokens", "alembic_version"} <= tables
            assert "ix_jobs_one_unfinished_per_app" in indexes
        finally:
            database.dispose()


def test_appmanage_refuses_an_unsupported_database_url(tmp_path: Path) -> None:
    env = {**os.environ, "APPMANAGE_DATA_DIR": str(tmp_path), "APPMANAGE_DATABASE_URL": "mysql://u:hunter2@db/x"}
    done = subprocess.run(
        [sys.executable, "-m", "appmanage", "migrate"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "APPMANAGE_DATABASE_URL scheme 'mysql' is not supported" in done.stderr
    assert "hunter2" not in done.stderr


def test_the_database_clock_is_aware_utc_and_now(database: Database) -> None:
    with database.read() as session:
        moment = database_now(session)
    assert moment.tzinfo is UTC
    assert abs(moment - datetime.now(UTC)) < timedelta(seconds=5)


@pytest.mark.parametrize("url", ["sqlite:///:memory:", "sqlite:////srv/a@b/c:d.db", "sqlite+pysqlite:///x.db"])
def test_sqlite_urls_are_kept_as_written(url: str) -> None:
    assert normalise_database_url(url) == url
