"""previewInstall's resolver: the install plan, validated exactly as installApp would."""

from __future__ import annotations

from asyncio import to_thread
from collections.abc import Iterable

from appmanage.apps.plan import InstallPlan, validate_install
from appmanage.apps.settings_input import GivenSetting, given_settings
from appmanage.services import Services


async def preview_install(
    services: Services,
    catalog_app: str,
    name: str,
    version: str | None,
    settings: Iterable[GivenSetting] | None,
    host: str | None = None,
) -> InstallPlan:
    given = given_settings(settings)
    return await to_thread(validate_install, services, catalog_app, name, version, given, host)
