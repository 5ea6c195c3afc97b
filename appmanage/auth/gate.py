"""Authentication for one API process: from a request's credential to its principal.

The database look-up runs in a small thread pool of its own, so a request is
authenticated (or refused) at once even when the default pool is busy with slow Docker
or compose calls. A database token's answer is cached for CACHE_SECONDS (a revocation
clears it at once through `forget`), so a websocket can re-check its token before every
operation without a database round trip each time.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from appmanage.auth import bearer
from appmanage.auth.tokens import secret_hash
from appmanage.config import Settings
from appmanage.storage.database import Database

CACHE_SECONDS = 2.0
POOL_THREADS = 4
CACHE_LIMIT = 10_000


class AuthGate:
    def __init__(self, settings: Settings, db: Database) -> None:
        self._settings = settings
        self._db = db
        self._pool = ThreadPoolExecutor(POOL_THREADS, thread_name_prefix="auth")
        self._cache: dict[str, tuple[float, bearer.Principal]] = {}

    async def authenticate(self, authorization: object) -> bearer.Principal | None:
        secret = bearer.bearer_secret(authorization)
        if secret is None:
            return None
        digest = secret_hash(secret)
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        loop = asyncio.get_running_loop()
        principal = await loop.run_in_executor(self._pool, bearer.principal_of, self._settings, self._db, authorization)
        if principal is not None and principal.token_id != bearer.ADMIN_TOKEN_ID:
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            self._cache[digest] = (time.monotonic() + CACHE_SECONDS, principal)
        else:
            self._cache.pop(digest, None)
        return principal

    def forget(self, token_id: str) -> None:
        """Drop what is cached of a token (it was revoked)."""
        for digest, (_, principal) in list(self._cache.items()):
            if principal.token_id == token_id:
                del self._cache[digest]

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
