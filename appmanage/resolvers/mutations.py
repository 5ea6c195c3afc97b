from __future__ import annotations

from asyncio import to_thread
from typing import Any

from appmanage.apps import submission as submit
from appmanage.enums import JobKind
from appmanage.services import Services
from appmanage.snapshot import AppSnapshot, snapshot_of, summary
from appmanage.status import StatusFacts, compute_status
from appmanage.storage.models import App, Job


async def install_app(
    services: Services, catalog_app: str, name: str, version: str | None, settings: list[tuple[str, str]]
) -> tuple[Job, AppSnapshot]:
    def work() -> tuple[Job, AppSnapshot]:
        job = submit.submit_install(services, catalog_app, name, version, submit.settings_map(settings))
        return job, _accepted_snapshot(services, name, job)

    return await to_thread(work)


async def app_action(
    services: Services, name: str, kind: JobKind, params: dict[str, Any] | None = None
) -> tuple[Job, AppSnapshot]:
    def work() -> tuple[Job, AppSnapshot]:
        job = submit.submit_action(services, name, kind, params)
        return job, _accepted_snapshot(services, name, job)

    return await to_thread(work)


async def cancel_job(services: Services, job_id: str) -> Job:
    return await to_thread(submit.cancel_job, services, job_id)


def _accepted_snapshot(services: Services, name: str, job: Job) -> AppSnapshot:
    """The app as it is now; if a fast worker already removed it, as it was when accepted."""
    snapshot = snapshot_of(services, name)
    if snapshot is not None:
        return snapshot
    app = App(name=name, catalog_app="", source="", version="", settings={}, host_ports=[])
    app.created_at = app.updated_at = job.created_at
    facts = StatusFacts(False, False, summary(job), None, (), True)
    return AppSnapshot(app, compute_status(facts), (), job)
