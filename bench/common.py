"""What the live benchmarks share on top of tests/support: settings for a private stack,
one installed `hello` app, percentiles, and a cleanup that leaves nothing in Docker or
Redis, also on Ctrl-C, SIGTERM or error."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import docker

from appmanage.config import SHIPPED_CATALOG, Settings
from appmanage.runtime.containers import PROJECT_LABEL
from tests.support.graphql import GraphQLClient
from tests.support.ports import free_port
from tests.support.processes import Stack
from tests.support.projects import delete_keys, remove_projects

REDIS_URL = os.environ.get("APPMANAGE_REDIS_URL", "redis://127.0.0.1:6379/0")


def run_prefix() -> str:
    """Compose projects of one run are named <prefix>-...; like tests/support/run.py's RUN_ID."""
    return f"bench{secrets.token_hex(2)}"


def bench_settings(prefix: str, workers: int = 1) -> Settings:
    """Temp data folder, unique namespace, the shipped catalog; Stack.create gives the
    stack its own folder, namespace and token from these."""
    return Settings(
        data_dir=Path(tempfile.mkdtemp(prefix=f"appmanage-{prefix}-base-")),
        namespace=f"appmanage-{prefix}",
        redis_url=REDIS_URL,
        catalogs=(SHIPPED_CATALOG,),
        workers=workers,
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


def load_line() -> str:
    return f"load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"


def install_hello(api: GraphQLClient, name: str) -> str:
    """Install catalog app `hello` as `name` (HTTP_PORT free), wait for RUNNING; its container id."""
    result = api.install("hello", name, HTTP_PORT=str(free_port()))
    if result["__typename"] != "JobAccepted":
        raise RuntimeError(f"installApp refused: {result}")
    job = api.wait_job(result["job"]["id"], timeout=120)
    if job["state"] != "SUCCEEDED":
        raise RuntimeError(f"install of {name} ended {job['state']}: {job['error']}")
    api.wait_status(name, "RUNNING")
    client = docker.APIClient()
    try:
        (container,) = client.containers(filters={"label": f"{PROJECT_LABEL}={name}"})
        container_id: str = container["Id"]
        return container_id
    finally:
        client.close()


def remove_everything(stack: Stack | None, base: Settings, prefix: str) -> list[str]:
    """Stop the processes, remove this run's compose projects (with those a killed worker
    left half made in the data folder), the Redis keys of its namespaces and its folders."""
    folders: set[str] = set()
    namespaces = {base.namespace}
    if stack is not None:
        stack.stop(signal.SIGKILL)
        apps_dir = stack.settings.apps_dir
        folders = {p.name for p in apps_dir.iterdir()} if apps_dir.is_dir() else set()
        namespaces.add(stack.settings.namespace)
    removed = remove_projects(prefix, folders)
    delete_keys(base.redis_url, namespaces)
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
