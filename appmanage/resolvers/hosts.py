"""Hosts: each one's facts (Redis), settings (database) and status, joined; drain and undrain."""

from __future__ import annotations

from asyncio import to_thread
from collections.abc import AsyncIterator
from dataclasses import dataclass

import appmanage
from appmanage.errors import NotFound
from appmanage.event_stream import Event, EventHub
from appmanage.hosts.announce import HOST_EVENT
from appmanage.hosts.facts import HostFacts, HostStatus, host_status
from appmanage.hosts.registry import mirror_draining, read_hosts, redis_now
from appmanage.hosts.rows import app_counts, host_rows, set_draining
from appmanage.services import Services


@dataclass(frozen=True)
class HostView:
    name: str
    status: HostStatus
    facts: HostFacts | None
    draining: bool
    app_count: int


def _views(services: Services) -> list[HostView]:
    rows = host_rows(services.db)
    facts = read_hosts(services.redis, services.settings.namespace)
    counts = app_counts(services.db)
    now = redis_now(services.redis)
    return [
        HostView(
            name=name,
            status=host_status(facts.get(name), now, appmanage.__version__),
            facts=facts.get(name),
            draining=bool(rows[name].draining) if name in rows else False,
            app_count=counts.get(name, 0),
        )
        for name in sorted(set(rows) | set(facts))
    ]


async def list_hosts(services: Services) -> list[HostView]:
    return await to_thread(_views, services)


async def get_host(services: Services, name: str) -> HostView | None:
    return next((h for h in await list_hosts(services) if h.name == name), None)


def _drain(services: Services, name: str, draining: bool) -> HostView:
    known = {h.name for h in _views(services)}
    if name not in known:
        raise NotFound(f"no host is named {name!r}: start `appmanage agent --host {name}` to register it")
    set_draining(services.db, name, draining)
    rows = host_rows(services.db)
    mirror_draining(services.redis, services.settings.namespace, {n for n, row in rows.items() if row.draining})
    return next(h for h in _views(services) if h.name == name)


async def drain_host(services: Services, name: str, draining: bool) -> HostView:
    """Mark the host draining (it takes no new installs) or not; works while it is offline."""
    return await to_thread(_drain, services, name, draining)


async def host_changes(hub: EventHub, name: str | None) -> AsyncIterator[Event]:
    def accepts(event: Event) -> bool:
        return event.kind == HOST_EVENT and (name is None or event.data["host"] == name)

    async with hub.subscribe(accepts) as subscriber:
        while True:
            yield await subscriber.next()
