"""editApp's resolver: the submission in a worker thread."""

from __future__ import annotations

from asyncio import to_thread

from appmanage.apps import custom_submission
from appmanage.apps.submission import Accepted
from appmanage.catalog.custom_project import CustomFiles
from appmanage.services import Services


async def edit_app(services: Services, name: str, compose: str, env: str | None) -> Accepted:
    return await to_thread(custom_submission.submit_edit, services, name, CustomFiles(compose, env))
