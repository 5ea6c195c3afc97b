"""The status table of DESIGN.md, row by row, without Docker."""

from __future__ import annotations

import pytest

from appmanage.enums import AppAction, AppStatus, JobKind, JobState
from appmanage.status import ALLOWED_ACTIONS, ContainerState, JobSummary, StatusFacts, compute_status

ALL = set(AppAction)


def run(service: str = "web", health: str | None = None) -> ContainerState:
    return ContainerState(service, "running", None, health, "unless-stopped")


def exited(service: str = "web", code: int = 0, policy: str = "unless-stopped") -> ContainerState:
    return ContainerState(service, "exited", code, None, policy)


def facts(
    *containers: ContainerState,
    installed: bool = True,
    desired_running: bool = True,
    active: JobSummary | None = None,
    last: JobSummary | None = None,
    docker_ok: bool = True,
    host_offline: str | None = None,
    custom: bool = False,
) -> StatusFacts:
    return StatusFacts(installed, desired_running, active, last, list(containers), docker_ok, host_offline, custom)


B_SILENT = "host b is OFFLINE: agent not seen since 2026-12-10T10:00:00+00:00"


def job(kind: JobKind, state: JobState, error: str | None = None) -> JobSummary:
    return JobSummary("j1", kind, state, None, error)


CASES = [
    # (id, facts, status, reason fragment)
    ("install queued", facts(installed=False, active=job(JobKind.INSTALL, JobState.QUEUED)), "INSTALLING", "install"),
    ("install running", facts(active=job(JobKind.INSTALL, JobState.RUNNING)), "INSTALLING", "install"),
    ("update running", facts(run(), active=job(JobKind.UPDATE, JobState.RUNNING)), "UPDATING", "update"),
    ("redeploy running", facts(run(), active=job(JobKind.REDEPLOY, JobState.RUNNING)), "UPDATING", "redeploy"),
    ("uninstall queued", facts(run(), active=job(JobKind.UNINSTALL, JobState.QUEUED)), "UNINSTALLING", ""),
    ("start running", facts(exited(), active=job(JobKind.START, JobState.RUNNING)), "STARTING", ""),
    ("restart counts as starting", facts(run(), active=job(JobKind.RESTART, JobState.QUEUED)), "STARTING", ""),
    ("stop running", facts(run(), active=job(JobKind.STOP, JobState.RUNNING)), "STOPPING", ""),
    ("job beats Docker silence", facts(docker_ok=False, active=job(JobKind.STOP, JobState.RUNNING)), "STOPPING", ""),
    ("docker silent", facts(run(), docker_ok=False), "UNKNOWN", "Docker"),
    ("host offline", facts(run(), host_offline=B_SILENT), "UNKNOWN", B_SILENT),
    (
        "host offline beats a queued job",
        facts(host_offline=B_SILENT, active=job(JobKind.START, JobState.QUEUED)),
        "UNKNOWN",
        "host b is OFFLINE",
    ),
    ("host offline beats Docker silence", facts(docker_ok=False, host_offline=B_SILENT), "UNKNOWN", "agent not seen"),
    (
        "host offline beats a failed install",
        facts(installed=False, host_offline=B_SILENT, last=job(JobKind.INSTALL, JobState.FAILED, "boom")),
        "UNKNOWN",
        "host b",
    ),
    ("host online: containers decide", facts(run(), host_offline=None), "RUNNING", None),
    (
        "install failed, never ran",
        facts(installed=False, last=job(JobKind.INSTALL, JobState.FAILED, "pull access denied")),
        "FAILED",
        "pull access denied",
    ),
    ("install canceled", facts(installed=False, last=job(JobKind.INSTALL, JobState.CANCELED)), "FAILED", "canceled"),
    ("created, never started", facts(ContainerState("web", "created")), "FAILED", "never started"),
    ("dead container", facts(run("db"), ContainerState("web", "dead")), "FAILED", "dead"),
    ("installed, no containers", facts(), "FAILED", "no containers"),
    ("crash loop", facts(run("db"), ContainerState("web", "restarting", 1)), "RESTARTING", "web"),
    ("all exited", facts(exited("web", 1), exited("db", 0)), "EXITED", "web exited with code 1"),
    ("paused counts as exited", facts(ContainerState("web", "paused")), "EXITED", "paused"),
    ("stopped by the operator", facts(exited("web", 137), desired_running=False), "EXITED", "operator"),
    ("some run, others not", facts(run("web"), exited("worker", 2)), "DEGRADED", "worker exited with code 2"),
    ("unhealthy", facts(run("web", "unhealthy"), run("db", "healthy")), "UNHEALTHY", "web is unhealthy"),
    ("running", facts(run("web"), run("db", "healthy")), "RUNNING", None),
    ("health starting is running", facts(run("web", "starting")), "RUNNING", None),
    ("init container done", facts(run("web"), exited("init", 0, "no")), "RUNNING", None),
    ("migration done on-failure", facts(run("web"), exited("migrate", 0, "on-failure")), "RUNNING", None),
    ("init done, web down", facts(exited("web", 1), exited("init", 0, "no")), "EXITED", "web"),
    ("exit 0 under always is down", facts(run("web"), exited("worker", 0, "always")), "DEGRADED", "worker"),
    ("init failed is down", facts(run("web"), exited("init", 1, "no")), "DEGRADED", "init exited with code 1"),
    ("only one-shots, all done", facts(exited("init", 0, "no")), "EXITED", "finished"),
    (
        "failed update of a running app",
        facts(run(), last=job(JobKind.UPDATE, JobState.FAILED, "boom")),
        "RUNNING",
        None,
    ),
]


