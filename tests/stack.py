"""Real AppManage processes, and private Redis and Docker daemons, for the fault tests:
they kill and restart what they like without touching the shared services."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

from appmanage.config import Settings
from tests.conftest import RUN_ID, settings_env
from tests.helpers import GraphQLClient, free_port, wait_for


def answers(command: list[str], env: dict[str, str] | None = None) -> bool:
    return subprocess.run(command, capture_output=True, env=env, timeout=30).returncode == 0


@dataclass
class PrivateRedis:
    """A Redis that keeps nothing on disk: every restart loses all keys, as here."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        wait_for(lambda: answers(["redis-cli", "-p", str(self.port), "ping"]), 10, "the private Redis")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@dataclass
class PrivateDocker:
    """A second dockerd with its own socket, data root and address pool."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix=f"appmanage-{RUN_ID}-docker-")))
    process: subprocess.Popen[bytes] | None = None
    images: tuple[str, ...] = ("appmanage-local/busybox:1", "appmanage-local/hello:1", "appmanage-local/hello:2")

    @property
    def host(self) -> str:
        return f"unix://{self.root}/docker.sock"

    def docker(self, *args: str) -> list[str]:
        return ["docker", "-H", self.host, *args]

    def start(self) -> None:
        log = open(self.root / "dockerd.log", "ab")  # noqa: SIM115 - lives with the process
        flags = {
            "--host": self.host,
            "--data-root": str(self.root / "data"),
            "--exec-root": str(self.root / "exec"),
            "--pidfile": str(self.root / "docker.pid"),
            "--bridge": "none",
            "--default-address-pool": "base=10.213.0.0/16,size=24",
        }
        command = ["dockerd", *(part for pair in flags.items() for part in pair), "--iptables=false", "--ip-masq=false"]
        self.process = subprocess.Popen(command, stdout=log, stderr=log)
        wait_for(lambda: answers(self.docker("info")), 60, "the private dockerd")

    def load_images(self) -> None:
        saved = subprocess.Popen(["docker", "save", *self.images], stdout=subprocess.PIPE)
        subprocess.run(self.docker("load", "-q"), stdin=saved.stdout, check=True, capture_output=True)
        saved.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)

    def remove(self) -> None:
        if self.process is not None and self.process.poll() is None:
            names = subprocess.run(self.docker("ps", "-aq"), capture_output=True, text=True).stdout.split()
            if names:
                subprocess.run(self.docker("rm", "-f", *names), capture_output=True)
            subprocess.run(self.docker("network", "prune", "-f"), capture_output=True)
        self.stop()
        subprocess.run(["umount", "-R", str(self.root / "data")], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Stack:
    """AppManage's processes for one test: API server, workers and watcher."""

    settings: Settings
    extra_env: dict[str, str] = field(default_factory=dict)
    api: subprocess.Popen[bytes] | None = None
    port: int = field(default_factory=free_port)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    watcher: subprocess.Popen[bytes] | None = None

    @classmethod
    def create(cls, base: Settings, **extra_env: str) -> Stack:
        data = Path(tempfile.mkdtemp(prefix=f"appmanage-{RUN_ID}-stack-"))
        namespace = f"{base.namespace}-{os.urandom(2).hex()}"
        settings = replace(base, data_dir=data, namespace=namespace, database_url="")
        settings = replace(
            settings,
            database_url=f"sqlite:///{data / 'appmanage.db'}",
            admin_token=base.admin_token or secrets.token_urlsafe(24),
        )
        if "APPMANAGE_REDIS_URL" in extra_env:
            settings = replace(settings, redis_url=extra_env["APPMANAGE_REDIS_URL"])
        return cls(settings, extra_env)

    @property
    def env(self) -> dict[str, str]:
        return {
            **settings_env(self.settings),
            **self.extra_env,
            "APPMANAGE_PORT": str(self.port),
            "APPMANAGE_ADMIN_TOKEN": self.settings.admin_token,
        }

    def _spawn(self, *command: str) -> subprocess.Popen[bytes]:
        log = open(self.settings.data_dir / f"{command[0]}.out", "ab")  # noqa: SIM115 - lives with the process
        return subprocess.Popen([sys.executable, "-m", "appmanage", *command], env=self.env, stdout=log, stderr=log)

    def start(self, workers: int = 2, watcher: bool = True, api: bool = True) -> Stack:
        subprocess.run([sys.executable, "-m", "appmanage", "migrate"], env=self.env, check=True)
        self.workers += [self._spawn("worker") for _ in range(workers)]
        if watcher:
            self.watcher = self._spawn("watch")
        if api:
            self.start_api()
        return self

    def add_worker(self) -> subprocess.Popen[bytes]:
        """One more worker, as `appmanage run` starts one in place of a worker that died."""
        worker = self._spawn("worker")
        self.workers.append(worker)
        return worker

    def start_watcher(self) -> None:
        self.watcher = self._spawn("watch")

    def start_api(self) -> None:
        self.api = self._spawn("serve")
        wait_for(self._api_answers, 30, "the API")

    def _api_answers(self) -> bool:
        assert self.api is not None
        if self.api.poll() is not None:
            output = (self.settings.data_dir / "serve.out").read_text(errors="replace")[-2000:]
            raise AssertionError(f"the API process exited:\n{output}")
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def client(self) -> GraphQLClient:
        headers = {"Authorization": f"Bearer {self.settings.admin_token}"}
        http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", headers=headers, timeout=30)
        return GraphQLClient(http, self.settings.admin_token)  # type: ignore[arg-type]

    def kill(self, process: subprocess.Popen[bytes] | None, sig: int = signal.SIGKILL) -> None:
        if process is not None and process.poll() is None:
            process.send_signal(sig)
            process.wait(timeout=30)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        for process in [*self.workers, self.watcher, self.api]:
            self.kill(process, sig)
        self.workers, self.watcher, self.api = [], None, None

    def service_log(self) -> str:
        path = self.settings.logs_dir / "appmanage.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def remove(self) -> None:
        self.stop(signal.SIGKILL)
        shutil.rmtree(self.settings.data_dir, ignore_errors=True)


def elapsed_until(check: Any, timeout: float, what: str) -> float:
    started = time.monotonic()
    wait_for(check, timeout, what)
    return time.monotonic() - started
