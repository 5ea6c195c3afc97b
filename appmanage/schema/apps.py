from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import strawberry

from appmanage.catalog.custom_project import CustomFiles
from appmanage.catalog.model import CatalogApp as CatalogAppModel
from appmanage.catalog.secrets import is_secret
from appmanage.resolvers.apps import app_jobs
from appmanage.runtime.containers import ContainerInfo, LogEntry
from appmanage.schema.app_compose import AppCompose, compose_of
from appmanage.schema.context import Info
from appmanage.schema.enums import AppAction, AppStatus
from appmanage.schema.jobs import Job
from appmanage.schema.permissions import MayRevealSecrets
from appmanage.schema.stats import AppStats, AppStatsPoint, app_stats, app_stats_history
from appmanage.services import Services
from appmanage.snapshot import AppSnapshot


@strawberry.type
class Service:
    name: str
    state: str
    health: str | None
    exit_code: int | None
    image: str | None
    container: str

    @classmethod
    def from_container(cls, container: ContainerInfo) -> Service:
        return cls(
            name=container.service,
            state=container.state,
            health=container.health,
            exit_code=container.exit_code,
            image=container.image or None,
            container=container.name,
        )


@strawberry.type
class PortBinding:
    service: str
    host_ip: str | None
    host_port: int
    container_port: int
    protocol: str


@strawberry.type
class Setting:
    key: str
    value: str | None
    secret: bool

    @classmethod
    def of(cls, key: str, value: str, secret: bool, reveal: bool = False) -> Setting:
        """A secret value is null unless revealed."""
        return cls(key=key, value=None if secret and not reveal else str(value), secret=secret)


@strawberry.type
class LogLine:
    service: str
    timestamp: datetime | None
    line: str

    @classmethod
    def from_entry(cls, entry: LogEntry) -> LogLine:
        return cls(service=entry.service, timestamp=entry.timestamp, line=entry.line)


@strawberry.type
class App:
    name: str
    catalog_app: str | None = strawberry.field(
        description="The catalog app it was installed from; null for a custom app."
    )
    source: str = strawberry.field(description='"custom" for the operator\'s own compose app, else its catalog source.')
    version: str
    host: str = strawberry.field(description="The Docker host the app lives on (its agent's `--host`).")
    status: AppStatus
    status_reason: str | None
    available_actions: list[AppAction]
    services: list[Service]
    ports: list[PortBinding]
    active_job: Job | None
    created_at: datetime
    updated_at: datetime
    setting_values: strawberry.Private[dict[str, str]]
    catalog_model: strawberry.Private[CatalogAppModel | None]
    custom_files: strawberry.Private[CustomFiles | None]

    @strawberry.field(
        permission_classes=[MayRevealSecrets],
        description="Secret values are null unless `reveal` is true, which needs the ADMIN role.",
    )
    def settings(self, reveal: bool = False) -> list[Setting]:
        return _settings(self.setting_values, self.catalog_model, reveal)

    @strawberry.field(description="A custom app's compose file and `.env` (null for a catalog app).")
    def compose(self, info: Info) -> AppCompose | None:
        return compose_of(info, self.custom_files)

    @strawberry.field(
        description="CPU, memory, network and block I/O of its running containers, per service too: the host's "
        "latest sample (a fresh one within 2 s); null when the host has none."
    )
    async def stats(self, info: Info) -> AppStats | None:
        return await app_stats(info, self.name, self.host, sum(s.state == "running" for s in self.services))

    @strawberry.field(description="Its averages per minute since `since`, oldest first (kept 7 days).")
    async def stats_history(self, info: Info, since: datetime) -> list[AppStatsPoint]:
        return await app_stats_history(info, self.name, since)

    @strawberry.field(description="The app's jobs, newest first.")
    async def jobs(self, info: Info, first: int | None = 20) -> list[Job]:
        return [
            Job.from_row(job)
            for job in await app_jobs(info.context.services, self.name, 20 if first is None else first)
        ]

    @classmethod
    def shaped(cls, info: Info, snapshot: AppSnapshot) -> App:
        return cls.shaper(info.context.services)(snapshot)

    @classmethod
    def shaper(cls, services: Services) -> Callable[[AppSnapshot], App]:
        """Snapshots to Apps, with their catalog entries (AppStates shapes each app once)."""
        return lambda snapshot: cls.from_snapshot(snapshot, _catalog_model(services, snapshot.app.catalog_app))

    @classmethod
    def from_snapshot(cls, snapshot: AppSnapshot, catalog_app: CatalogAppModel | None) -> App:
        app = snapshot.app
        return cls(
            name=app.name,
            catalog_app=app.catalog_app,
            source=app.source,
            version=app.version,
            host=app.host,
            status=snapshot.status.status,
            status_reason=snapshot.status.reason,
            available_actions=list(snapshot.status.actions),
            services=[Service.from_container(c) for c in snapshot.containers],
            ports=[
                PortBinding(
                    service=c.service,
                    host_ip=p.host_ip,
                    host_port=p.host_port,
                    container_port=p.container_port,
                    protocol=p.protocol,
                )
                for c in snapshot.containers
                for p in c.ports
            ],
            setting_values=app.settings,
            catalog_model=catalog_app,
            custom_files=None if app.compose_file is None else CustomFiles(app.compose_file, app.env_file),
            active_job=Job.from_row(snapshot.active_job) if snapshot.active_job else None,
            created_at=app.created_at,
            updated_at=app.updated_at,
        )


def _catalog_model(services: Services, name: str | None) -> CatalogAppModel | None:
    return None if name is None else services.catalog.get(name)


def _settings(values: dict[str, str], catalog_app: CatalogAppModel | None, reveal: bool) -> list[Setting]:
    return [Setting.of(key, value, is_secret(catalog_app, key), reveal) for key, value in sorted(values.items())]
