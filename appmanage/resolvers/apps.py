from __future__ import annotations

from asyncio import to_thread

from appmanage.enums import AppStatus
from appmanage.errors import NotFound
from appmanage.runtime.containers import LogEntry
from appmanage.services import Services
from appmanage.snapshot import AppSnapshot, snapshot_of, take_snapshot
from appmanage.storage import queries
from appmanage.storage.models import Job


async def list_apps(services: Services, status: AppStatus | None) -> list[AppSnapshot]:
    snapshots = await to_thread(take_snapshot, services)
    return [s for s in snapshots if status is None or s.status.status is status]


async def get_app(services: Services, name: str) -> AppSnapshot | None:
    return await to_thread(snapshot_of, services, name)


async def app_jobs(services: Services, name: str, first: int) -> list[Job]:
    def read() -> list[Job]:
        with services.db.read() as session:
            return queries.app_jobs(session, name, max(0, min(first, 500)))

    return await to_thread(read)


async def app_logs(services: Services, name: str, service: str | None, tail: int) -> list[LogEntry]:
    """The containers' log lines of an app AppManage manages; NotFound for any other name,
    even one a compose project of someone else's answers to."""

    def read() -> list[LogEntry]:
        _require_managed(services, name)
        containers = [c for c in services.containers.by_project(name).get(name, []) if service in (None, c.service)]
        return services.containers.logs(containers, min(tail, services.settings.max_list_size))

    return await to_thread(read)


async def require_managed(services: Services, name: str) -> None:
    """NotFound unless an app of that name is AppManage's."""
    await to_thread(_require_managed, services, name)


def _require_managed(services: Services, name: str) -> None:
    with services.db.read() as session:
        if not queries.list_apps(session, [name]):
            raise NotFound(f"no app is named {name}")
