"""An app a lost BACKUP or RESTORE job held still (paused or stopped), let go again.

Recovery (`jobs/recovery.py`) fails a job whose worker died; for these kinds it calls
`let_go` in the same transaction: when the app is installed and desired running, an
ordinary START job is queued (listed among the app's jobs; its operation unpauses paused
containers before `compose start`). A lost RESTORE's error also says the restore was cut
and names its safety snapshot: the one to restore from when the app's folder or volumes
were being replaced. The transaction's one-unfinished-job-per-app index settles a race
with a mutation: the START is then not written.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from appmanage.enums import JobKind
from appmanage.jobs import records
from appmanage.jobs.params import RestoreParams, params_of
from appmanage.storage import queries
from appmanage.storage.models import App, Backup, Job

HOLDING_KINDS = frozenset({JobKind.BACKUP, JobKind.RESTORE})


@dataclass(frozen=True)
class LetGo:
    note: str
    """What the lost job's error adds ("" when nothing)."""
    start: Job | None
    """The START job queued in the transaction, for the caller to dispatch after it."""


def let_go(session: Session, lost: Job) -> LetGo:
    """`lost` is FAILED in `session` already."""
    if lost.kind not in HOLDING_KINDS:
        return LetGo("", None)
    note = _restore_note(session, lost) if lost.kind is JobKind.RESTORE else ""
    session.flush()  # the lost job finished before the START is written: one unfinished job per app
    app = session.get(App, lost.app_name)
    if app is None or not app.installed or not app.desired_running or queries.unfinished_jobs(session, [app.name]):
        return LetGo(note, None)
    try:
        with session.begin_nested():
            start = records.new_job(session, app.name, JobKind.START)
    except IntegrityError:  # another job of the app came first
        return LetGo(note, None)
    return LetGo(f"{note}; started again by job {start.id}", start)


def _restore_note(session: Session, lost: Job) -> str:
    params = params_of(lost, RestoreParams)
    if params.new_app:
        return f"; the restore into the new app {lost.app_name} was cut: uninstall it and restore again"
    safety = session.scalar(select(Backup.id).where(Backup.safety_for_job == lost.id))
    if safety is None:
        return "; the restore was cut before its safety snapshot: the app's folder and volumes were not replaced"
    return (
        f"; the restore was cut: when the app's folder or volumes look half replaced, restore "
        f"the safety snapshot {safety} (the app as it was before this restore)"
    )
