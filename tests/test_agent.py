"""`appmanage run` as the supervisor and one agent: the supervisor stays small (it
imports nothing heavy), the agent forks its workers, the watcher and the API after
importing what they share, each a process of its own, and a killed worker is forked
again while the others keep running."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from appmanage.config import Settings
from tests.support.ports import free_port
from tests.support.processes import APPMANAGE, settings_env, stop_process, wait_serving
from tests.support.projects import delete_keys
from tests.support.waiting import wait_for

pytestmark = pytest.mark.docker

SUPERVISOR_MAX_RSS_KB = 30 * 1024  # an interpreter and the standard library; 79 MB when it imported everything


def children_of(pid: int) -> set[int]:
    try:
        return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except OSError:
        return set()


def name_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def agent_children(run: int) -> dict[str, int] | None:
    """The agent's children by name, once the run has its one child and the agent its four."""
    children = children_of(run)
    named = {name_of(pid): pid for child in children for pid in children_of(child)}
    return named if len(children) == 1 and set(named) == {"worker 1", "worker 2", "watcher", "api"} else None


@pytest.fixture
def run(settings: Settings, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    own = replace(
        settings,
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'appmanage.db'}",
        namespace=f"{settings.namespace}-agent-{os.getpid()}",
    )
    port = free_port()
    env = {**settings_env(own), "APPMANAGE_PORT": str(port), "APPMANAGE_WORKERS": "2"}
    log = tmp_path / "run.out"
    with log.open("ab") as sink:
        process = subprocess.Popen([*APPMANAGE, "run"], env=env, stdout=sink, stderr=sink)
    try:
        wait_serving(port, process, log, timeout=60)
        yield process
    finally:
        stop_process(process, timeout=30)
        delete_keys(own.redis_url, [own.namespace])


def test_the_agent_forks_its_workers_and_watcher_and_forks_a_killed_worker_again(
    run: subprocess.Popen[bytes],
) -> None:
    before = wait_for(lambda: agent_children(run.pid), 30, "the agent's workers and watcher")
    (agent,) = {pid for pid in children_of(run.pid) if before["watcher"] in children_of(pid)}
    assert rss_kb(run.pid) < SUPERVISOR_MAX_RSS_KB, f"the supervisor holds {rss_kb(run.pid)} kB"
    if "MALLOC_ARENA_MAX" not in os.environ:
        assert b"MALLOC_ARENA_MAX=2" in Path(f"/proc/{agent}/environ").read_bytes().split(b"\0")

    os.kill(before["worker 1"], signal.SIGKILL)
    after = wait_for(
        lambda: (found := agent_children(run.pid)) and found["worker 1"] != before["worker 1"] and found,
        30,
        "worker 1 forked again",
    )
    assert all(after[name] == before[name] for name in ("worker 2", "watcher", "api"))
    assert agent in children_of(run.pid)


def test_a_malformed_host_name_is_refused(settings: Settings) -> None:
    env = settings_env(settings)
    done = subprocess.run([*APPMANAGE, "agent", "--host", "Else Where"], env=env, capture_output=True, text=True)
    assert done.returncode == 2
    assert "host name 'Else Where'" in done.stderr
