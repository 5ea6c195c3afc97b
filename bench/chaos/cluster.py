"""The processes of a two-host chaos run (`--hosts 2`): one private Redis, a private
dockerd per host (the system engine is never touched: the chaos restarts engines), an
agent per host (`appmanage agent --host a|b`, each in a process group of its own so a
fault can SIGKILL it with the workers and watcher it forked), two `appmanage serve` APIs
and a private PostgreSQL database they all share. Removed at the end, also on failure."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

import psycopg

from appmanage.config import Settings
from tests.support.databases import postgres_problem, private_postgres_url
from tests.support.faults import PrivateDocker, PrivateRedis
from tests.support.graphql import GraphQLClient
from tests.support.hosts import Agent, host_online
from tests.support.processes import APPMANAGE, Server, settings_env, start_server, stop_process
from tests.support.run import RUN_ID

HOSTS = ("a", "b")
ADDRESS_POOLS = {"a": "base=10.214.0.0/16,size=24", "b": "base=10.215.0.0/16,size=24"}
API_COUNT = 2


@dataclass
class Cluster:
    redis: PrivateRedis
    workers: int
    data: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix=f"appmanage-{RUN_ID}-chaos-")))
    engines: dict[str, PrivateDocker] = field(default_factory=dict)
    agents: dict[str, Agent] = field(default_factory=dict)
    apis: list[Server] = field(default_factory=list)
    settings: Settings | None = None
    cleanup: ExitStack = field(default_factory=ExitStack)

    def start(self, base: Settings) -> None:
        if problem := postgres_problem():
            raise SystemExit(f"--hosts 2 needs PostgreSQL: {problem} (or run with --hosts 1)")
        database_url = self.cleanup.enter_context(private_postgres_url())
        self.settings = replace(
            base,
            data_dir=self.data,
            namespace=f"{base.namespace}-{os.urandom(2).hex()}",
            database_url=database_url,
            redis_url=self.redis.url,
            admin_token=base.admin_token or secrets.token_urlsafe(24),
        )
        env = settings_env(self.settings)
        subprocess.run([*APPMANAGE, "migrate"], env=env, check=True, capture_output=True)
        for host in HOSTS:
            engine = self.engines[host] = PrivateDocker(address_pool=ADDRESS_POOLS[host])
            engine.start()
            engine.load_images()
            self.agents[host] = Agent(host, env, engine.host, self.workers, own_group=True).start()
        for n in range(API_COUNT):
            self.apis.append(start_server(self.settings, log=self.data / f"api{n + 1}.log"))

    def clients(self) -> list[GraphQLClient]:
        assert self.settings is not None
        return [GraphQLClient.over_http(api.base, self.settings.admin_token) for api in self.apis]

    def host_online(self, host: str) -> bool:
        assert self.settings is not None
        try:
            return host_online(self.settings, host)
        except Exception:  # Redis is restarting
            return False

    def restart_api(self, index: int) -> None:
        old = self.apis[index]
        assert self.settings is not None
        self.apis[index] = start_server(self.settings, log=old.log, port=old.port)

    def all_up(self) -> bool:
        processes = [
            self.redis.process,
            *(e.process for e in self.engines.values()),
            *(a.process for a in self.agents.values()),
            *(api.process for api in self.apis),
        ]
        return all(p is not None and p.poll() is None for p in processes) and all(map(self.host_online, HOSTS))

    @contextlib.contextmanager
    def database(self) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
        assert self.settings is not None
        url = self.settings.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(url, autocommit=True) as connection:
            yield connection

    def logs(self) -> list[Path]:
        """The agents' and APIs' output and log files."""
        found = [api.log for api in self.apis if api.log is not None]
        for agent in self.agents.values():
            found += [agent.data / "agent.out", *sorted((agent.data / "logs").glob("*"))]
        return [p for p in found if p.exists()]

    def keep_evidence(self, target: Path) -> None:
        for host, agent in self.agents.items():
            for path in [agent.data / "agent.out", agent.data / "logs"]:
                if path.is_dir():
                    shutil.copytree(path, target / f"agent-{host}-logs")
                elif path.exists():
                    shutil.copy2(path, target / f"agent-{host}.out")
        for api in self.apis:
            if api.log is not None and api.log.exists():
                shutil.copy2(api.log, target / api.log.name)
        for host, engine in self.engines.items():
            with contextlib.suppress(OSError):
                shutil.copy2(engine.root / "dockerd.log", target / f"dockerd-{host}.log")
        with self.database() as db, (target / "jobs.tsv").open("w") as out:
            for row in db.execute("SELECT j.*, a.host FROM jobs j LEFT JOIN apps a ON a.name = j.app_name"):
                out.write("\t".join(str(v) for v in row) + "\n")

    def remove(self) -> None:
        """APIs, agents, engines (with their containers), the database, the data folders."""
        with self.cleanup:
            for api in self.apis:
                stop_process(api.process)
            for agent in self.agents.values():
                agent.stop()
            for engine in self.engines.values():
                engine.remove()
            for agent in self.agents.values():
                agent.remove()
            shutil.rmtree(self.data, ignore_errors=True)
