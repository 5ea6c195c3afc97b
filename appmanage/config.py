"""Settings, read once from `APPMANAGE_*` environment variables.

| variable | default |
|---|---|
| APPMANAGE_DATA_DIR | ./data |
| APPMANAGE_HOST / APPMANAGE_PORT | 127.0.0.1 / 8080 |
| APPMANAGE_REDIS_URL | redis://127.0.0.1:6379/0 (password: `redis://:PASSWORD@HOST:6379/0`; TLS: `rediss://`) |
| APPMANAGE_DATABASE_URL | sqlite:///<data>/appmanage.db, or `postgresql://USER:PASSWORD@HOST:5432/DB?sslmode=require` |
| APPMANAGE_NAMESPACE | appmanage (prefix of every Redis key, queue and channel) |
| APPMANAGE_CATALOGS | the shipped catalog/ folder (os.pathsep-separated list) |
| APPMANAGE_WORKERS | 2 (worker processes started by `appmanage run`) |
| APPMANAGE_COMPOSE | auto: `docker compose` when the plugin answers, else `docker-compose` |
| APPMANAGE_COMPOSE_TIMEOUT | 600 seconds for one compose command |
| APPMANAGE_JOB_TIMEOUT | RQ's limit for a whole job, seconds; default: its compose steps * compose timeout + 60 |
| APPMANAGE_JOB_RETENTION_DAYS | 30 days a finished job and its log are kept (an app's last finished job stays) |
| APPMANAGE_LOG_RETENTION_DAYS | 14 rotated service logs kept |
| APPMANAGE_LOG_LEVEL | INFO |
| APPMANAGE_MAX_SUBSCRIPTIONS | 100 operations at once on one websocket |
| APPMANAGE_WS_INIT_TIMEOUT | 10 seconds for a websocket's connection_init |
| APPMANAGE_PUBLIC_HOST | this machine's host name (the host part of a Websoft9 app's W9_URL) |
| APPMANAGE_REFUSE | none: warning kinds refused at install, redeploy, update (comma-separated, or `all`) |
| APPMANAGE_ADMIN_TOKEN | none: a bearer token (32 characters or more) accepted as ADMIN, for automation |
| APPMANAGE_CORS_ORIGINS | none (CORS off): origins allowed to call the API from a browser, comma-separated |
| APPMANAGE_MAX_QUERY_DEPTH | 15 levels of fields in one operation |
| APPMANAGE_MAX_QUERY_TOKENS | 5000 lexical tokens in one document |
| APPMANAGE_MAX_ALIASES | 30 aliases in one document |
| APPMANAGE_MAX_QUERY_COST | 10000: fields (fragments expanded) times depth, for one operation |
| APPMANAGE_MAX_SOCKETS_PER_TOKEN | 20 open websockets per token and API process (more are closed with 4429) |
| APPMANAGE_MAX_BODY_BYTES | 1048576: largest HTTP request body and websocket message |
| APPMANAGE_MAX_LIST_SIZE | 10000: most items a `first` or `tail` may ask for, most lines `Job.log` returns |
| APPMANAGE_INTROSPECTION | true: `false` refuses introspection queries (GraphiQL then cannot complete) |
| APPMANAGE_METRICS_PUBLIC | false: `true` serves `/metrics` without a token |
| APPMANAGE_HOST_LABELS | none: labels of the agent's Docker host, `key=value,key2=value2` |
| APPMANAGE_STATS_HISTORY_SECONDS | 60: the period of the stats history's averages (shorter in tests) |
| APPMANAGE_SCHEDULE_SECONDS | false: `true` lets a cron take a sixth field, seconds (for tests) |
| APPMANAGE_BACKUP_REPOSITORY | <data>/backups/restic: any restic backend (`s3:...`, `sftp:...`, `rest:...`); |
|   | its credentials from the AWS_*, B2_*, AZURE_*, GOOGLE_*, OS_*, RCLONE_* variables |
| APPMANAGE_BACKUP_PASSWORD | none: else generated once into <data>/backup-password (0600); keep a copy elsewhere |
| APPMANAGE_BACKUP_TIMEOUT | 3600 seconds for one restic command |
"""

from __future__ import annotations

import os
import re
import shlex
import socket
from dataclasses import dataclass, field
from pathlib import Path

from appmanage.catalog.warning_kinds import parse_refuse

PACKAGE_DIR = Path(__file__).resolve().parent
SHIPPED_CATALOG = PACKAGE_DIR.parent / "catalog"
_PLAIN_SQLITE_URL = re.compile(r"sqlite:///[\w./ -]*", re.ASCII)  # what normalise_database_url leaves unchanged


