"""API tokens: list, create, revoke (announced to every API process)."""

from __future__ import annotations

from asyncio import to_thread

from appmanage.auth import revocation, tokens
from appmanage.enums import Role
from appmanage.services import Services
from appmanage.storage.models import ApiToken


async def list_tokens(services: Services) -> list[ApiToken]:
    return await to_thread(tokens.list_tokens, services.db)


async def create_token(services: Services, name: str, role: Role) -> tuple[ApiToken, str]:
    return await to_thread(tokens.create_token, services.db, name, role)


async def revoke_token(services: Services, token_id: str) -> ApiToken:
    """Revoke it, and tell every API process to close its open websockets."""
    token = await to_thread(tokens.revoke_token, services.db, token_id)
    await to_thread(revocation.announce, services.redis, services.settings.namespace, token.id)
    return token
