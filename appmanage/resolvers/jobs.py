from __future__ import annotations

from asyncio import to_thread

from appmanage.services import Services
from appmanage.storage import queries
from appmanage.storage.models import Job


async def get_job(services: Services, job_id: str) -> Job | None:
    def read() -> Job | None:
        with services.db.read() as session:
            return session.get(Job, job_id)

    return await to_thread(read)


async def job_log(services: Services, job_id: str, tail: int | None) -> list[str]:
    """The last `tail` lines; never more than APPMANAGE_MAX_LIST_SIZE."""
    limit = services.settings.max_list_size
    lines = limit if tail is None else min(tail, limit)

    def read() -> list[str]:
        with services.db.read() as session:
            return queries.job_log(session, job_id, lines)

    return await to_thread(read)
