"""previewInstall's resolver: the install plan, validated exactly as installApp would, of
a catalog app or of the operator's own compose file."""

from __future__ import annotations

from asyncio import to_thread

from appmanage.apps.custom import CustomPlan, validate_custom_install
from appmanage.apps.install_request import InstallRequest
from appmanage.apps.plan import InstallPlan, validate_install
from appmanage.services import Services


async def preview_install(services: Services, request: InstallRequest) -> InstallPlan | CustomPlan:
    if request.files is not None:
        return await to_thread(validate_custom_install, services, request.name, request.files, request.host)
    assert request.catalog_app is not None
    return await to_thread(
        validate_install, services, request.catalog_app, request.name, request.version, request.given, request.host
    )
