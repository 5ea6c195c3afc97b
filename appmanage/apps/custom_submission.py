"""Submitting an operator's own compose app: its install and its edits (`apps/custom.py`
checks them), written and enqueued like every other operation (`apps/submission.py`)."""

from __future__ import annotations

from dataclasses import replace

from appmanage.apps.custom import stage, validate_custom_install
from appmanage.apps.submission import Accepted, new_app_row, submit_change, submit_new_app
from appmanage.apps.validation import check_refusals
from appmanage.catalog.custom_project import CustomFiles, unmasked_env
from appmanage.enums import JobKind
from appmanage.jobs.params import EditParams, InstallParams, JobParams
from appmanage.services import Services
from appmanage.storage.models import CUSTOM_SOURCE, App


def submit_custom_install(services: Services, name: str, files: CustomFiles, host: str | None = None) -> Accepted:
    """Onto `host`, or the host placement chooses when it is None."""
    plan = validate_custom_install(services, name, files, host)
    app = new_app_row(name, None, CUSTOM_SOURCE, files.version, plan.host, plan.ports, files=files)
    return submit_new_app(services, app, plan.busy, InstallParams(compose=files.compose, env=files.env))


def submit_edit(services: Services, name: str, files: CustomFiles) -> Accepted:
    """The new files are checked in a staging folder before the job exists; the job swaps
    them in and rolls back to the previous ones when `up` fails (jobs/custom.py). A catalog
    app's status allows no EDIT (status.py): it is refused before anything is staged."""

    def prepare(app: App) -> tuple[JobParams, list[int]]:
        edited = files if files.env is None else replace(files, env=unmasked_env(files.env, app.env_file))
        staged = stage(services, name, edited)
        check_refusals(services, staged.project)
        params = EditParams(edited.compose, edited.env, staged.ports)
        return params, [port for port in staged.ports if port not in app.host_ports]

    return submit_change(services, name, JobKind.EDIT, prepare)
