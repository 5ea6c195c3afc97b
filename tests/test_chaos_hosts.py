"""The chaos run's two-host mode, its pure parts: the options it defaults to, and the end
check comparing each app with the engine of its own host (Docker and the API faked)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from bench.chaos.__main__ import Chaos, parse_args
from bench.chaos.checks import Container, Findings
from bench.chaos.cluster_faults import CLUSTER_FAULT_KINDS


def test_two_hosts_are_the_default_with_every_cluster_fault_and_two_workers_per_host() -> None:
    two = parse_args(["--seed", "1"])
    assert (two.hosts, two.workers, two.faults) == (2, 2, list(CLUSTER_FAULT_KINDS))
    assert "agent" in two.faults
    one = parse_args(["--hosts", "1", "--seed", "1"])
    assert (one.hosts, one.workers, one.faults) == (1, 3, ["worker", "redis", "docker"])


def test_agent_kills_are_refused_on_one_host() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--hosts", "1", "--faults", "agent"])


class FakeApi:
    def __init__(self, apps: list[dict[str, Any]]) -> None:
        self.apps = apps

    def execute(self, query: str, **variables: Any) -> dict[str, Any]:
        return {"apps": self.apps}


class FakeRows:
    def execute(self, sql: str) -> list[tuple[str, bool]]:
        return [("x", True), ("y", True), ("z", True)]


class FakeCluster:
    engines = {"a": "engine a", "b": "engine b"}

    @contextmanager
    def database(self) -> Iterator[FakeRows]:
        yield FakeRows()


def running(project: str) -> Container:
    return Container(project, "web", "running", 0, "unless-stopped", None)


def app(name: str, host: str, status: str) -> dict[str, Any]:
    services = [{"name": "web", "state": "running"}] if status == "RUNNING" else []
    return {"name": name, "host": host, "status": status, "statusReason": "", "services": services}


def test_each_app_is_compared_with_its_own_hosts_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    chaos = Chaos(parse_args(["--hosts", "2", "--seed", "1"]))
    shutil.rmtree(chaos.docker.root)  # the single-host engine's folder: not used here
    chaos.cluster = FakeCluster()  # type: ignore[assignment]
    apps = [app("x", "a", "RUNNING"), app("y", "b", "RUNNING"), app("z", "b", "INSTALLING")]
    chaos.api = FakeApi(apps)  # type: ignore[assignment]
    docker = {"engine a": {"x": [running("x")], "y": [running("y")]}, "engine b": {}}
    monkeypatch.setattr(chaos, "docker_projects", lambda engine: docker[engine])
    findings = Findings()

    problems = chaos.check_apps(findings)

    assert [p.split(":", 1)[0] for p in problems] == ["y", "y"]
    assert "no containers" in problems[0] or "Docker has []" in problems[0]
    assert "Docker on host a has containers (web running) but the API knows an app of host b" in problems[1]
    assert findings.stuck == ["z is INSTALLING: "]