def _env(name: str, default: str) -> str:
    value = os.environ.get(f"APPMANAGE_{name}", "").strip()
    return value or default


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8080
    redis_url: str = field(default="redis://127.0.0.1:6379/0", repr=False)  # may hold a password
    database_url: str = field(default="", repr=False)
    namespace: str = "appmanage"
    catalogs: tuple[Path, ...] = field(default_factory=lambda: (SHIPPED_CATALOG,))
    workers: int = 2
    compose_command: tuple[str, ...] = ()
    compose_timeout: float = 600.0
    job_timeout: float = 0.0
    job_retention_days: float = 30.0
    log_retention_days: int = 14
    log_level: str = "INFO"
    max_subscriptions: int = 100
    ws_init_timeout: float = 10.0
    public_host: str = field(default_factory=socket.gethostname)
    refuse: frozenset[str] = frozenset()
    admin_token: str = field(default="", repr=False)
    cors_origins: tuple[str, ...] = ()
    max_query_depth: int = 15
    max_query_tokens: int = 5000
    max_aliases: int = 30
    max_query_cost: int = 10_000
    max_sockets_per_token: int = 20
    max_body_bytes: int = 1_048_576
    max_list_size: int = 10_000
    introspection: bool = True
    metrics_public: bool = False
    host_labels: str = ""
    stats_history_seconds: float = 60.0
    schedule_seconds: bool = False
    backup_repository: str = field(default="", repr=False)  # a backend URL may hold credentials
    backup_password: str = field(default="", repr=False)
    backup_timeout: float = 3600.0
    agent_host: str = "local"  # the Docker host this agent or worker serves (`--host`)

    def __post_init__(self) -> None:
        database_url = self.database_url or f"sqlite:///{self.data_dir / 'appmanage.db'}"
        if not _PLAIN_SQLITE_URL.fullmatch(database_url):  # a plain SQLite path needs no SQLAlchemy to parse
            from appmanage.storage.urls import normalise_database_url

            database_url = normalise_database_url(database_url)
        object.__setattr__(self, "database_url", database_url)

    @property
    def apps_dir(self) -> Path:
        return self.data_dir / "apps"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    def app_dir(self, name: str) -> Path:
        return self.apps_dir / name

    @property
    def backups_dir(self) -> Path:
        return self.data_dir / "backups"

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(_env("DATA_DIR", "data")).expanduser().resolve()
        catalogs = _env("CATALOGS", "")
        compose = _env("COMPOSE", "")
        return cls(
            data_dir=data_dir,
            host=_env("HOST", "127.0.0.1"),
            port=int(_env("PORT", "8080")),
            redis_url=_env("REDIS_URL", "redis://127.0.0.1:6379/0"),
            database_url=_env("DATABASE_URL", ""),
            namespace=_env("NAMESPACE", "appmanage"),
            catalogs=(
                tuple(Path(p).expanduser().resolve() for p in catalogs.split(os.pathsep) if p)
                if catalogs
                else (SHIPPED_CATALOG,)
            ),
            workers=int(_env("WORKERS", "2")),
            compose_command=tuple(shlex.split(compose)) if compose else (),
            compose_timeout=float(_env("COMPOSE_TIMEOUT", "600")),
            job_timeout=float(_env("JOB_TIMEOUT", "0")),
            job_retention_days=float(_env("JOB_RETENTION_DAYS", "30")),
            log_retention_days=int(_env("LOG_RETENTION_DAYS", "14")),
            log_level=_env("LOG_LEVEL", "INFO").upper(),
            max_subscriptions=int(_env("MAX_SUBSCRIPTIONS", "100")),
            ws_init_timeout=float(_env("WS_INIT_TIMEOUT", "10")),
            public_host=_env("PUBLIC_HOST", socket.gethostname()),
            refuse=_refuse(_env("REFUSE", "")),
            admin_token=_env("ADMIN_TOKEN", ""),
            cors_origins=tuple(o.strip() for o in _env("CORS_ORIGINS", "").split(",") if o.strip()),
            max_query_depth=int(_env("MAX_QUERY_DEPTH", "15")),
            max_query_tokens=int(_env("MAX_QUERY_TOKENS", "5000")),
            max_aliases=int(_env("MAX_ALIASES", "30")),
            max_query_cost=int(_env("MAX_QUERY_COST", "10000")),
            max_sockets_per_token=int(_env("MAX_SOCKETS_PER_TOKEN", "20")),
            max_body_bytes=int(_env("MAX_BODY_BYTES", "1048576")),
            max_list_size=int(_env("MAX_LIST_SIZE", "10000")),
            introspection=_env("INTROSPECTION", "true").lower() not in ("false", "0", "no", "off"),
            metrics_public=_env("METRICS_PUBLIC", "false").lower() in ("true", "1", "yes", "on"),
            host_labels=_env("HOST_LABELS", ""),
            stats_history_seconds=float(_env("STATS_HISTORY_SECONDS", "60")),
            schedule_seconds=_env("SCHEDULE_SECONDS", "false").lower() in ("true", "1", "yes", "on"),
            backup_repository=_env("BACKUP_REPOSITORY", ""),
            backup_password=_env("BACKUP_PASSWORD", ""),
            backup_timeout=float(_env("BACKUP_TIMEOUT", "3600")),
        )


def _refuse(text: str) -> frozenset[str]:
    return parse_refuse(text)
