"""The watcher's loop: follows Docker's events and announces each app status change.

After every (re)connection, and at the end of every window of the event stream, it
recomputes all apps at once, so a change is never missed while the stream was down.
While Docker is away, apps are announced UNKNOWN, and it keeps trying to reconnect.
It also runs the job recovery passes (appmanage.jobs.recovery) and, once at its start,
resumes the apps that should run (appmanage.watcher.resume).
"""

from __future__ import annotations

import logging
import threading

from appmanage.jobs.recovery import start_recovery
from appmanage.runtime.containers import DockerUnavailable
from appmanage.runtime.docker_events import project_events
from appmanage.services import Services
from appmanage.status_feed import announce
from appmanage.watcher.resume import resume_desired_state

log = logging.getLogger(__name__)

RESYNC_SECONDS = 30.0
RETRY_SECONDS = 1.0


def watch(services: Services, stopping: threading.Event | None = None) -> None:
    stopping = stopping or threading.Event()
    start_recovery(services, stopping)
    try:
        resume_desired_state(services)
    except DockerUnavailable:
        log.warning("Docker does not answer: apps are not resumed")
    while not stopping.is_set():
        try:
            announce(services)
            for project in project_events(RESYNC_SECONDS):
                if stopping.is_set():
                    return
                announce(services, None if project is None else [project])
        except DockerUnavailable as exc:
            log.warning("Docker event stream lost (%s); retrying", exc)
            announce(services)
            stopping.wait(RETRY_SECONDS)
