"""A bench-only prototype of the fix proposed for the watcher (not AppManage code): run by
`bench/event_latency.py --watcher inspect-on-die` in place of `appmanage watch`.

Docker emits a container's `die` event before it has finished handling the exit
(network clean-up, then the state written to the view that `GET /containers/json`
reads). For ~100-200 ms after `die` the listing still says `running`, so
appmanage.watcher announces nothing for a `docker kill` (no event follows `die`) until
its resync at the end of the 30 s window. `GET /containers/{id}/json` (inspect) takes the
container's lock, so it answers only once the exit is handled. This variant differs from
appmanage.watcher.watch in one thing: on `die`, `stop` and `oom` it inspects that
container (and ignores the answer) before announcing the project.

Run with the environment of a stack (APPMANAGE_*), like `appmanage watch`.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import docker  # noqa: E402
from docker.errors import DockerException  # noqa: E402
from requests.exceptions import RequestException  # noqa: E402

from appmanage.config import Settings  # noqa: E402
from appmanage.jobs.recovery import resume_desired_state, start_recovery  # noqa: E402
from appmanage.logs import setup_logging  # noqa: E402
from appmanage.runtime.containers import PROJECT_LABEL, DockerUnavailable  # noqa: E402
from appmanage.runtime.docker_events import STATE_ACTIONS  # noqa: E402
from appmanage.services import Services  # noqa: E402
from appmanage.status_feed import announce  # noqa: E402
from appmanage.watcher import RESYNC_SECONDS, RETRY_SECONDS  # noqa: E402

SETTLE_ACTIONS = {"die", "stop", "oom"}


def project_events(window: float) -> Iterator[tuple[str, str, str] | None]:
    """appmanage.runtime.docker_events.project_events, also yielding action and container id."""
    try:
        api = docker.from_env(timeout=int(window) + 30).api
    except DockerException as exc:
        raise DockerUnavailable(str(exc)) from exc
    since = int(time.time())
    try:
        while True:
            until = int(time.time() + window)
            stream = api.events(
                since=since, until=until, decode=True, filters={"type": "container", "label": PROJECT_LABEL}
            )
            for event in stream:
                action = str(event.get("Action") or event.get("status") or "").split(":", 1)[0]
                actor = event.get("Actor") or {}
                project = (actor.get("Attributes") or {}).get(PROJECT_LABEL)
                if action in STATE_ACTIONS and project:
                    yield project, action, str(actor.get("ID") or event.get("id") or "")
            since = until
            yield None
    except (DockerException, RequestException, OSError) as exc:
        raise DockerUnavailable(str(exc)) from exc
    finally:
        api.close()


def watch(services: Services, stopping: threading.Event) -> None:
    start_recovery(services, stopping)
    with contextlib.suppress(DockerUnavailable):
        resume_desired_state(services)
    while not stopping.is_set():
        try:
            announce(services)
            for item in project_events(RESYNC_SECONDS):
                if stopping.is_set():
                    return
                if item is None:
                    announce(services)
                    continue
                project, action, container_id = item
                if action in SETTLE_ACTIONS and container_id:
                    # waits on the container's lock until Docker has handled the exit
                    with contextlib.suppress(DockerException, RequestException):
                        services.containers.api.inspect_container(container_id)
                announce(services, [project])
        except DockerUnavailable:
            announce(services)
            stopping.wait(RETRY_SECONDS)


def main() -> int:
    settings = Settings.from_env()
    setup_logging(settings, "watch")
    services = Services(settings)
    try:
        watch(services, threading.Event())
    except KeyboardInterrupt:
        pass
    finally:
        services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
