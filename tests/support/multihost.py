"""Two Docker hosts and two API processes on one machine, as issue 13's scenario has them:
host `a` on the system engine and host `b` on a private dockerd, an agent for each with its
own data folder, two `appmanage serve` processes, one Redis namespace, and a private
PostgreSQL database shared by all. Everything is removed on the way out, also on failure."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from appmanage.config import Settings
from tests.support.databases import private_postgres_url
from tests.support.faults import PrivateDocker
from tests.support.graphql import GraphQLClient
from tests.support.hosts import Agent, host_online
from tests.support.netns import NetworkNamespace
from tests.support.processes import APPMANAGE, Server, settings_env, start_server, stop_server
from tests.support.projects import delete_keys, remove_project
from tests.support.run import RUN_ID
from tests.support.waiting import wait_for


@dataclass
class MultiHost:
    settings: Settings
    engine_b: PrivateDocker
    agents: dict[str, Agent]
    apis: list[Server]
    netns: NetworkNamespace | None

    def client(self, api: int) -> GraphQLClient:
        return GraphQLClient.over_http(self.apis[api].base, self.settings.admin_token)

    def wait_online(self, host: str, timeout: float = 30) -> None:
        def online() -> bool:
            process = self.agents[host].process
            if process is not None and process.poll() is not None:
                raise AssertionError(f"agent {host} exited with {process.returncode}:\n{self.agents[host].log()}")
            return host_online(self.settings, host)

        wait_for(online, timeout, f"host {host}'s agent to report")


@contextmanager
def two_hosts_two_apis(base: Settings, workers: int = 1, b_apart: bool = False) -> Iterator[MultiHost]:
    """The running scenario; its Redis keys, PG database, containers and folders go at the end.
    `b_apart`: engine b and its agent run in their own network namespace (tests/support/netns.py),
    as on a second machine: their own ports, Redis and PostgreSQL reached over a veth pair."""
    data = Path(tempfile.mkdtemp(prefix=f"appmanage-{RUN_ID}-multihost-"))
    netns = NetworkNamespace() if b_apart else None
    engine_b = PrivateDocker(launcher=tuple(netns.command()) if netns else ())
    agents: dict[str, Agent] = {}
    apis: list[Server] = []
    with ExitStack() as cleanup:
        database_url = cleanup.enter_context(private_postgres_url())
        settings = replace(
            base,
            data_dir=data,
            namespace=f"{base.namespace}-mh{os.urandom(2).hex()}",
            database_url=database_url,
            admin_token=base.admin_token or secrets.token_urlsafe(24),
        )
        cleanup.callback(shutil.rmtree, data, ignore_errors=True)
        cleanup.callback(delete_keys, settings.redis_url, [settings.namespace])
        if netns is not None:
            cleanup.callback(netns.remove)
        cleanup.callback(engine_b.remove)
        cleanup.callback(_remove_apps, agents)
        cleanup.callback(_stop_all, apis, agents)
        env = env_b = settings_env(settings)
        if netns is not None:
            netns.create()
            env_b = {
                **env,
                "APPMANAGE_REDIS_URL": netns.forward(settings.redis_url),
                "APPMANAGE_DATABASE_URL": netns.forward(settings.database_url),
            }
        subprocess.run([*APPMANAGE, "migrate"], env=env, check=True, capture_output=True)
        engine_b.start()
        engine_b.load_images()
        agents["a"] = Agent("a", env, None, workers).start()
        agents["b"] = Agent("b", env_b, engine_b.host, workers, tuple(netns.command()) if netns else ()).start()
        for n in (1, 2):
            apis.append(start_server(settings, log=data / f"api{n}.log"))
        scenario = MultiHost(settings, engine_b, agents, apis, netns)
        scenario.wait_online("a")
        scenario.wait_online("b")
        yield scenario


def _stop_all(apis: list[Server], agents: dict[str, Agent]) -> None:
    for api in apis:
        stop_server(api)
    for agent in agents.values():
        agent.stop()


def _remove_apps(agents: dict[str, Agent]) -> None:
    """Compose projects on the system engine (host a) and the agents' folders; engine b's
    containers go with engine b."""
    for agent in agents.values():
        agent.stop()
    for name in agents["a"].apps() if "a" in agents else []:
        remove_project(name)
    for agent in agents.values():
        agent.remove()
