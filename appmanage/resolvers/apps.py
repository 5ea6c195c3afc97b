"""The apps queries: the store's shaped apps (all of them, or a page), one app, its jobs and logs."""

from __future__ import annotations

from asyncio import to_thread
from base64 import urlsafe_b64decode, urlsafe_b64encode
from bisect import bisect_right
from dataclasses import dataclass
from typing import Generic, TypeVar

from appmanage.app_states import AppState, AppStates
from appmanage.enums import AppStatus
from appmanage.errors import NotFound, ValidationFailed
from appmanage.runtime.containers import LogEntry
from appmanage.services import Services
from appmanage.snapshot import AppSnapshot, snapshot_of
from appmanage.storage import queries
from appmanage.storage.models import Job

V = TypeVar("V")
MAX_PAGE = 500
CURSOR_PREFIX = "app:"


async def app_views(states: AppStates[V], status: AppStatus | None, host: str | None = None) -> list[V]:
    """Every app as the store keeps it shaped, by name; only the changed ones recomputed."""
    ordered = await states.current()
    if status is None and host is None:
        return [s.view for s in ordered]
    return [s.view for s in ordered if _matches(s, status, host)]


def _matches(state: AppState[V], status: AppStatus | None, host: str | None) -> bool:
    snapshot = state.snapshot
    return (status is None or snapshot.status.status is status) and (host is None or snapshot.app.host == host)


@dataclass(frozen=True)
class Page(Generic[V]):
    edges: list[tuple[str, V]]  # (cursor, app)
    has_next_page: bool
    total_count: int


async def app_page(
    states: AppStates[V], first: int, after: str | None, status: AppStatus | None, host: str | None = None
) -> Page[V]:
    """`first` apps by name after the cursor `after`, of the apps with `status` on `host` (all: None)."""
    if not 1 <= first <= MAX_PAGE:
        raise ValidationFailed(f"first must be between 1 and {MAX_PAGE}, not {first}", "first")
    start_after = None if after is None else _name_of(after)
    ordered = await states.current()
    matching = [s for s in ordered if _matches(s, status, host)]
    start = 0 if start_after is None else bisect_right([s.snapshot.app.name for s in matching], start_after)
    page = matching[start : start + first]
    return Page(
        edges=[(app_cursor(s.snapshot.app.name), s.view) for s in page],
        has_next_page=start + first < len(matching),
        total_count=len(matching),
    )


def app_cursor(name: str) -> str:
    return urlsafe_b64encode(f"{CURSOR_PREFIX}{name}".encode()).decode()


def _name_of(cursor: str) -> str:
    try:
        text = urlsafe_b64decode(cursor.encode("ascii")).decode()
    except (ValueError, UnicodeError):
        text = ""
    if not text.startswith(CURSOR_PREFIX) or len(text) == len(CURSOR_PREFIX):
        raise ValidationFailed(
            f"after: {cursor!r} is not a cursor of appsConnection; pass an endCursor or edge cursor it gave", "after"
        )
    return text[len(CURSOR_PREFIX) :]


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
