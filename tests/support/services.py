"""In-process Services on a private database (SQLite in a test folder, or the one given) and a private Redis
namespace of the real Redis, removed afterwards: for tests that call the worker side or
recovery directly."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from appmanage.config import Settings
from appmanage.runtime.containers import ContainerReader
from appmanage.services import Services


@contextmanager
def private_services(
    settings: Settings,
    folder: Path,
    containers: ContainerReader | None = None,
    database_url: str = "",
    **changes: Any,
) -> Iterator[Services]:
    """`changes` replace settings fields; `containers` stands for Docker when given;
    `database_url` (an empty database, e.g. the `database_url` fixture's) replaces the
    SQLite file in `folder`."""
    namespace = f"{settings.namespace}-{secrets.token_hex(2)}"
    own = replace(settings, data_dir=folder / "data", database_url=database_url, namespace=namespace, **changes)
    services = Services(own) if containers is None else Services(own, containers=containers)
    try:
        services.db.migrate()
        yield services
    finally:
        for key in services.redis.scan_iter(match=f"{namespace}*"):
            services.redis.delete(key)
        services.close()
