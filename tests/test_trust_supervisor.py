"""`appmanage run` as a supervisor: a crashing child is started again after a growing,
capped delay that resets once a child has run a while, each restart is logged with the
exit code, and the children end with the supervisor, even when it is killed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from appmanage.config import Settings
from appmanage.supervisor import Backoff, Child, Supervisor
from tests.support.ports import free_port
from tests.support.processes import APPMANAGE, settings_env, stop_process, wait_serving
from tests.support.projects import delete_keys
from tests.support.waiting import wait_for

FAKE_SUPERVISOR = textwrap.dedent(
    """
    import logging, sys
    from appmanage.supervisor import Backoff, Child, Supervisor
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    crashy = Child("crashy", [sys.executable, "-c", "import sys; sys.exit(3)"])
    Supervisor([crashy], Backoff(base=0.2, cap=0.8, stable_after=30)).run()
    """
)
RESTART = re.compile(r"crashy exited with code 3 after [\d.]+ s; starting it again in ([\d.]+) s \(restart (\d+)\)")


def test_a_crashing_child_restarts_with_a_capped_backoff_and_each_restart_is_logged() -> None:
    process = subprocess.Popen([sys.executable, "-c", FAKE_SUPERVISOR], stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    delays = [float(m.group(1)) for m in RESTART.finditer(stderr)]
    assert delays[:5] == [0.2, 0.4, 0.8, 0.8, 0.8], stderr
    assert len(delays) < 9, f"restarted {len(delays)} times in 4 s: no backoff"


def test_the_backoff_resets_once_a_child_has_run_a_while() -> None:
    supervisor = Supervisor([], Backoff(base=1, cap=8, stable_after=30))
    child = Child("worker", [])
    for now, expected in ((1, 1), (3, 2), (6, 4), (11, 8), (20, 8)):
        child.started_at = now - 0.5
        supervisor._exited(child, 1, now)
        assert child.start_at - now == expected
    child.started_at = 100
    supervisor._exited(child, -9, 200)  # ran 100 s: a new crash, not the same loop
    assert child.start_at - 200 == 1 and child.failures == 1


def children_of(pid: int) -> set[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return {int(p) for p in text.split()}


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


@pytest.fixture
def run_settings(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    own = replace(
        settings,
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'appmanage.db'}",
        namespace=f"{settings.namespace}-run-{os.getpid()}",
        workers=1,
    )
    yield own
    delete_keys(own.redis_url, [own.namespace])


def start_run(settings: Settings) -> tuple[subprocess.Popen[bytes], set[int]]:
    port = free_port()
    env = {**settings_env(settings), "APPMANAGE_PORT": str(port), "APPMANAGE_WORKERS": "1"}
    log = settings.data_dir / "run.out"
    with log.open("ab") as sink:
        run = subprocess.Popen([*APPMANAGE, "run"], env=env, stdout=sink, stderr=sink)

    def all_started() -> set[int] | None:
        """The agent under the run; the worker, the watcher and the API under the agent."""
        children = children_of(run.pid)
        descendants = children | {pid for child in children for pid in children_of(child) if alive(child)}
        return descendants if len(children) == 1 and len(descendants) == 4 else None

    try:
        wait_serving(port, run, log, timeout=60)
        return run, wait_for(all_started, 20, "worker, watcher and API")
    except BaseException:
        stop_process(run)
        raise


@pytest.mark.docker
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_the_children_end_with_appmanage_run(run_settings: Settings, sig: signal.Signals) -> None:
    run, children = start_run(run_settings)
    try:
        os.kill(run.pid, sig)
        run.wait(timeout=30)
        started = time.monotonic()
        wait_for(lambda: not any(alive(pid) for pid in children), 25, f"the children of a run that got {sig.name}")
        print(f"{sig.name}: children gone {time.monotonic() - started:.1f} s after run ended")
    finally:
        for pid in children:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if run.poll() is None:
            run.kill()
