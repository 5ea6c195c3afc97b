"""Several Docker hosts on one machine: agents (`appmanage agent --host NAME`) each with its
own data folder and engine, hosts' facts as Redis holds them, installs on a named host, and
the compose containers of an app on one engine. Shared by tests and bench/hosts.py."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis import Redis

from appmanage.config import Settings
from appmanage.hosts.facts import HostFacts
from appmanage.hosts.registry import read_hosts
from tests.support.graphql import GraphQLClient
from tests.support.processes import APPMANAGE, stop_process
from tests.support.run import RUN_ID

HOST_INSTALL = """mutation($input: InstallAppInput!) { installApp(input: $input) {
    __typename ... on JobAccepted { job { id } app { name host status } } ... on Error { message }
} }"""
APPS_ON = "query($host: String) { apps(host: $host) { name host status statusReason } }"


def install_on(api: GraphQLClient, host: str | None, name: str, port: int) -> dict[str, Any]:
    """installApp of catalog app `hello` as `name` on `host` (None: placement chooses)."""
    given = {"catalogApp": "hello", "name": name, "settings": [{"key": "HTTP_PORT", "value": str(port)}]}
    result: dict[str, Any] = api.execute(HOST_INSTALL, input={**given, "host": host})["installApp"]
    return result


def containers_of(name: str, docker: list[str]) -> list[str]:
    """Ids of app `name`'s compose containers on the engine `docker` (a command) talks to."""
    listed = subprocess.run(
        [*docker, "ps", "-aq", "--filter", f"label=com.docker.compose.project={name}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return listed.stdout.split()


def host_facts(settings: Settings) -> dict[str, HostFacts]:
    redis = Redis.from_url(settings.redis_url)
    try:
        return read_hosts(redis, settings.namespace)
    finally:
        redis.close()


def host_online(settings: Settings, host: str) -> bool:
    """The host's agent has reported and its engine answers."""
    facts = host_facts(settings)
    return host in facts and facts[host].docker_ok


@dataclass
class Agent:
    """`appmanage agent --host NAME` on the engine at `docker_host` (None: the system one),
    with its own data folder; its output in <data>/agent.out."""

    host: str
    env: dict[str, str]
    docker_host: str | None = None
    workers: int = 1
    launcher: tuple[str, ...] = ()  # e.g. nsenter into another network namespace
    own_group: bool = False  # a session and process group of its own, for kill_group()
    data: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix=f"appmanage-{RUN_ID}-agent-")))
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Agent:
        env = {**self.env, "APPMANAGE_DATA_DIR": str(self.data), "APPMANAGE_WORKERS": str(self.workers)}
        env.pop("DOCKER_HOST", None)
        if self.docker_host is not None:
            env["DOCKER_HOST"] = self.docker_host
        with (self.data / "agent.out").open("ab") as log:
            command = [*self.launcher, *APPMANAGE, "agent", "--host", self.host]
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=log, start_new_session=self.own_group)
        return self

    def kill_group(self) -> None:
        """SIGKILL the agent with the workers and watcher it forked (needs own_group)."""
        assert self.own_group and self.process is not None
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        stop_process(self.process, timeout=30)

    def apps(self) -> list[str]:
        """Names of the app folders it made (to remove their compose projects)."""
        apps_dir = self.data / "apps"
        return sorted(p.name for p in apps_dir.iterdir()) if apps_dir.is_dir() else []

    def log(self) -> str:
        path = self.data / "agent.out"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.data, ignore_errors=True)
