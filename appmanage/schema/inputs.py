"""The input types of installApp, previewInstall and redeployApp."""

from __future__ import annotations

import strawberry

from appmanage.apps.install_request import InstallRequest


@strawberry.input
class SettingInput:
    key: str
    value: str


@strawberry.input
class InstallAppInput:
    catalog_app: str | None = strawberry.field(
        default=None, description="The catalog app to install; or give `compose` instead (exactly one of them)."
    )
    name: str = strawberry.field(description="^[a-z][a-z0-9-]{1,30}$: becomes a folder and a compose project")
    version: str | None = None
    settings: list[SettingInput] | None = None
    host: str | None = strawberry.field(
        default=None,
        description="The Docker host to install on; without it, an ONLINE host that fits is chosen "
        "(fewest apps, then most free memory) and JobAccepted's app says which.",
    )
    compose: str | None = strawberry.field(
        default=None,
        description="Your own compose file instead of a catalog app: kept byte for byte as the app's compose.yaml.",
    )
    env: str | None = strawberry.field(default=None, description="With `compose`: the text of its `.env`.")

    def request(self) -> InstallRequest:
        """The input read once: exactly one source, each setting given once (else ValidationFailed)."""
        return InstallRequest.of(
            self.name, self.catalog_app, self.version, self.settings, self.host, self.compose, self.env
        )
