"""What each kind of job is told, typed: written by the API (`apps/submission.py`) into
the Job row's JSON `params` and read back by the worker (`jobs/operations.py`), both
through this module. Rows written before these classes have the same keys and load."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, Self, TypeVar

from appmanage.enums import JobKind
from appmanage.storage.models import Job


@dataclass(frozen=True)
class _NoParams:
    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls()


@dataclass(frozen=True)
class InstallParams:
    """An install reads its settings from the App row; a custom app's files are here."""

    compose: str | None = None
    """The operator's own compose file (a custom app), written as sent; None: a catalog app."""
    env: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        compose, env = data.get("compose"), data.get("env")
        return cls(None if compose is None else str(compose), None if env is None else str(env))


@dataclass(frozen=True)
class StartParams(_NoParams):
    pass


@dataclass(frozen=True)
class StopParams(_NoParams):
    pass


@dataclass(frozen=True)
class RestartParams(_NoParams):
    pass


@dataclass(frozen=True)
class RedeployParams:
    settings: dict[str, str] = field(default_factory=dict)
    """The full settings to run with; empty: the app's own."""
    ports: list[int] = field(default_factory=list)
    """The host ports those settings publish, held for the app while the job is unfinished."""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        settings = data.get("settings") or {}
        return cls({str(k): str(v) for k, v in settings.items()}, [int(p) for p in data.get("ports") or ()])


@dataclass(frozen=True)
class UpdateParams:
    version: str
    from_version: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(str(data["version"]), str(data.get("from_version") or ""))


@dataclass(frozen=True)
class EditParams:
    """A custom app's new compose file and `.env`, and the host ports they publish."""

    compose: str
    env: str | None = None
    ports: list[int] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        env = data.get("env")
        return cls(str(data["compose"]), None if env is None else str(env), [int(p) for p in data.get("ports") or ()])


@dataclass(frozen=True)
class UninstallParams:
    purge: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(bool(data.get("purge")))


@dataclass(frozen=True)
class BackupParams:
    stop: bool = True
    """Stop the app for the copy (else pause it)."""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(bool(data.get("stop", True)))


@dataclass(frozen=True)
class RestoreParams:
    backup_id: str
    source_app: str
    """The app the backup is of."""
    new_app: bool = False
    """Into the job's app, a new one the API wrote (a clone); else in place."""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(str(data["backup_id"]), str(data["source_app"]), bool(data.get("new_app")))


@dataclass(frozen=True)
class DeleteBackupParams:
    backup_id: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(str(data["backup_id"]))


JobParams = (
    InstallParams
    | StartParams
    | StopParams
    | RestartParams
    | RedeployParams
    | UpdateParams
    | UninstallParams
    | BackupParams
    | RestoreParams
    | DeleteBackupParams
    | EditParams
)


class _FromJson(Protocol):
    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self: ...


ParamsT = TypeVar("ParamsT", bound=_FromJson)

PARAMS_OF_KIND: dict[JobKind, type[JobParams]] = {
    JobKind.INSTALL: InstallParams,
    JobKind.START: StartParams,
    JobKind.STOP: StopParams,
    JobKind.RESTART: RestartParams,
    JobKind.REDEPLOY: RedeployParams,
    JobKind.UPDATE: UpdateParams,
    JobKind.UNINSTALL: UninstallParams,
    JobKind.EDIT: EditParams,
    JobKind.BACKUP: BackupParams,
    JobKind.RESTORE: RestoreParams,
    JobKind.DELETE_BACKUP: DeleteBackupParams,
}


def to_json(params: JobParams) -> dict[str, Any]:
    """Unset (None) fields are left out: a catalog install's row stays `{}` as before."""
    return {key: value for key, value in asdict(params).items() if value is not None}


def params_of(job: Job, expected: type[ParamsT]) -> ParamsT:
    """The job's parameters as the class of its kind; TypeError when `expected` is not it."""
    if PARAMS_OF_KIND[job.kind] is not expected:
        raise TypeError(f"a {job.kind.value} job has no {expected.__name__}")
    return expected.from_json(job.params or {})
