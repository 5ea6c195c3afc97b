"""Engine and sessions: SQLite in WAL mode with a busy timeout, or PostgreSQL (psycopg 3);
writes that lock up front on both."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from appmanage.storage.urls import normalise_database_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 30_000
WRITE_LOCK_KEY = 0x61707061  # pg advisory lock serializing writes like SQLite does


class Database:
    def __init__(self, url: str) -> None:
        self.url = normalise_database_url(url)
        self.is_sqlite = make_url(self.url).get_backend_name() == "sqlite"
        self.engine = self._create_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def _create_engine(self, url: str) -> Engine:
        if not self.is_sqlite:
            return create_engine(url, pool_pre_ping=True, hide_parameters=True)
        database = make_url(url).database
        on_disk = Path(database) if database and database != ":memory:" else None
        if on_disk is not None:
            on_disk.parent.mkdir(parents=True, exist_ok=True)
            owner_only(on_disk)
        engine = create_engine(
            url,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            if on_disk is not None:
                owner_only(on_disk)

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
            connection.exec_driver_sql(f"BEGIN {mode}")

        return engine

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction holding the write lock from its first statement: checks made
        inside it (names, ports, one job per app) cannot race with another writer."""
        with self._sessions() as session:
            if self.is_sqlite:
                session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            else:
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def migrate(self) -> None:
        """Bring the schema to the newest migration; safe when several processes start at once.
        Alembic (with Mako and Pygments, ~8 MB) is imported here: only a process that migrates loads it."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["engine"] = self.engine
        if self.is_sqlite:
            database = make_url(self.url).database or "memory"
            lock_path = Path(f"{database}.migrate-lock")
            with open(lock_path, "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                command.upgrade(config, "head")
            return
        with self.engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": WRITE_LOCK_KEY + 1})
            try:
                command.upgrade(config, "head")
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": WRITE_LOCK_KEY + 1})
                connection.commit()

    def dispose(self) -> None:
        self.engine.dispose()


def owner_only(database: Path) -> None:
    """The database holds every app's settings, secrets among them: only its owner may read
    it, nor its WAL files. Query parameters stay out of error messages (hide_parameters)."""
    database.touch(mode=0o600, exist_ok=True)
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path, 0o600)
