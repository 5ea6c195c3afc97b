"""SQLAlchemy 2 typed models. Every change here comes with an Alembic migration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Enum, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from appmanage.enums import JobKind, JobState, Role

UNFINISHED = "state IN ('QUEUED', 'RUNNING')"
CUSTOM_SOURCE = "custom"  # the source of an app from the operator's own compose file
LOCAL_HOST = "local"  # the Docker host of `appmanage run`, and of every app from before hosts
ACTIVE = "revoked_at IS NULL"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes, also on SQLite, which stores them naive."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[int]: JSON}


class App(Base):
    __tablename__ = "apps"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    catalog_app: Mapped[str | None] = mapped_column(String(128))
    """None for an operator's own compose app (`source` is then CUSTOM_SOURCE)."""
    host: Mapped[str] = mapped_column(String(64), default=LOCAL_HOST, server_default=LOCAL_HOST, index=True)
    source: Mapped[str] = mapped_column(Text)
    version: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    host_ports: Mapped[list[int]] = mapped_column(default=list)
    installed: Mapped[bool] = mapped_column(default=False)
    desired_running: Mapped[bool] = mapped_column(default=True)
    compose_file: Mapped[str | None] = mapped_column(Text)
    """A custom app's compose file as the operator sent it (None for a catalog app)."""
    env_file: Mapped[str | None] = mapped_column(Text)
    """A custom app's `.env` text as sent (None: none, or a catalog app)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index(
            "ix_jobs_one_unfinished_per_app",
            "app_name",
            unique=True,
            sqlite_where=text(UNFINISHED),
            postgresql_where=text(UNFINISHED),
        ),
        Index("ix_jobs_app_created", "app_name", "created_at"),
        Index("ix_jobs_state", "state"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_name: Mapped[str] = mapped_column(String(32))
    kind: Mapped[JobKind] = mapped_column(Enum(JobKind, native_enum=False, length=16))
    state: Mapped[JobState] = mapped_column(Enum(JobState, native_enum=False, length=16))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    step: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(128))
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]


class JobLogLine(Base):
    __tablename__ = "job_log_lines"
    __table_args__ = (Index("ix_job_log_lines_job", "job_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    line: Mapped[str] = mapped_column(Text)


class ApiToken(Base):
    """A bearer token: only the SHA-256 of its secret is kept; revoked ones stay as a record."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        Index(
            "ix_api_tokens_active_name", "name", unique=True, sqlite_where=text(ACTIVE), postgresql_where=text(ACTIVE)
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Host(Base):
    """A Docker host's durable settings; its live facts are in Redis (appmanage.hosts)."""

    __tablename__ = "hosts"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    draining: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AppStatsMinute(Base):
    """One minute's average CPU and memory of an app, written by its host's sampler (appmanage/stats/)."""

    __tablename__ = "app_stats_minutes"

    app: Mapped[str] = mapped_column(String(32), primary_key=True)
    minute: Mapped[datetime] = mapped_column(primary_key=True, index=True)
    host: Mapped[str] = mapped_column(String(64))
    cpu_percent: Mapped[float] = mapped_column(Float)
    memory_bytes: Mapped[float] = mapped_column(Float)


class Backup(Base):
    """A restic snapshot of an app, mirrored by the worker after each backup or forget:
    the repository is the truth, this table what the API lists without asking restic."""

    __tablename__ = "backups"
    __table_args__ = (Index("ix_backups_app_created", "app", "created_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # restic's snapshot id
    app: Mapped[str] = mapped_column(String(32))
    host: Mapped[str] = mapped_column(String(64))
    catalog_app: Mapped[str | None] = mapped_column(String(128))
    version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    """restic's total_bytes_processed: the bytes of the files read, before dedup and compression."""
    safety_for_job: Mapped[str | None] = mapped_column(String(32))
    """The restore job this snapshot was taken before (a safety snapshot); None: a backup."""
    manifest: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """What a restore needs: the app row, the folder and each volume's path (`jobs/backup_manifest.py`)."""


class BackupRetention(Base):
    """How many backups of an app `restic forget` keeps after each backup; 0: no limit of that kind."""

    __tablename__ = "backup_retention"

    app: Mapped[str] = mapped_column(String(32), primary_key=True)
    keep_last: Mapped[int] = mapped_column(default=0)
    keep_daily: Mapped[int] = mapped_column(default=0)
    keep_weekly: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Schedule(Base):
    """A job run on a cron schedule (`appmanage/schedules/`): its next tick is armed in RQ's
    ScheduledJobRegistry, and this row is the truth it is armed again from."""

    __tablename__ = "schedules"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_name: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[JobKind] = mapped_column(Enum(JobKind, native_enum=False, length=16))
    cron: Mapped[str] = mapped_column(String(128))
    next_run_at: Mapped[datetime | None]
    last_run_at: Mapped[datetime | None]
    """The last tick taken: a tick is taken once, when this is still before it."""
    last_job_id: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    """Why the last tick started no job; None when it did."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
