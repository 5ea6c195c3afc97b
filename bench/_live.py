"""What bench/event_latency.py and bench/fanout.py share: a real stack (tests/stack.py's
Stack: API, workers and watcher as subprocesses on a temp data folder and a private
namespace), one installed `hello` app, percentiles, and a cleanup that leaves nothing in
Docker or Redis, also on Ctrl-C, SIGTERM or error."""

from __future__ import annotations

import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import Any

import docker
import httpx
from redis import Redis

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from appmanage.config import SHIPPED_CATALOG, Settings  # noqa: E402
from appmanage.runtime.compose import detect_compose_command  # noqa: E402
from appmanage.runtime.containers import PROJECT_LABEL  # noqa: E402
from tests.stack import Stack  # noqa: E402

REDIS_URL = os.environ.get("APPMANAGE_REDIS_URL", "redis://127.0.0.1:6379/0")
STATUS = """subscription($name: String) {
    appStatusChanged(name: $name) { cursor app status previous statusReason at }
}"""
TOKEN_RETRY_SECONDS = 600.0


def base_settings(prefix: str) -> Settings:
    """Like tests/conftest.py's `settings` fixture: temp data folder, unique namespace,
    the shipped catalog. Stack.create gives it its own folder, namespace and token."""
    return Settings(
        data_dir=Path(tempfile.mkdtemp(prefix=f"appmanage-{prefix}-base-")),
        namespace=f"appmanage-{prefix}",
        redis_url=REDIS_URL,
        catalogs=(SHIPPED_CATALOG,),
        workers=1,
        compose_timeout=120,
        admin_token="bench_" + secrets.token_urlsafe(24),
    )


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 100]."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(values: list[float]) -> str:
    """p50 / p95 / p99 / max of seconds, in milliseconds."""
    return (
        f"p50 {percentile(values, 50) * 1000:8.1f}  p95 {percentile(values, 95) * 1000:8.1f}  "
        f"p99 {percentile(values, 99) * 1000:8.1f}  max {max(values) * 1000:8.1f} ms"
    )


INSTALL = """mutation($input: InstallAppInput!) { installApp(input: $input) {
  __typename ... on JobAccepted { job { id } } ... on Error { message } } }"""
JOB = "query($id: ID!) { job(id: $id) { state error } }"
APP = "query($name: String!) { app(name: $name) { status statusReason } }"


