"""`appmanage agent`: the workers and the watcher of one Docker host, in one process tree.

The agent imports everything its children run, migrates the database, then freezes the
garbage collector's view of what it holds (`gc.freeze`: collections never write to those
pages again), and only then forks: `APPMANAGE_WORKERS` workers and one watcher
(`forking.py`). Each is a process of its own, so a dying one takes no other down, and
each is restarted with the supervisor's backoff. The pages of the modules imported before
the fork stay shared, copy-on-write, so a worker costs a few MB instead of a whole
interpreter with its imports. The agent itself starts no thread and opens no connection:
every fork, a restart long after the start too, is as safe as the first. Recovery
(jobs/recovery.py) runs in the watcher only: the workers do not run it (that saves each
~5 MB of pages it would touch), while a standalone `appmanage worker` runs it itself.
glibc's malloc is held to MALLOC_ARENA_MAX=2 arenas in the agent and all it forks.

With `--api` (what `appmanage run` starts) the agent forks the API server too: it shares
the database, Redis and Docker modules the agent imported (~20 MB less than an API of its
own); Strawberry and uvicorn are imported in that child only, so the workers never hold them.

`--host` names the Docker host the agent serves (default `local`); DOCKER_HOST picks its
engine. The watcher child also runs the host's heartbeat (appmanage.hosts.heartbeat): it
registers the host and keeps its facts current in Redis.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import logging
import re
import threading
from collections.abc import Callable

from appmanage.config import Settings
from appmanage.forking import fork_child, limit_malloc_arenas
from appmanage.logs import setup_logging
from appmanage.supervisor import Child, Supervisor

LOCAL_HOST = "local"
HOST_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")

log = logging.getLogger(__name__)


def run_agent(settings: Settings, host: str = LOCAL_HOST, api: bool = False) -> int:
    settings = dataclasses.replace(settings, agent_host=host)  # its workers take only `host`'s queue
    setup_logging(settings, "agent")
    limit_malloc_arenas()  # for the agent and every child it forks
    _preload(settings)
    workers = max(1, settings.workers)
    children = [Child(f"worker {n + 1}", [], _worker(settings)) for n in range(workers)]
    children.append(Child("watcher", [], lambda: run_watcher(settings, host, migrate=False)))
    if api:
        children.append(Child("api", [], lambda: _serve(settings)))
    log.info("agent for Docker host %s: %d workers, the watcher%s", host, workers, " and the API" if api else "")
    gc.collect()
    gc.freeze()
    return Supervisor(children).run()


def run_worker(settings: Settings, burst: bool = False, migrate: bool = True, recover: bool = True) -> int:
    from appmanage.jobs.worker import work

    limit_malloc_arenas()  # a standalone worker's; a forked one has its agent's
    setup_logging(settings, "worker")
    return work(settings, burst=burst, migrate=migrate, recover=recover)


def run_watcher(settings: Settings, host: str = LOCAL_HOST, migrate: bool = True) -> int:
    from appmanage.hosts.heartbeat import Heartbeat, parse_labels
    from appmanage.hosts.rows import register_host
    from appmanage.services import Services
    from appmanage.watcher.main import watch

    limit_malloc_arenas()
    setup_logging(settings, "watch")
    services = Services(settings)
    if migrate:
        services.db.migrate()
    register_host(services.db, host)
    stopping = threading.Event()
    heartbeat = Heartbeat(
        host, services.redis, settings.namespace, settings.data_dir, parse_labels(settings.host_labels)
    )
    heartbeat.start(stopping)
    try:
        watch(services)
    except KeyboardInterrupt:
        pass
    finally:
        stopping.set()
        services.close()
    return 0


def _serve(settings: Settings) -> int:
    from appmanage.serving import serve_api

    setup_logging(settings, "api")
    return serve_api(settings)


def _worker(settings: Settings) -> Callable[[], int]:
    return lambda: run_worker(settings, migrate=False, recover=False)  # the watcher recovers


def _preload(settings: Settings) -> None:
    """What the children would each import at their start, imported once before the fork,
    and the ORM's mappers configured once. The schema is migrated by a short-lived forked
    child, so the children find it current and neither they nor the agent load Alembic."""
    from sqlalchemy.orm import configure_mappers

    import appmanage.hosts.heartbeat
    import appmanage.hosts.rows
    import appmanage.jobs.operations
    import appmanage.jobs.runner
    import appmanage.jobs.worker
    import appmanage.services
    import appmanage.storage.models
    import appmanage.watcher.main
    import appmanage.watcher.resume  # noqa: F401
    from appmanage.runtime.compose import ComposeError, detect_compose_command

    configure_mappers()
    if code := migrate_in_child(settings):
        raise SystemExit(f"appmanage agent: migrating the database failed (exit code {code}; its error is above)")
    with contextlib.suppress(ComposeError):  # each worker says so in its own log
        detect_compose_command()


def migrate_in_child(settings: Settings) -> int:
    """Migrate in a short-lived forked child: Alembic (~8 MB with Mako and Pygments) is
    loaded there and gone with it. Its exit code; call it before starting any thread."""
    return fork_child("migrate", lambda: _migrate(settings)).wait()


def _migrate(settings: Settings) -> int:
    from appmanage.storage.database import Database

    database = Database(settings.database_url)
    try:
        database.migrate()
    finally:
        database.dispose()
    return 0
