"""Database URLs an operator may write, made into the one form the engine is created from.

`sqlite:///PATH` and PostgreSQL are supported. PostgreSQL runs on psycopg 3: `postgres://`,
`postgresql://` and `postgresql+psycopg://` all mean it, and every query parameter
(`sslmode`, `sslrootcert`, `sslcert`, `sslkey`, `application_name`, `connect_timeout`, ...)
is handed to libpq unchanged.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

POSTGRES_DRIVER = "postgresql+psycopg"
_POSTGRES_SPELLINGS = {"postgres", "postgresql", "postgres+psycopg", POSTGRES_DRIVER}
_SQLITE_SPELLINGS = {"sqlite", "sqlite+pysqlite"}


class DatabaseUrlError(ValueError):
    """A database URL AppManage cannot use; the message says what to write instead."""


def parse_database_url(url: str) -> URL:
    """The URL with PostgreSQL's spellings made `postgresql+psycopg`; DatabaseUrlError else."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUrlError(
            "APPMANAGE_DATABASE_URL is not a database URL: "
            "write sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
        ) from None
    if parsed.drivername in _POSTGRES_SPELLINGS:
        return parsed.set(drivername=POSTGRES_DRIVER)
    if parsed.drivername in _SQLITE_SPELLINGS:
        return parsed
    raise DatabaseUrlError(
        f"APPMANAGE_DATABASE_URL scheme {parsed.drivername!r} is not supported: "
        "write sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DATABASE (driver psycopg 3)"
    )


def normalise_database_url(url: str) -> str:
    """`parse_database_url` as a string, the password kept (it is what the engine connects with).
    A SQLite URL is kept as written: rendering it again would escape `:` and `@` in its path."""
    parsed = parse_database_url(url)
    if parsed.drivername in _SQLITE_SPELLINGS:
        return url
    return parsed.render_as_string(hide_password=False)
