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
class InstallParams(_NoParams):
    """An install reads its settings from the App row."""


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
class UninstallParams:
    purge: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(bool(data.get("purge")))


JobParams = InstallParams | StartParams | StopParams | RestartParams | RedeployParams | UpdateParams | UninstallParams


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
}


def to_json(params: JobParams) -> dict[str, Any]:
    return asdict(params)


def params_of(job: Job, expected: type[ParamsT]) -> ParamsT:
    """The job's parameters as the class of its kind; TypeError when `expected` is not it."""
    if PARAMS_OF_KIND[job.kind] is not expected:
        raise TypeError(f"a {job.kind.value} job has no {expected.__name__}")
    return expected.from_json(job.params or {})
