"""`App.compose`: an operator's own compose app's files as kept in its row."""

from __future__ import annotations

import strawberry

from appmanage.enums import Role
from appmanage.resolvers.custom_apps import app_compose
from appmanage.schema.context import Info
from appmanage.storage.models import CUSTOM_SOURCE


@strawberry.type(description="A custom app's compose file and `.env`, byte for byte as they were sent.")
class AppCompose:
    compose: str
    env: str | None = strawberry.field(
        description="The `.env` text; the values of keys that look secret (PASSWORD, TOKEN, KEY, ...) "
        "are masked unless the caller is ADMIN."
    )


async def compose_of(info: Info, name: str, source: str) -> AppCompose | None:
    if source != CUSTOM_SOURCE:
        return None
    files = await app_compose(info.context.services, name, reveal=info.context.role is Role.ADMIN)
    return None if files is None else AppCompose(compose=files.compose, env=files.env)
