"""graphql-transport-ws with the token checked again before every operation: a socket
whose token was revoked is closed with 4403 (and its running operations end), and a
token with too many open sockets is refused at connection_init with 4429. A `next`
message's data is encoded once for all its receivers (`schema/shared_results.py`)."""

from __future__ import annotations

from contextlib import suppress

from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)

from appmanage.auth.guard import ApiGuard
from appmanage.auth.sockets import TooManySockets
from appmanage.schema.context import Context
from appmanage.schema.shared_results import encoded_next

REVOKED = 4403
TOO_MANY = 4429


class TokenCheckedHandler(BaseGraphQLTransportWSHandler[Context, None]):
    @property
    def guard(self) -> ApiGuard:
        guard: ApiGuard = self.view.guard  # type: ignore[attr-defined]
        return guard

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except TooManySockets as exc:
            await self.websocket.close(code=TOO_MANY, reason=str(exc)[:120])
            return
        if self.connection_acknowledged and self.context.lease is not None:
            self.context.lease.close = self.end

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        lease = self.context.lease
        if self.connection_acknowledged and lease is not None:
            principal = await self.guard.gate.authenticate(lease.authorization)
            if lease.released or principal is None or principal.token_id != lease.principal.token_id:
                self.guard.sockets.release(lease)
                await self.end("token revoked")
                return
        await super().handle_subscribe(message)

    async def end(self, reason: str) -> None:
        """Stop every operation and close the socket with 4403."""
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        with suppress(Exception):
            await self.websocket.close(code=REVOKED, reason=reason)

    async def send_message(self, message: Message) -> None:
        """A `next` message's data is encoded once for every subscriber that receives it."""
        text = encoded_next(message)
        if text is None:
            await super().send_message(message)
            return
        adapter: ASGIWebSocketAdapter = self.websocket  # type: ignore[assignment]
        try:
            await adapter.ws.send_text(text)
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc

    async def shutdown(self) -> None:
        if self.context.lease is not None:
            self.guard.sockets.release(self.context.lease)
        await super().shutdown()
