"""Submitting an operator's own compose app: its install and its edits (`apps/custom.py`
checks them), written and enqueued like every other operation (`apps/submission.py`)."""

from __future__ import annotations

from appmanage.apps.custom import stage, validate_custom_install
from appmanage.apps.submission import Accepted, _enqueue, _submit_change
from appmanage.apps.validation import check_name_free, check_ports_free, check_refusals
from appmanage.catalog.custom_project import CustomFiles
from appmanage.enums import AppStatus, JobKind
from appmanage.errors import ActionNotAllowed
from appmanage.jobs import records
from appmanage.jobs.params import EditParams, InstallParams, JobParams, to_json
from appmanage.services import Services
from appmanage.snapshot import snapshot_of, with_job
from appmanage.storage.models import CUSTOM_SOURCE, App, utcnow


def submit_custom_install(services: Services, name: str, files: CustomFiles, host: str | None = None) -> Accepted:
    """Onto `host`, or the host placement chooses when it is None."""
    plan = validate_custom_install(services, name, files, host)
    with services.db.write() as session:
        check_name_free(session, name)
        check_ports_free(session, plan.ports, plan.busy, except_app=None, host=plan.host)
        now = utcnow()
        app = App(
            name=name,
            catalog_app=None,
            host=plan.host,
            source=CUSTOM_SOURCE,
            version=files.version,
            settings={},
            host_ports=plan.ports,
            installed=False,
            desired_running=True,
            created_at=now,
            updated_at=now,
        )
        session.add(app)
        params = InstallParams(compose=files.compose, env=files.env)
        job = records.new_job(session, name, JobKind.INSTALL, to_json(params))
    return _enqueue(services, with_job(app, job))


def submit_edit(services: Services, name: str, files: CustomFiles) -> Accepted:
    """The new files are checked in a staging folder before the job exists; the job swaps
    them in and rolls back to the previous ones when `up` fails (jobs/custom.py)."""

    def prepare(app: App) -> tuple[JobParams, list[int]]:
        if app.catalog_app is not None:
            snapshot = snapshot_of(services, name)
            status = snapshot.status if snapshot is not None else None
            raise ActionNotAllowed(
                f"{name} is the catalog app {app.catalog_app}: change it with redeployApp or updateApp; "
                "editApp changes your own compose apps only",
                status.status if status else AppStatus.UNKNOWN,
                status.actions if status else (),
            )
        staged = stage(services, name, files)
        check_refusals(services, staged.project)
        params = EditParams(files.compose, files.env, staged.ports)
        return params, [port for port in staged.ports if port not in app.host_ports]

    return _submit_change(services, name, JobKind.EDIT, prepare)
