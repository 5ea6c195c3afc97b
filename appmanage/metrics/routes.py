"""The HTTP doors for monitoring: `/metrics` (any role's bearer token, unless
APPMANAGE_METRICS_PUBLIC), `/livez` (the process answers) and `/readyz` (the database and
Redis answer; Docker's reachability is reported but does not make the API unready, since
every query still answers, with apps UNKNOWN)."""

from __future__ import annotations

import asyncio

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, ProcessCollector, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from appmanage.auth.guard import ApiGuard
from appmanage.event_stream import EventHub
from appmanage.http_errors import unauthenticated
from appmanage.metrics.collector import AppManageCollector
from appmanage.metrics.readings import Readings, read_all
from appmanage.services import Services


def monitoring_routes(services: Services, hub: EventHub, guard: ApiGuard) -> list[Route]:
    registry = CollectorRegistry(auto_describe=False)

    def read() -> Readings:
        return read_all(services, hub.subscriber_count, hub.last_cursor)

    registry.register(AppManageCollector(read))
    ProcessCollector(registry=registry)

    async def metrics(request: Request) -> Response:
        if not services.settings.metrics_public:
            principal = await guard.gate.authenticate(request.headers.get("authorization"))
            if principal is None:
                return unauthenticated()
        body = await asyncio.to_thread(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

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
