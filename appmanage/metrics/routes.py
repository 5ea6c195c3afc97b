"""The HTTP doors for monitoring: `/metrics` (any role's bearer token, unless
APPMANAGE_METRICS_PUBLIC), `/livez` (the process answers) and `/readyz` (the database and
Redis answer; Docker's reachability is reported but does not make the API unready, since
every query still answers, with apps UNKNOWN).

prometheus_client is imported at the first scrape, not at the API's start: an API that is
never scraped never holds it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from appmanage.auth.guard import ApiGuard
from appmanage.event_stream import EventHub
from appmanage.http_errors import unauthenticated
from appmanage.metrics.readings import Readings, read_all
from appmanage.services import Services

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry


def monitoring_routes(services: Services, hub: EventHub, guard: ApiGuard) -> list[Route]:
    registries: list[CollectorRegistry] = []
    creating = threading.Lock()

    def read() -> Readings:
        return read_all(services, hub.subscriber_count, hub.last_cursor)

    def scrape() -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        with creating:
            if not registries:
                registries.append(_registry(read))
        return generate_latest(registries[0]), CONTENT_TYPE_LATEST

    async def metrics(request: Request) -> Response:
        if not services.settings.metrics_public:
            principal = await guard.gate.authenticate(request.headers.get("authorization"))
            if principal is None:
                return unauthenticated()
        body, media_type = await asyncio.to_thread(scrape)
        return Response(body, media_type=media_type)

    async def livez(_: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    async def readyz(_: Request) -> JSONResponse:
        database, redis, docker = await asyncio.gather(
            asyncio.to_thread(services.db.ping),
            asyncio.to_thread(services.redis_ok),
            asyncio.to_thread(services.containers.ping),
        )
        ready = database and redis
        body = {"ready": ready, "database": database, "redis": redis, "docker": docker}
        return JSONResponse(body, status_code=200 if ready else 503)

    return [Route("/metrics", metrics), Route("/livez", livez), Route("/readyz", readyz)]


def _registry(read: Callable[[], Readings]) -> CollectorRegistry:
    from prometheus_client import CollectorRegistry, ProcessCollector

    from appmanage.metrics.collector import AppManageCollector

    registry = CollectorRegistry(auto_describe=False)
    registry.register(AppManageCollector(read))
    ProcessCollector(registry=registry)
    return registry
