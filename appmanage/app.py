"""The ASGI app: GraphQL over HTTP and graphql-transport-ws at /graphql."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from appmanage.config import Settings
from appmanage.events import EventHub
from appmanage.graphiql import assets_mount, graphiql_page
from appmanage.schema.context import Context
from appmanage.schema.schema import schema
from appmanage.services import Services


class AppManageGraphQL(GraphQL[Context, None]):
    def __init__(self, services: Services, hub: EventHub) -> None:
        settings = services.settings
        super().__init__(
            schema,
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
            allow_queries_via_get=True,
            connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout),
        )
        self.max_subscriptions_per_connection = settings.max_subscriptions
        self.services = services
        self.hub = hub

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        return Context(services=self.services, hub=self.hub, request=request, response=response)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return graphiql_page(request.scope.get("root_path", ""))


def create_app(settings: Settings | None = None) -> Starlette:
    services = Services(settings or Settings.from_env())
    hub = EventHub(services.settings.redis_url, services.settings.namespace)
    graphql = AppManageGraphQL(services, hub)

    async def liveness(_: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await asyncio.to_thread(services.db.migrate)
        await hub.start()
        yield
        await hub.close()
        services.close()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", liveness),
            assets_mount(),
        ],
        lifespan=lifespan,
    )
    app.state.services = services
    return app
