"""GraphQL over HTTP (httpx) and over graphql-transport-ws (websockets) for subscriptions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.exceptions import WebSocketException
from websockets.sync.client import connect
from websockets.typing import Subprotocol

DEFAULT_URL = "http://127.0.0.1:8080/graphql"
TIMEOUT = 30.0
PROTOCOL = Subprotocol("graphql-transport-ws")


class ClientError(Exception):
    """The API could not be reached, refused the token, or answered with GraphQL errors."""


class ApiError(Exception):
    """The API answered with one of its error types (a union member with a message)."""

    def __init__(self, typename: str, message: str) -> None:
        super().__init__(message)
        self.typename = typename


@dataclass
class Transport:
    url: str
    token: str
    timeout: float = TIMEOUT
    _http: httpx.Client | None = field(default=None, init=False, repr=False)

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(timeout=self.timeout, headers=self._headers())
        return self._http

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def execute(self, document: str, **variables: Any) -> dict[str, Any]:
        try:
            response = self.http.post(self.url, json={"query": document, "variables": variables})
        except httpx.HTTPError as exc:
            raise ClientError(f"cannot reach {self.url}: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            raise ClientError(f"{self.url} answered HTTP {response.status_code}, not GraphQL") from None
        if body.get("errors"):
            raise ClientError("; ".join(str(error.get("message")) for error in body["errors"]))
        if response.status_code != 200 or not isinstance(body.get("data"), dict):
            raise ClientError(f"{self.url} answered HTTP {response.status_code}")
        data: dict[str, Any] = body["data"]
        return data

    def subscribe(self, document: str, **variables: Any) -> Iterator[dict[str, Any]]:
        """Each result of a subscription until the server completes it."""
        try:
            with connect(self.ws_url, subprotocols=[PROTOCOL], open_timeout=self.timeout) as socket:
                socket.send(json.dumps({"type": "connection_init", "payload": self._headers()}))
                ack = json.loads(socket.recv(timeout=self.timeout))
                if ack.get("type") != "connection_ack":
                    raise ClientError(f"the API refused the websocket: {ack}")
                payload = {"query": document, "variables": variables}
                socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
                for raw in socket:
                    message = json.loads(raw)
                    kind = message.get("type")
                    if kind == "ping":
                        socket.send(json.dumps({"type": "pong"}))
                    elif kind == "next":
                        result = message["payload"]
                        if result.get("errors"):
                            raise ClientError("; ".join(str(e.get("message")) for e in result["errors"]))
                        yield result["data"]
                    elif kind == "error":
                        raise ClientError("; ".join(str(e.get("message")) for e in message.get("payload", [])))
                    elif kind == "complete":
                        return
        except (OSError, WebSocketException) as exc:
            raise ClientError(f"websocket to {self.ws_url} failed: {exc}") from exc

    @property
    def ws_url(self) -> str:
        if self.url.startswith("https://"):
            return "wss://" + self.url.removeprefix("https://")
        return "ws://" + self.url.removeprefix("http://")

    def close(self) -> None:
        if self._http is not None:
            self._http.close()


def check_result(result: dict[str, Any], success: str) -> dict[str, Any]:
    """A mutation's union answer: itself when it is `success`, else ApiError with its message."""
    if result.get("__typename") != success:
        raise ApiError(str(result.get("__typename")), str(result.get("message", result)))
    return result