def app_port() -> int:
    """A free 127.0.0.1 port below the kernel's ephemeral range (32768-60999 here): a port
    the kernel hands out (tests.helpers.free_port) is soon some client socket's, and a
    stopped container cannot start again once its published port is taken."""
    low, _ = (int(n) for n in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    for _ in range(200):
        port = random.randrange(20000, min(low, 32768))
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port found below the ephemeral range")


class Api:
    """GraphQL over HTTP with the stack's admin token (kept apart from tests/helpers.py,
    whose token handling is being changed)."""

    def __init__(self, stack: Stack) -> None:
        self.http = httpx.Client(
            base_url=f"http://127.0.0.1:{stack.port}",
            headers={"Authorization": f"Bearer {stack.settings.admin_token}"},
            timeout=30,
        )

    def post(self, query: str, **variables: Any) -> httpx.Response:
        return self.http.post("/graphql", json={"query": query, "variables": variables})

    def execute(self, query: str, **variables: Any) -> dict[str, Any]:
        response = self.post(query, **variables)
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise RuntimeError(f"{response.status_code}: {body}")
        data: dict[str, Any] = body["data"]
        return data

    def wait_token_accepted(self) -> None:
        """Auth is being built by others: while the API refuses the token, wait and retry."""
        deadline = time.monotonic() + TOKEN_RETRY_SECONDS
        while True:
            response = self.post("{ __typename }")
            if response.status_code == 200 and "errors" not in response.json():
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the API still refuses the token: {response.status_code} {response.text[:200]}")
            print(f"the API refuses the token ({response.status_code}); retrying in 30 s", file=sys.stderr, flush=True)
            time.sleep(30)

    def wait(self, what: str, check: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(0.1)

    def install_hello(self, name: str) -> str:
        """Install catalog app `hello` under `name`, wait for RUNNING; its container id."""
        variables = {"catalogApp": "hello", "name": name, "settings": [{"key": "HTTP_PORT", "value": str(app_port())}]}
        result = self.execute(INSTALL, input=variables)["installApp"]
        if result["__typename"] != "JobAccepted":
            raise RuntimeError(f"installApp refused: {result}")
        job_id = result["job"]["id"]
        job: dict[str, Any] = {}

        def finished() -> bool:
            job.update(self.execute(JOB, id=job_id)["job"])
            return job["state"] in ("SUCCEEDED", "FAILED", "CANCELED")

        self.wait(f"install job {job_id}", finished, 120)
        if job["state"] != "SUCCEEDED":
            raise RuntimeError(f"install of {name} ended {job['state']}: {job['error']}")
        self.wait(f"{name} to be RUNNING", lambda: self.execute(APP, name=name)["app"]["status"] == "RUNNING", 60)
        client = docker.APIClient()
        try:
            (container,) = client.containers(filters={"label": f"{PROJECT_LABEL}={name}"})
            container_id: str = container["Id"]
            return container_id
        finally:
            client.close()

    def close(self) -> None:
        self.http.close()


def auth_payload(stack: Stack) -> dict[str, Any]:
    return {"Authorization": f"Bearer {stack.settings.admin_token}"}


def remove_everything(stack: Stack | None, base: Settings, project_prefix: str) -> list[str]:
    """Stop the processes, compose down this run's projects (those Docker knows, and those
    a killed worker may have left half made in the data folder), remove their networks and
    volumes, the Redis keys of the namespaces, and the data folders."""
    folders: set[str] = set()
    if stack is not None:
        stack.stop(signal.SIGKILL)
        apps_dir = stack.settings.apps_dir
        folders = {p.name for p in apps_dir.iterdir()} if apps_dir.is_dir() else set()
    client = docker.APIClient()
    removed: list[str] = []
    try:
        projects = {
            (c.get("Labels") or {}).get(PROJECT_LABEL, "")
            for c in client.containers(all=True, filters={"label": PROJECT_LABEL})
        }
        for project in sorted(p for p in projects | folders if p.startswith(project_prefix)):
            subprocess.run(
                [*detect_compose_command(), "-p", project, "down", "--volumes", "--remove-orphans", "--timeout", "1"],
                capture_output=True,
                timeout=120,
            )
            removed.append(project)
        for network in client.networks(filters={"label": PROJECT_LABEL}):
            if (network.get("Labels") or {}).get(PROJECT_LABEL, "").startswith(project_prefix):
                with suppress(docker.errors.APIError):
                    client.remove_network(network["Id"])
        volumes = client.volumes(filters={"label": PROJECT_LABEL}).get("Volumes") or []
        for volume in volumes:
            if (volume.get("Labels") or {}).get(PROJECT_LABEL, "").startswith(project_prefix):
                with suppress(docker.errors.APIError):
                    client.remove_volume(volume["Name"], force=True)
    finally:
        client.close()
    redis = Redis.from_url(base.redis_url)
    try:
        namespaces = {base.namespace} | ({stack.settings.namespace} if stack is not None else set())
        for namespace in namespaces:
            for pattern in (f"{namespace}*", f"rq:*{namespace}*"):
                for key in redis.scan_iter(match=pattern):
                    redis.delete(key)
    finally:
        redis.close()
    if stack is not None:
        stack.remove()
    shutil.rmtree(base.data_dir, ignore_errors=True)
    return removed


@contextmanager
def interrupts_as_exceptions() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so the `finally` cleanups run."""

    def raise_interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_prefix() -> str:
    """Compose projects of a run are named <prefix>-...; tests/conftest.py's RUN_ID kind."""
    return f"bench{secrets.token_hex(2)}"
