"""The status of an app, as one pure function of what we know about it.

The rules of DESIGN.md, first match wins: the app's host offline (its agent silent or
too old, its engine not answering: UNKNOWN with the host's reason, a queued job waits on
the host's queue), a job in flight, Docker silent, failure,
crash loop, exited, degraded, unhealthy, running. One-shot containers (exit 0, restart
policy `no` or `on-failure`) are done, not down, and take no part after the FAILED rule.
The actions a status allows depend on the app's source too: only a catalog app has
versions to UPDATE to, only an operator's own compose app has files to EDIT.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from appmanage.enums import AppAction, AppStatus, JobKind, JobState

BUSY_STATUS = {
    JobKind.INSTALL: AppStatus.INSTALLING,
    JobKind.UPDATE: AppStatus.UPDATING,
    JobKind.REDEPLOY: AppStatus.UPDATING,
    JobKind.UNINSTALL: AppStatus.UNINSTALLING,
    JobKind.START: AppStatus.STARTING,
    JobKind.RESTART: AppStatus.STARTING,
    JobKind.STOP: AppStatus.STOPPING,
    JobKind.EDIT: AppStatus.UPDATING,
    JobKind.BACKUP: AppStatus.BACKING_UP,
    JobKind.RESTORE: AppStatus.RESTORING,
}
"""A job of a kind not named here (DELETE_BACKUP) leaves the app's status to its containers."""

ALL_ACTIONS = tuple(AppAction)
ALLOWED_ACTIONS: dict[AppStatus, tuple[AppAction, ...]] = {
    AppStatus.INSTALLING: (),
    AppStatus.UPDATING: (),
    AppStatus.UNINSTALLING: (),
    AppStatus.STARTING: (),
    AppStatus.STOPPING: (),
    AppStatus.BACKING_UP: (),
    AppStatus.RESTORING: (),
    AppStatus.UNKNOWN: (),
    AppStatus.FAILED: (AppAction.REDEPLOY, AppAction.EDIT, AppAction.UNINSTALL),
    AppStatus.RESTARTING: (AppAction.STOP, AppAction.RESTART, AppAction.UNINSTALL, AppAction.LOGS),
    AppStatus.EXITED: (
        AppAction.START,
        AppAction.RESTART,
        AppAction.REDEPLOY,
        AppAction.EDIT,
        AppAction.UNINSTALL,
        AppAction.LOGS,
    ),
    AppStatus.DEGRADED: ALL_ACTIONS,
    AppStatus.UNHEALTHY: ALL_ACTIONS,
    AppStatus.RUNNING: ALL_ACTIONS,
}

CATALOG_ONLY = frozenset({AppAction.UPDATE})
"""Left out for an operator's own compose app: it has no catalog versions."""
CUSTOM_ONLY = frozenset({AppAction.EDIT})
"""Left out for a catalog app: its files are rendered from its catalog entry."""

ONE_SHOT_POLICIES = {"", "no", "on-failure"}


@dataclass(frozen=True)
class ContainerState:
    service: str
    state: str
    exit_code: int | None = None
    health: str | None = None
    restart_policy: str = "no"

    @property
    def one_shot_done(self) -> bool:
        return self.state == "exited" and self.exit_code == 0 and self.restart_policy in ONE_SHOT_POLICIES

    def describe(self) -> str:
        if self.state == "exited" and self.exit_code is not None:
            return f"service {self.service} exited with code {self.exit_code}"
        return f"service {self.service} is {self.state}"


@dataclass(frozen=True)
class JobSummary:
    id: str
    kind: JobKind
    state: JobState
    step: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class StatusFacts:
    installed: bool
    desired_running: bool
    active_job: JobSummary | None
    last_job: JobSummary | None
    containers: Sequence[ContainerState]
    docker_ok: bool
    host_offline: str | None = None  # why the app's host is OFFLINE; None: it is online
    custom: bool = False  # an operator's own compose app (no catalog app)


@dataclass(frozen=True)
class Status:
    status: AppStatus
    reason: str | None
    custom: bool = False

    @property
    def actions(self) -> tuple[AppAction, ...]:
        """What the status allows, less what the app's source has not (CATALOG_ONLY, CUSTOM_ONLY)."""
        lacking = CATALOG_ONLY if self.custom else CUSTOM_ONLY
        return tuple(action for action in ALLOWED_ACTIONS[self.status] if action not in lacking)


def compute_status(facts: StatusFacts) -> Status:
    status = _compute(facts)
    return replace(status, custom=True) if facts.custom else status


def _compute(facts: StatusFacts) -> Status:
    if facts.host_offline is not None:
        return Status(AppStatus.UNKNOWN, facts.host_offline)
    job = facts.active_job
    if job is not None and job.kind in BUSY_STATUS:
        doing = job.step or job.state.value.lower()
        return Status(BUSY_STATUS[job.kind], f"{job.kind.value.lower()} job {job.id}: {doing}")
    if not facts.docker_ok:
        return Status(AppStatus.UNKNOWN, "Docker did not answer")
    return _from_containers(facts)


def _from_containers(facts: StatusFacts) -> Status:
    last = facts.last_job
    if not facts.installed and last is not None and last.kind is JobKind.INSTALL:
        if last.state is JobState.CANCELED:
            return Status(AppStatus.FAILED, "canceled")
        if last.state is JobState.FAILED:
            return Status(AppStatus.FAILED, last.error or "the install failed")
    containers = sorted(facts.containers, key=lambda c: c.service)
    if not containers:
        return Status(AppStatus.FAILED, "the app has no containers")
    for container in containers:
        if container.state == "created":
            return Status(AppStatus.FAILED, f"service {container.service} was created but never started")
        if container.state == "dead":
            return Status(AppStatus.FAILED, f"service {container.service} is dead")
    for container in containers:
        if container.state == "restarting":
            return Status(AppStatus.RESTARTING, f"service {container.service} keeps restarting")

    long_running = [c for c in containers if not c.one_shot_done]
    if not long_running:
        return Status(AppStatus.EXITED, "every service has finished")
    running = [c for c in long_running if c.state == "running"]
    down = [c for c in long_running if c.state != "running"]
    if not running:
        if not facts.desired_running:
            return Status(AppStatus.EXITED, "stopped by the operator")
        crashed = [c for c in down if c.exit_code]
        return Status(AppStatus.EXITED, (crashed or down)[0].describe())
    if down:
        return Status(AppStatus.DEGRADED, down[0].describe())
    unhealthy = [c for c in running if c.health == "unhealthy"]
    if unhealthy:
        return Status(AppStatus.UNHEALTHY, f"service {unhealthy[0].service} is unhealthy")
    return Status(AppStatus.RUNNING, None)
