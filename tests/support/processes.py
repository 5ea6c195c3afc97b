"""AppManage's own processes as subprocesses: `appmanage serve` alone (Server), or a whole
Stack (API, workers, watcher) on its own data folder and namespace, to kill and restart."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx

from appmanage.config import Settings
from tests.support.graphql import GraphQLClient
from tests.support.ports import free_port
from tests.support.run import RUN_ID
from tests.support.waiting import wait_for

APPMANAGE = (sys.executable, "-m", "appmanage")


def settings_env(settings: Settings) -> dict[str, str]:
    """This environment with APPMANAGE_* set from `settings`."""
    return {
        **os.environ,
        "APPMANAGE_DATA_DIR": str(settings.data_dir),
        "APPMANAGE_NAMESPACE": settings.namespace,
        "APPMANAGE_REDIS_URL": settings.redis_url,
        "APPMANAGE_DATABASE_URL": settings.database_url,
        "APPMANAGE_CATALOGS": os.pathsep.join(str(c) for c in settings.catalogs),
        "APPMANAGE_COMPOSE_TIMEOUT": str(settings.compose_timeout),
        "APPMANAGE_ADMIN_TOKEN": settings.admin_token,
        "APPMANAGE_SCHEDULE_SECONDS": "true" if settings.schedule_seconds else "false",
    }


def wait_serving(port: int, process: subprocess.Popen[bytes], log: Path | None, timeout: float = 30) -> None:
    """Until GET /healthz answers 200; AssertionError with the log's end if the process exits."""

    def output() -> str:
        return log.read_text(errors="replace")[-3000:] if log is not None and log.exists() else ""

    def answers() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"appmanage serve exited with {process.returncode}:\n{output()}")
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(answers, timeout, "the API to answer", interval=0.1)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{output()}") from None


def stop_process(process: subprocess.Popen[bytes] | None, timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL when it does not end within `timeout` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Server:
    """One `appmanage serve` on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def http(self) -> str:
        return f"{self.base}/graphql"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"


def start_server(settings: Settings, log: Path | None = None, port: int | None = None, **extra_env: str) -> Server:
    """`appmanage serve` on `port` (default a free one), answering; its output goes to `log` (or nowhere)."""
    port = port or free_port()
    env = {**settings_env(settings), **extra_env, "APPMANAGE_PORT": str(port), "APPMANAGE_HOST": "127.0.0.1"}
    if log is None:
        process = subprocess.Popen([*APPMANAGE, "serve"], env=env, stderr=subprocess.DEVNULL)
    else:
        with log.open("ab") as sink:
            process = subprocess.Popen([*APPMANAGE, "serve"], env=env, stdout=sink, stderr=sink)
    server = Server(process, port, log)
    try:
        wait_serving(port, process, log)
    except BaseException:
        stop_process(process)
        raise
    return server


def stop_server(server: Server) -> None:
    stop_process(server.process)


@dataclass
class Stack:
    """AppManage's processes for one test or benchmark: API server, workers and watcher,
    each with its output in <data>/<command>.out."""

    settings: Settings
    extra_env: dict[str, str] = field(default_factory=dict)
    api: subprocess.Popen[bytes] | None = None
    port: int = field(default_factory=free_port)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    watcher: subprocess.Popen[bytes] | None = None

    @classmethod
    def create(cls, base: Settings, **extra_env: str) -> Stack:
        """Its own data folder, SQLite database and namespace; the rest from `base`."""
        data = Path(tempfile.mkdtemp(prefix=f"appmanage-{RUN_ID}-stack-"))
        settings = replace(
            base,
            data_dir=data,
            namespace=f"{base.namespace}-{os.urandom(2).hex()}",
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
            "APPMANAGE_HOST": "127.0.0.1",
            "APPMANAGE_PORT": str(self.port),
            "APPMANAGE_ADMIN_TOKEN": self.settings.admin_token,
        }

    def _spawn(self, *command: str) -> subprocess.Popen[bytes]:
        with (self.settings.data_dir / f"{command[0]}.out").open("ab") as log:
            return subprocess.Popen([*APPMANAGE, *command], env=self.env, stdout=log, stderr=log)

    def start(self, workers: int = 2, watcher: bool = True, api: bool = True) -> Stack:
        subprocess.run([*APPMANAGE, "migrate"], env=self.env, check=True)
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
        wait_serving(self.port, self.api, self.settings.data_dir / "serve.out")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def client(self) -> GraphQLClient:
        return GraphQLClient.over_http(self.base, self.settings.admin_token)

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
