"""The resolvers of an operator's own compose apps: their files as the API shows them, and
editApp's submission, each in a worker thread."""

from __future__ import annotations

from asyncio import to_thread

from appmanage.apps import custom_submission
from appmanage.apps.submission import Accepted
from appmanage.catalog.custom_project import CustomFiles, masked_env
from appmanage.services import Services
from appmanage.storage.models import App


async def app_compose(services: Services, name: str, reveal: bool) -> CustomFiles | None:
    """The compose file and `.env` kept in the app's row (written at install and by each
    edit that succeeded), secret values masked unless `reveal`; None for a catalog app."""

    def read() -> CustomFiles | None:
        with services.db.read() as session:
            app = session.get(App, name)
            if app is None or app.compose_file is None:
                return None
            files = CustomFiles(app.compose_file, app.env_file)
        if reveal or files.env is None:
            return files
        return CustomFiles(files.compose, masked_env(files.env))

    return await to_thread(read)


async def edit_app(services: Services, name: str, compose: str, env: str | None) -> Accepted:
    return await to_thread(custom_submission.submit_edit, services, name, CustomFiles(compose, env))
