"""Everything one API process needs to let callers in and to put them out again: the
authentication gate, the open websockets by token, and the listener for revocations."""

from __future__ import annotations

from appmanage.auth.bearer import ADMIN_TOKEN_ID
from appmanage.auth.gate import AuthGate
from appmanage.auth.revocation import RevocationListener
from appmanage.auth.sockets import SocketRegistry
from appmanage.config import Settings
from appmanage.storage.database import Database


class ApiGuard:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.gate = AuthGate(settings, db)
        self.sockets = SocketRegistry(settings.max_sockets_per_token)
        self.listener = RevocationListener(settings.redis_url, settings.namespace, self.revoked, self.resync)

    def start(self) -> None:
        self.listener.start()

    async def close(self) -> None:
        await self.listener.close()
        self.gate.close()

    def revoked(self, token_id: str) -> None:
        self.gate.forget(token_id)
        self.sockets.revoke(token_id)

    async def resync(self) -> None:
        """Check every open socket's token again (revocations may have been missed)."""
        for lease in self.sockets.leases():
            if lease.principal.token_id == ADMIN_TOKEN_ID:
                continue
            self.gate.forget(lease.principal.token_id)
            if await self.gate.authenticate(lease.authorization) is None:
                self.sockets.end(lease, "token revoked")
