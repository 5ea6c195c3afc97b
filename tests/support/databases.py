"""Databases for storage tests: a migrated SQLite file, and a private PostgreSQL database
per test (skipped when no PostgreSQL answers at 127.0.0.1:5432)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from appmanage.storage.database import Database

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def sqlite(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'appmanage.db'}")
    database.migrate()
    return database


@pytest.fixture
def postgres() -> Iterator[Database]:
    name = f"appmanage_test_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
    except OperationalError:
        pytest.skip("no PostgreSQL answers at 127.0.0.1:5432")
    database = Database(POSTGRES.rsplit("/", 1)[0] + f"/{name}")
    try:
        database.migrate()
        yield database
    finally:
        database.dispose()
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()
