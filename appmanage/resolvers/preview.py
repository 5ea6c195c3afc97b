from __future__ import annotations

from asyncio import to_thread

from appmanage.apps import submission as submit
from appmanage.services import Services


async def preview_install(
    services: Services, catalog_app: str, name: str, version: str | None, settings: list[tuple[str, str]]
) -> submit.InstallPlan:
    def work() -> submit.InstallPlan:
        return submit.validate_install(services, catalog_app, name, version, submit.settings_map(settings))

    return await to_thread(work)
