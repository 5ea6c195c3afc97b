"""The watcher's loop: follows Docker's events and announces each app status change.

Each event moves the book of containers (watcher.book) to the state the event implies,
and the app's status is announced from it at once, without asking Docker; the correction
thread (watcher.correction) then lists the project once Docker has recorded the change
and announces the listing's truth, so a wrong provisional status is corrected. After
every (re)connection, and at the end of every window of the event stream, all apps are
listed at once, so a change is never missed while the stream was down. While Docker is
away, apps are announced UNKNOWN, and it keeps trying to reconnect. It also runs the job
recovery passes (appmanage.jobs.recovery), the host's stats sampler (appmanage.stats.sampler)
and, once at its start, resumes the apps that should run (appmanage.watcher.resume).
"""

from __future__ import annotations

import logging
import threading

from appmanage.jobs.recovery import start_recovery
from appmanage.runtime.container_events import event_project
from appmanage.runtime.containers import DockerUnavailable
from appmanage.runtime.docker_events import container_events
from appmanage.services import Services
from appmanage.stats.sampler import start_sampler
from appmanage.status_feed import announce
from appmanage.watcher.book import ContainerBook
from appmanage.watcher.correction import Correction
from appmanage.watcher.resume import resume_desired_state

log = logging.getLogger(__name__)

RESYNC_SECONDS = 30.0
RETRY_SECONDS = 1.0


def watch(services: Services, stopping: threading.Event | None = None) -> None:
    stopping = stopping or threading.Event()
    start_recovery(services, stopping)
    sampler = start_sampler(services.settings, services.redis, services.db, stopping)
    try:
        resume_desired_state(services)
    except DockerUnavailable:
        log.warning("Docker does not answer: apps are not resumed")
    book = ContainerBook()
    correction = Correction(services, book, stopping)
    correction.start()
    try:
        while not stopping.is_set():
            try:
                correction.check(None)
                for event in container_events(RESYNC_SECONDS):
                    if stopping.is_set():
                        return
                    if event is None:
                        correction.check(None)
                        continue
                    sampler.notice(event)
                    project, changed = event_project(event), book.apply(event)
                    if changed is not None:
                        announce(services, [changed], known={changed: book.project(changed)})
                    if project is not None:
                        correction.check(project, event)
            except DockerUnavailable as exc:
                log.warning("Docker event stream lost (%s); retrying", exc)
                announce(services)
                stopping.wait(RETRY_SECONDS)
    finally:
        correction.close()
