"""A small graphql-transport-ws client over the `websockets` library, for tests and benchmarks."""

from __future__ import annotations

import json
import time
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.support.graphql import ADMIN_TOKEN, bearer


class GraphQLWebSocket:
    def __init__(self, url: str, payload: dict[str, Any] | None = None, token: str = ADMIN_TOKEN) -> None:
        self.connection: ClientConnection = connect(
            url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            open_timeout=10,
        )
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self.send({"type": "connection_init", "payload": bearer(token) if payload is None else payload})
        ack = self.receive(10)
        assert ack["type"] == "connection_ack", ack

    def send(self, message: dict[str, Any]) -> None:
        self.connection.send(json.dumps(message))

    def close_code(self, timeout: float) -> int | None:
        """The close code the server sends within `timeout` (None: still open); messages before it are dropped."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.connection.recv(timeout=max(0.05, deadline - time.monotonic()))
        except TimeoutError:
            return None
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else -1
        return None

    def receive(self, timeout: float = 30) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(self.connection.recv(timeout=timeout))
        return message

    def message_for(self, operation_id: str, timeout: float) -> dict[str, Any]:
        """The next message of that operation; those of others are kept for later."""
        pending = self._pending.setdefault(operation_id, [])
        deadline = time.monotonic() + timeout
        while not pending:
            message = self.receive(max(0.1, deadline - time.monotonic()))
            if message.get("type") == "ping":
                self.send({"type": "pong"})
            elif "id" in message:
                self._pending.setdefault(message["id"], []).append(message)
        return pending.pop(0)

    def subscribe(self, operation_id: str, query: str, **variables: Any) -> None:
        self.send({"id": operation_id, "type": "subscribe", "payload": {"query": query, "variables": variables}})

    def barrier(self) -> None:
        """A query round trip: the subscriptions sent before it are registered when it answers."""
        self._barriers = getattr(self, "_barriers", 0) + 1
        operation_id = f"barrier-{self._barriers}"
        self.subscribe(operation_id, "{ __typename }")
        assert self.next(operation_id, 10) == {"__typename": "Query"}

    def next(self, operation_id: str, timeout: float = 30) -> dict[str, Any] | None:
        """The next result of that operation; None when it completed."""
        message = self.message_for(operation_id, timeout)
        if message["type"] == "complete":
            return None
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message["payload"]
        data: dict[str, Any] = message["payload"]["data"]
        return data

    def next_until(self, operation_id: str, done: Any, timeout: float = 60) -> list[dict[str, Any]]:
        """Results until `done(result)` is true (that one included)."""
        deadline = time.monotonic() + timeout
        results: list[dict[str, Any]] = []
        while True:
            result = self.next(operation_id, max(0.1, deadline - time.monotonic()))
            assert result is not None, f"completed before the expected result; got {results}"
            results.append(result)
            if done(result):
                return results

    def complete(self, operation_id: str) -> None:
        self.send({"id": operation_id, "type": "complete"})

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> GraphQLWebSocket:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