@pytest.mark.parametrize(("case", "given", "status", "reason"), CASES, ids=[c[0] for c in CASES])
def test_status_table(case: str, given: StatusFacts, status: str, reason: str | None) -> None:
    result = compute_status(given)
    assert result.status is AppStatus(status)
    if reason is None:
        assert result.reason is None
    else:
        assert result.reason is not None and reason in result.reason
    assert result.actions == tuple(a for a in ALLOWED_ACTIONS[result.status] if a is not AppAction.EDIT)


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        (AppStatus.INSTALLING, set()),
        (AppStatus.UNKNOWN, set()),
        (AppStatus.FAILED, {AppAction.UNINSTALL, AppAction.REDEPLOY, AppAction.EDIT}),
        (AppStatus.RESTARTING, {AppAction.STOP, AppAction.RESTART, AppAction.UNINSTALL, AppAction.LOGS}),
        (
            AppStatus.EXITED,
            {
                AppAction.START,
                AppAction.RESTART,
                AppAction.REDEPLOY,
                AppAction.EDIT,
                AppAction.UNINSTALL,
                AppAction.LOGS,
            },
        ),
        (AppStatus.DEGRADED, ALL),
        (AppStatus.UNHEALTHY, ALL),
        (AppStatus.RUNNING, ALL),
    ],
)
def test_allowed_actions(status: AppStatus, allowed: set[AppAction]) -> None:
    assert set(ALLOWED_ACTIONS[status]) == allowed


def test_every_status_has_actions() -> None:
    assert set(ALLOWED_ACTIONS) == set(AppStatus)


# The actions by the app's source: a catalog app has versions to UPDATE to and no files to
# EDIT, an operator's own compose app the other way round; the status allows the rest.
SOURCE_ACTIONS = [
    ("catalog running", facts(run()), "START STOP RESTART REDEPLOY UPDATE UNINSTALL LOGS"),
    ("custom running", facts(run(), custom=True), "START STOP RESTART REDEPLOY EDIT UNINSTALL LOGS"),
    ("catalog exited", facts(exited(code=1)), "START RESTART REDEPLOY UNINSTALL LOGS"),
    ("custom exited", facts(exited(code=1), custom=True), "START RESTART REDEPLOY EDIT UNINSTALL LOGS"),
    ("catalog failed", facts(ContainerState("web", "dead")), "REDEPLOY UNINSTALL"),
    ("custom failed", facts(ContainerState("web", "dead"), custom=True), "REDEPLOY EDIT UNINSTALL"),
    ("custom restarting", facts(ContainerState("web", "restarting"), custom=True), "STOP RESTART UNINSTALL LOGS"),
    ("custom editing", facts(run(), active=job(JobKind.EDIT, JobState.RUNNING), custom=True), ""),
]


@pytest.mark.parametrize(("case", "given", "actions"), SOURCE_ACTIONS, ids=[c[0] for c in SOURCE_ACTIONS])
def test_actions_by_source(case: str, given: StatusFacts, actions: str) -> None:
    assert [a.value for a in compute_status(given).actions] == actions.split()
