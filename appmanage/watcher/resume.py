"""After a restart (a host reboot), start the apps that should run but are all exited.

Apps the operator stopped stay stopped: their desired state says so. The START job is
written here, on the worker side of the queue, with its own checks: the app is installed,
desired running, EXITED, and has no unfinished job. The database's one-unfinished-job-per-
app index settles a race with a mutation: the loser writes nothing.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from appmanage.enums import AppStatus, JobKind
from appmanage.jobs import records
from appmanage.jobs.dispatch import dispatch
from appmanage.services import Services
from appmanage.snapshot import take_snapshot
from appmanage.status_feed import announce
from appmanage.storage import queries
from appmanage.storage.models import App, Job

log = logging.getLogger(__name__)


def resume_desired_state(services: Services) -> list[str]:
    """The names of the apps a START job was queued for."""
    started = []
    for snapshot in take_snapshot(services):
        app = snapshot.app
        if app.host != services.settings.agent_host:
            continue  # another engine's app: its own agent resumes it
        if not (app.installed and app.desired_running and snapshot.status.status is AppStatus.EXITED):
            continue
        if snapshot.active_job is not None:
            continue
        job = _start_job(services, app.name)
        if job is None:
            continue
        dispatch(services, job, app.host)
        announce(services, [app.name])
        log.info("started %s again: it was running before AppManage stopped", app.name)
        started.append(app.name)
    return started


def _start_job(services: Services, name: str) -> Job | None:
    """A QUEUED START job for the app, or None when it changed meanwhile."""
    try:
        with services.db.write() as session:
            app = session.get(App, name)
            if app is None or not app.installed or not app.desired_running:
                return None
            if queries.unfinished_jobs(session, [name]):
                return None
            return records.new_job(session, name, JobKind.START)
    except IntegrityError:
        log.warning("could not start %s again: another job was queued for it first", name)
        return None
