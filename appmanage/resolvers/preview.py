"""previewInstall's resolver: the install plan, validated exactly as installApp would, of
a catalog app or of the operator's own compose file."""

from __future__ import annotations

from asyncio import to_thread
from collections.abc import Iterable

from appmanage.apps.custom import CustomPlan, check_source, validate_custom_install
from appmanage.apps.plan import InstallPlan, validate_install
from appmanage.apps.settings_input import GivenSetting, given_settings
from appmanage.catalog.custom_project import CustomFiles
from appmanage.services import Services


async def preview_install(
    services: Services,
    catalog_app: str | None,
    name: str,
    version: str | None,
    settings: Iterable[GivenSetting] | None,
    host: str | None = None,
    compose: str | None = None,
    env: str | None = None,
) -> InstallPlan | CustomPlan:
    given = given_settings(settings)
    check_source(catalog_app, compose, env, version, bool(given))
    if compose is not None:
        return await to_thread(validate_custom_install, services, name, CustomFiles(compose, env), host)
    assert catalog_app is not None
    return await to_thread(validate_install, services, catalog_app, name, version, given, host)
