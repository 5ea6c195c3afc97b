"""The input types of installApp, previewInstall and redeployApp."""

from __future__ import annotations

import strawberry


@strawberry.input
class SettingInput:
    key: str
    value: str


@strawberry.input
class InstallAppInput:
    catalog_app: str
    name: str = strawberry.field(description="^[a-z][a-z0-9-]{1,30}$: becomes a folder and a compose project")
    version: str | None = None
    settings: list[SettingInput] | None = None
    host: str | None = strawberry.field(
        default=None,
        description="The Docker host to install on; without it, an ONLINE host that fits is chosen "
        "(fewest apps, then most free memory) and JobAccepted's app says which.",
    )
