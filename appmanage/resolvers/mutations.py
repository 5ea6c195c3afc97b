"""The mutations' resolvers: the settings input made a mapping (once), then the
submission (`apps/submission.py`) in a worker thread."""

from __future__ import annotations

from asyncio import to_thread
from collections.abc import Iterable

from appmanage.apps import custom_submission, submission
from appmanage.apps.install_request import InstallRequest
from appmanage.apps.settings_input import GivenSetting, given_settings
from appmanage.apps.submission import Accepted
from appmanage.enums import JobKind
from appmanage.services import Services
from appmanage.storage.models import Job


async def install_app(services: Services, request: InstallRequest) -> Accepted:
    """A catalog app, or the operator's own compose app (apps/custom.py)."""
    if request.files is not None:
        return await to_thread(
            custom_submission.submit_custom_install, services, request.name, request.files, request.host
        )
    assert request.catalog_app is not None
    return await to_thread(
        submission.submit_install,
        services,
        request.catalog_app,
        request.name,
        request.version,
        request.given,
        request.host,
    )


async def app_action(services: Services, name: str, kind: JobKind) -> Accepted:
    """Start, stop or restart."""
    return await to_thread(submission.submit_action, services, name, kind)


async def redeploy_app(services: Services, name: str, settings: Iterable[GivenSetting] | None) -> Accepted:
    given = given_settings(settings)
    return await to_thread(submission.submit_redeploy, services, name, given)


async def update_app(services: Services, name: str, version: str) -> Accepted:
    return await to_thread(submission.submit_update, services, name, version)


async def uninstall_app(services: Services, name: str, purge: bool) -> Accepted:
    return await to_thread(submission.submit_uninstall, services, name, purge)


async def cancel_job(services: Services, job_id: str) -> Job:
    return await to_thread(submission.cancel_job, services, job_id)
