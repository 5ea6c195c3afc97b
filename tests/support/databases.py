"""Databases for storage tests: a migrated SQLite file, and a private PostgreSQL database
per test, created with a unique name and dropped afterwards even when the test fails.

`database_url` / `database` are parametrized over both backends, so a test that takes one
runs twice: `[sqlite]` and `[postgres]` (a copy of a database migrated once per session).
The PostgreSQL variant is skipped, with the reason, when nothing answers at
APPMANAGE_TEST_POSTGRES (default postgres@127.0.0.1:5432) — except when
APPMANAGE_TEST_REQUIRE_POSTGRES=1 (`make test`, after scripts/ensure-services.sh started
it): then it fails, so CI cannot pass without having run on PostgreSQL.
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from appmanage.storage.database import Database

POSTGRES = os.environ.get("APPMANAGE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ("sqlite", "postgres")


def sqlite(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'appmanage.db'}")
    database.migrate()
    return database


@functools.cache
def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used for tests, or None when it answers."""
    admin = Database(POSTGRES).engine
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
        return None
    except OperationalError as exc:
        where = make_url(POSTGRES).render_as_string(hide_password=True)
        why = str(exc.orig).strip().splitlines()[0]
        return f"no PostgreSQL answers at {where} ({why}); scripts/ensure-services.sh starts one"
    finally:
        admin.dispose()


def require_postgres() -> None:
    """Skip (or fail, when APPMANAGE_TEST_REQUIRE_POSTGRES=1) unless PostgreSQL answers."""
    problem = postgres_problem()
    if problem is None:
        return
    if os.environ.get("APPMANAGE_TEST_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"APPMANAGE_TEST_REQUIRE_POSTGRES=1 but {problem}")
    pytest.skip(problem)


@contextmanager
def private_postgres_url(template: str = "template1") -> Iterator[str]:
    """The URL of a new PostgreSQL database, a copy of `template` (empty by default),
    dropped on the way out."""
    require_postgres()
    name = f"appmanage_test_{secrets.token_hex(5)}"
    admin = create_engine(Database(POSTGRES).url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
        try:
            yield make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    finally:
        admin.dispose()


@contextmanager
def migrated(url: str) -> Iterator[Database]:
    database = Database(url)
    try:
        database.migrate()
        yield database
    finally:
        database.dispose()


@pytest.fixture
def postgres() -> Iterator[Database]:
    with private_postgres_url() as url, migrated(url) as database:
        yield database


@pytest.fixture(scope="session")
def migrated_postgres_template() -> Iterator[Callable[[], str]]:
    """The name of a migrated PostgreSQL database to copy (CREATE DATABASE ... TEMPLATE is
    quicker than migrating each copy), made on first use and dropped at the session's end."""
    with ExitStack() as made:
        names: list[str] = []

        def template() -> str:
            if not names:
                url = made.enter_context(private_postgres_url())
                with migrated(url):
                    pass
                names.append(str(make_url(url).database))
            return names[0]

        yield template


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_postgres_template: Callable[[], str]
) -> Iterator[str]:
    """A database of each backend in turn: a new SQLite file in tmp_path, or a private
    PostgreSQL database already migrated to the newest revision."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'appmanage.db'}"
        return
    require_postgres()
    with private_postgres_url(template=migrated_postgres_template()) as url:
        yield url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """`database_url`, migrated."""
    with migrated(database_url) as database:
        yield database
