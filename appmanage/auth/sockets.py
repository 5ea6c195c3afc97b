"""The open websockets of one API process, by token: at most APPMANAGE_MAX_SOCKETS_PER_TOKEN
each, and every one of a revoked token closed at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from appmanage.auth.bearer import Principal

log = logging.getLogger("appmanage.api")


class TooManySockets(Exception):
    pass


@dataclass(eq=False)
class SocketLease:
    """One open websocket's place; `close` ends the socket (set once it is acknowledged)."""

    principal: Principal
    authorization: object
    close: Callable[[str], Coroutine[Any, Any, None]] | None = None
    released: bool = field(default=False)


class SocketRegistry:
    def __init__(self, max_per_token: int) -> None:
        self.max_per_token = max_per_token
        self._by_token: dict[str, set[SocketLease]] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def open(self, principal: Principal, authorization: object) -> SocketLease:
        """A place for one more socket of this token, or TooManySockets."""
        leases = self._by_token.setdefault(principal.token_id, set())
        if len(leases) >= self.max_per_token:
            raise TooManySockets(
                f"this token has {len(leases)} open websockets, the most allowed "
                "(APPMANAGE_MAX_SOCKETS_PER_TOKEN); close one first"
            )
        lease = SocketLease(principal, authorization)
        leases.add(lease)
        return lease

    def release(self, lease: SocketLease) -> None:
        lease.released = True
        leases = self._by_token.get(lease.principal.token_id)
        if leases is not None:
            leases.discard(lease)
            if not leases:
                del self._by_token[lease.principal.token_id]

    def leases(self) -> list[SocketLease]:
        return [lease for leases in self._by_token.values() for lease in leases]

    def count(self, token_id: str) -> int:
        return len(self._by_token.get(token_id, ()))

    def revoke(self, token_id: str) -> int:
        """Close every socket of the token; how many there were."""
        leases = list(self._by_token.get(token_id, ()))
        for lease in leases:
            self.end(lease, "token revoked")
        if leases:
            log.info("closed %d websocket(s) of revoked token %s", len(leases), token_id)
        return len(leases)

    def end(self, lease: SocketLease, reason: str) -> None:
        self.release(lease)
        if lease.close is not None:
            task = asyncio.get_running_loop().create_task(lease.close(reason))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
