"""`appmanage agent`: the workers and the watcher of one Docker host, in one process tree.

The agent imports everything its children run, migrates the database, then freezes the
garbage collector's view of what it holds (`gc.freeze`: collections never write to those
pages again), and only then forks: `APPMANAGE_WORKERS` workers and one watcher
(`forking.py`). Each is a process of its own, so a dying one takes no other down, and
each is restarted with the supervisor's backoff. The pages of the modules imported before
the fork stay shared, copy-on-write, so a worker costs a few MB instead of a whole
interpreter with its imports. The agent itself starts no thread and opens no connection:
every fork, a restart long after the start too, is as safe as the first.

`--host` names the Docker host the agent serves. Today that is `local`, the Docker of
DOCKER_HOST or of the local socket, the only host there is.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Callable

from appmanage.config import Settings
from appmanage.logs import setup_logging
from appmanage.supervisor import Child, Supervisor

LOCAL_HOST = "local"
HOSTS = (LOCAL_HOST,)

log = logging.getLogger(__name__)


def run_agent(settings: Settings, host: str = LOCAL_HOST) -> int:
    setup_logging(settings, "agent")
    _preload(settings)
    children = [Child(f"worker {n + 1}", [], _worker(settings)) for n in range(max(1, settings.workers))]
    children.append(Child("watcher", [], lambda: run_watcher(settings)))
    log.info("agent for Docker host %s: %d workers and the watcher", host, len(children) - 1)
    gc.collect()
    gc.freeze()
    return Supervisor(children).run()


def run_worker(settings: Settings, burst: bool = False) -> int:
    from appmanage.jobs.worker import work

    setup_logging(settings, "worker")
    return work(settings, burst=burst)


def run_watcher(settings: Settings) -> int:
    from appmanage.services import Services
    from appmanage.watcher.main import watch

    setup_logging(settings, "watch")
    services = Services(settings)
    services.db.migrate()
    try:
        watch(services)
    except KeyboardInterrupt:
        pass
    finally:
        services.close()
    return 0


def _worker(settings: Settings) -> Callable[[], int]:
    return lambda: run_worker(settings)


def _preload(settings: Settings) -> None:
    """What the children would each import at their start, imported once before the fork;
    the schema is migrated here, so the children find it current (and alembic loaded)."""
    import appmanage.jobs.operations
    import appmanage.jobs.runner
    import appmanage.jobs.worker
    import appmanage.watcher.main
    import appmanage.watcher.resume  # noqa: F401
    from appmanage.runtime.compose import ComposeError, detect_compose_command
    from appmanage.storage.database import Database

    database = Database(settings.database_url)
    try:
        database.migrate()
    finally:
        database.dispose()
    with contextlib.suppress(ComposeError):  # each worker says so in its own log
        detect_compose_command()
