"""The ASGI app: GraphQL over HTTP and graphql-transport-ws at /graphql."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from appmanage.app_states import AppStates
from appmanage.auth import bearer, tokens
from appmanage.auth.guard import ApiGuard
from appmanage.auth.websocket import TokenCheckedHandler
from appmanage.body_limit import BodySizeLimit
from appmanage.config import Settings
from appmanage.dashboard import dashboard_routes
from appmanage.enums import Role
from appmanage.event_stream import EventHub
from appmanage.graphiql import assets_mount, graphiql_page
from appmanage.hosts.announce import watch_hosts
from appmanage.http_errors import Unauthenticated, unauthenticated, unexpected_error
from appmanage.metrics.routes import monitoring_routes
from appmanage.runtime.container_cache import ContainerCache
from appmanage.schema.apps import App
from appmanage.schema.context import Context
from appmanage.schema.schema import build_schema
from appmanage.services import Services

log = logging.getLogger("appmanage.api")
FIRST_START = (
    "no API token exists yet, so every request is refused: make one with "
    "`appmanage token create --name admin --role ADMIN`, or set APPMANAGE_ADMIN_TOKEN"
)


class WeakAdminToken(ValueError):
    pass


class AppManageGraphQL(GraphQL[Context, None]):
    """Every request needs a token (the GraphiQL page excepted): HTTP ones in their
    Authorization header, websockets in their connection_init payload (checked again
    before each operation, see auth/websocket.py)."""

    graphql_transport_ws_handler_class = TokenCheckedHandler

    def __init__(self, services: Services, hub: EventHub, guard: ApiGuard, app_states: AppStates[App]) -> None:
        settings = services.settings
        super().__init__(
            build_schema(settings),
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
            allow_queries_via_get=True,
            connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout),
        )
        self.max_subscriptions_per_connection = settings.max_subscriptions
        self.services = services
        self.hub = hub
        self.guard = guard
        self.app_states = app_states

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except Unauthenticated:
            await unauthenticated()(scope, receive, send)

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        context = Context(
            services=self.services, hub=self.hub, request=request, response=response, app_states=self.app_states
        )
        if isinstance(request, Request) and not self.should_render_graphql_ide(self.request_adapter_class(request)):
            context.role = await self.role_of(request.headers.get("authorization"))
            if context.role is None:
                raise Unauthenticated
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        authorization = bearer.connection_authorization(context.connection_params)
        principal = await self.guard.gate.authenticate(authorization)
        if principal is None:
            raise ConnectionRejectionError
        context.role = principal.role
        context.lease = self.guard.sockets.open(principal, authorization)
        return await super().on_ws_connect(context)

    async def role_of(self, authorization: object) -> Role | None:
        principal = await self.guard.gate.authenticate(authorization)
        return principal.role if principal else None

    def decode_json(self, data: str | bytes) -> object:
        """A body that is not UTF-8, or nests deeper than Python parses, is the client's error (400)."""
        try:
            return json.loads(data)
        except (UnicodeDecodeError, RecursionError) as exc:
            raise json.JSONDecodeError(f"unreadable JSON ({type(exc).__name__})", "", 0) from exc

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return graphiql_page(request.scope.get("root_path", ""))


def create_app(settings: Settings | None = None, migrate: bool = True, freeze_gc: bool = False) -> Starlette:
    """`migrate=False` when the schema is known current (`appmanage serve` migrated it in a
    short-lived child, so this process never loads Alembic). `freeze_gc` when the process
    is the server's own (`serving.py`): once started, `gc.freeze()`."""
    settings = settings or Settings.from_env()
    if problem := bearer.admin_token_problem(settings):
        raise WeakAdminToken(problem)
    containers = ContainerCache()
    services = Services(settings, containers=containers)
    hub = EventHub(services.settings.redis_url, services.settings.namespace)
    guard = ApiGuard(services.settings, services.db)
    app_states = AppStates(services, App.shaper(services), live=lambda: hub.connected)
    hub.add_listener(app_states.on_event)
    graphql = AppManageGraphQL(services, hub, guard, app_states)

    async def liveness(_: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if migrate:
            await asyncio.to_thread(services.db.migrate)
        if not services.settings.admin_token and not await asyncio.to_thread(tokens.any_token, services.db):
            log.warning(FIRST_START)
        await hub.start()
        guard.start()
        containers.start()
        host_check = asyncio.create_task(watch_hosts(services), name="host check")
        if freeze_gc:
            gc.collect()
            gc.freeze()  # what start-up built is never scanned (nor written) by a collection again
        yield
        host_check.cancel()
        await guard.close()
        await hub.close()
        services.close()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", liveness),
            *monitoring_routes(services, hub, guard),
            assets_mount(),
            *dashboard_routes(),
        ],
        lifespan=lifespan,
        middleware=middleware(services.settings),
        exception_handlers={Exception: unexpected_error},
    )
    app.state.services = services
    return app


def middleware(settings: Settings) -> list[Middleware]:
    """The body size cap, and CORS only for the origins APPMANAGE_CORS_ORIGINS lists."""
    stack = [Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)]
    if settings.cors_origins:
        stack.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type"],
            )
        )
    return stack
