"""`App.compose`: an operator's own compose app's files as kept in its row."""

from __future__ import annotations

import strawberry

from appmanage.catalog.custom_project import CustomFiles, masked_env
from appmanage.enums import Role
from appmanage.schema.context import Info


@strawberry.type(description="A custom app's compose file and `.env`, byte for byte as they were sent.")
class AppCompose:
    compose: str
    env: str | None = strawberry.field(
        description="The `.env` text; the values of keys that look secret (PASSWORD, TOKEN, KEY, ...) "
        "are masked unless the caller is ADMIN."
    )


def compose_of(info: Info, files: CustomFiles | None) -> AppCompose | None:
    """The files kept in the app's row (at install, and by each edit that succeeded), the
    `.env`'s secret values masked unless the caller is ADMIN; None for a catalog app."""
    if files is None:
        return None
    reveal = info.context.role is Role.ADMIN or files.env is None
    return AppCompose(compose=files.compose, env=files.env if reveal else masked_env(files.env or ""))
