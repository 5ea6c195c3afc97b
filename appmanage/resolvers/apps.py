from __future__ import annotations

from asyncio import to_thread

from appmanage.enums import AppStatus
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


async def app_logs(services: Services, name: str, service: str | None, tail: int) -> list[LogEntry] | None:
    def read() -> list[LogEntry] | None:
        projects = services.containers.by_project(name)
        if not projects:
            with services.db.read() as session:
                if not queries.list_apps(session, [name]):
                    return None
        containers = [c for c in projects.get(name, []) if service is None or c.service == service]
        return services.containers.logs(containers, min(tail, services.settings.max_list_size))

    return await to_thread(read)
