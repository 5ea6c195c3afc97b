"""Settings, read once from `APPMANAGE_*` environment variables.

| variable | default |
|---|---|
| APPMANAGE_DATA_DIR | ./data |
| APPMANAGE_HOST / APPMANAGE_PORT | 127.0.0.1 / 8080 |
| APPMANAGE_REDIS_URL | redis://127.0.0.1:6379/0 |
| APPMANAGE_DATABASE_URL | sqlite:///<data>/appmanage.db |
| APPMANAGE_NAMESPACE | appmanage (prefix of every Redis key, queue and channel) |
| APPMANAGE_CATALOGS | the shipped catalog/ folder (os.pathsep-separated list) |
| APPMANAGE_WORKERS | 2 (worker processes started by `appmanage run`) |
| APPMANAGE_COMPOSE | auto: `docker compose` when the plugin answers, else `docker-compose` |
| APPMANAGE_COMPOSE_TIMEOUT | 600 seconds for one compose command |
| APPMANAGE_LOG_RETENTION_DAYS | 14 rotated service logs kept |
| APPMANAGE_LOG_LEVEL | INFO |
| APPMANAGE_MAX_SUBSCRIPTIONS | 100 operations at once on one websocket |
| APPMANAGE_WS_INIT_TIMEOUT | 10 seconds for a websocket's connection_init |
| APPMANAGE_PUBLIC_HOST | this machine's host name (the host part of a Websoft9 app's W9_URL) |
| APPMANAGE_REFUSE | none: warning kinds that refuse an install, comma-separated (see catalog/warnings.py) |
"""

from __future__ import annotations

import os
import shlex
import socket
from dataclasses import dataclass, field
from pathlib import Path

from appmanage.catalog.warnings import WarningKind

PACKAGE_DIR = Path(__file__).resolve().parent
SHIPPED_CATALOG = PACKAGE_DIR.parent / "catalog"


def _env(name: str, default: str) -> str:
    value = os.environ.get(f"APPMANAGE_{name}", "").strip()
    return value or default


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8080
    redis_url: str = "redis://127.0.0.1:6379/0"
    database_url: str = ""
    namespace: str = "appmanage"
    catalogs: tuple[Path, ...] = field(default_factory=lambda: (SHIPPED_CATALOG,))
    workers: int = 2
    compose_command: tuple[str, ...] = ()
    compose_timeout: float = 600.0
    log_retention_days: int = 14
    log_level: str = "INFO"
    max_subscriptions: int = 100
    ws_init_timeout: float = 10.0
    public_host: str = field(default_factory=socket.gethostname)
    refuse: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.data_dir / 'appmanage.db'}")

    @property
    def apps_dir(self) -> Path:
        return self.data_dir / "apps"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    def app_dir(self, name: str) -> Path:
        return self.apps_dir / name

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
            log_retention_days=int(_env("LOG_RETENTION_DAYS", "14")),
            log_level=_env("LOG_LEVEL", "INFO").upper(),
            max_subscriptions=int(_env("MAX_SUBSCRIPTIONS", "100")),
            ws_init_timeout=float(_env("WS_INIT_TIMEOUT", "10")),
            public_host=_env("PUBLIC_HOST", socket.gethostname()),
            refuse=_refuse(_env("REFUSE", "")),
        )


def _refuse(text: str) -> frozenset[str]:
    kinds = frozenset(k.strip().lower() for k in text.split(",") if k.strip())
    unknown = sorted(kinds - {k.value for k in WarningKind})
    if unknown:
        raise ValueError(f"APPMANAGE_REFUSE: unknown warning kinds {', '.join(unknown)}")
    return kinds
