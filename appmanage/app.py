"""The ASGI app: GraphQL over HTTP and graphql-transport-ws at /graphql."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from appmanage.config import Settings
from appmanage.schema.context import Context
from appmanage.schema.schema import schema
from appmanage.services import Services


class AppManageGraphQL(GraphQL[Context, None]):
    def __init__(self, services: Services) -> None:
        super().__init__(
            schema,
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
            allow_queries_via_get=True,
        )
        self.services = services

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        return Context(services=self.services, request=request, response=response)


def create_app(settings: Settings | None = None) -> Starlette:
    services = Services(settings or Settings.from_env())
    graphql = AppManageGraphQL(services)

    async def liveness(_: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        services.db.migrate()
        yield
        services.close()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", liveness),
        ],
        lifespan=lifespan,
    )
    app.state.services = services
    return app
