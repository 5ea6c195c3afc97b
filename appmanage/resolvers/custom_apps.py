"""The resolvers of an operator's own compose apps: their files as the API shows them, and
editApp's submission, each in a worker thread."""

from __future__ import annotations

from asyncio import to_thread

from appmanage.apps import custom_submission
from appmanage.apps.submission import Accepted
from appmanage.catalog.custom_project import COMPOSE_FILE, CustomFiles, masked_env, read_files
from appmanage.services import Services


async def app_compose(services: Services, name: str, reveal: bool) -> CustomFiles | None:
    """The app folder's compose file and `.env`, secret values masked unless `reveal`;
    None when this API's disk holds no such folder."""

    def read() -> CustomFiles | None:
        folder = services.settings.app_dir(name)
        if not (folder / COMPOSE_FILE).is_file():
            return None
        files = read_files(folder)
        if reveal or files.env is None:
            return files
        return CustomFiles(files.compose, masked_env(files.env))

    return await to_thread(read)


async def edit_app(services: Services, name: str, compose: str, env: str | None) -> Accepted:
    return await to_thread(custom_submission.submit_edit, services, name, CustomFiles(compose, env))
