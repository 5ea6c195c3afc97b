"""The API server itself: uvicorn over `create_app`, for `appmanage serve` and for the API
child that `appmanage run`'s agent forks (`agent --api`). The database is migrated by the
caller, so this process never loads Alembic.

uvicorn runs on asyncio's own loop with h11: uvloop and httptools cost ~4 MB of an idle
API's memory and save ~0.15 ms of a ~1 ms request (measured for issue 12)."""

from __future__ import annotations

import logging

from appmanage.config import Settings

log = logging.getLogger("appmanage")


def serve_api(settings: Settings) -> int:
    import uvicorn

    from appmanage.app import create_app

    log.info("AppManage API on http://%s:%s/graphql, data in %s", settings.host, settings.port, settings.data_dir)
    uvicorn.run(
        create_app(settings, migrate=False, freeze_gc=True),
        host=settings.host,
        port=settings.port,
        log_config=None,
        loop="asyncio",
        http="h11",
        ws="websockets-sansio",
        ws_max_size=settings.max_body_bytes,
        ws_per_message_deflate=False,  # frames are small; compressing each costs CPU per subscriber
    )
    return 0
