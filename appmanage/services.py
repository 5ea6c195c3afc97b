"""The long-lived clients one process needs, built once from the settings.

Each process builds its Services whole: the API passes its ContainerCache, the workers
and the watcher read Docker directly (the default ContainerReader)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property

from redis import Redis

from appmanage.catalog.sources import Catalog
from appmanage.config import Settings
from appmanage.event_stream import EventPublisher
from appmanage.runtime.compose import Compose
from appmanage.runtime.containers import ContainerReader
from appmanage.storage.database import Database

REDIS_TIMEOUT = 5.0


@dataclass
class Services:
    settings: Settings
    containers: ContainerReader = field(default_factory=ContainerReader)
    db: Database = field(init=False)
    compose: Compose = field(init=False)

    def __post_init__(self) -> None:
        prepare_data_dir(self.settings)
        self.db = Database(self.settings.database_url)
        self.compose = Compose(self.settings.compose_command, self.settings.compose_timeout)

    @cached_property
    def redis(self) -> Redis:
        return Redis.from_url(
            self.settings.redis_url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
        )

    @cached_property
    def catalog(self) -> Catalog:
        return Catalog.load(self.settings.catalogs)

    @cached_property
    def stream(self) -> EventPublisher:
        return EventPublisher(self.redis, self.settings.namespace)

    def redis_ok(self) -> bool:
        try:
            return bool(self.redis.ping())
        except Exception:
            return False

    def close(self) -> None:
        self.db.dispose()
        self.containers.close()
        if "redis" in self.__dict__:
            self.redis.close()


def prepare_data_dir(settings: Settings) -> None:
    """The data folder holds secrets (.env files, the database): its owner alone reads it."""
    for folder in (settings.data_dir, settings.apps_dir, settings.logs_dir):
        folder.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.data_dir, 0o700)
