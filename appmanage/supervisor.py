"""`appmanage run`'s supervisor: starts its children, starts a crashing one again after
an exponential backoff (BACKOFF_BASE doubling up to BACKOFF_CAP seconds, back to the base
once a child has run STABLE_AFTER seconds), logs each restart with the exit code, and
takes its children with it: SIGTERM or Ctrl-C stops them (SIGKILL after STOP_GRACE
seconds), and if the supervisor itself is killed the kernel kills them
(PR_SET_PDEATHSIG). A child is a command, or a function run in a forked child
(`forking.py`; the agent starts its workers and watcher so).

`python -m appmanage.supervisor` is what `appmanage run` becomes (exec) once it has
checked the settings and migrated the database: the agent with the API (`agent --api`,
which forks the workers, the watcher and the API server) as its child, in a process
that imports nothing heavy (no Strawberry, SQLAlchemy, Docker or RQ)."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from appmanage.forking import fork_child, limit_malloc_arenas

log = logging.getLogger("appmanage.run")

PR_SET_PDEATHSIG = 1
POLL_SECONDS = 0.2
STOP_GRACE = 20.0


@dataclass(frozen=True)
class Backoff:
    base: float = 1.0
    cap: float = 60.0
    stable_after: float = 30.0

    def delay(self, failures: int) -> float:
        """The wait before the next start after `failures` quick exits in a row (1 and up)."""
        return min(self.cap, self.base * 2.0 ** max(0, failures - 1))


class Process(Protocol):
    pid: int

    def poll(self) -> int | None: ...
    def wait(self, timeout: float | None = None) -> int: ...
    def send_signal(self, sig: int) -> None: ...
    def kill(self) -> None: ...


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    target: Callable[[], int] | None = None
    """When set, the child is this function in a forked process, and `argv` is unused."""
    process: Process | None = None
    started_at: float = 0.0
    failures: int = 0
    start_at: float = 0.0  # when to start it (again); monotonic seconds
    restarts: int = field(default=0)


class Supervisor:
    def __init__(self, children: Sequence[Child], backoff: Backoff = Backoff()) -> None:
        self.children = list(children)
        self.backoff = backoff
        self.stopping = False

    def run(self) -> int:
        """Until SIGTERM, SIGINT (Ctrl-C) or `stop`; then the children are stopped."""
        previous = {sig: signal.signal(sig, self._stop_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            while not self.stopping:
                self.step(time.monotonic())
                time.sleep(POLL_SECONDS)
        finally:
            self.stop_children()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0

    def step(self, now: float) -> None:
        for child in self.children:
            if child.process is None:
                if now >= child.start_at:
                    self._start(child, now)
            elif (code := child.process.poll()) is not None:
                self._exited(child, code, now)

    def _start(self, child: Child, now: float) -> None:
        if child.target is not None:
            child.process = fork_child(child.name, child.target)
        else:
            child.process = subprocess.Popen(list(child.argv), preexec_fn=_die_with_parent(os.getpid()))
        child.started_at = now

    def _exited(self, child: Child, code: int, now: float) -> None:
        ran = now - child.started_at
        child.failures = 1 if ran >= self.backoff.stable_after else child.failures + 1
        delay = self.backoff.delay(child.failures)
        child.process = None
        child.start_at = now + delay
        child.restarts += 1
        log.warning(
            "%s exited with %s after %.1f s; starting it again in %.1f s (restart %d)",
            child.name,
            _exit_text(code),
            ran,
            delay,
            child.restarts,
        )

    def _stop_signal(self, *_: object) -> None:
        self.stopping = True

    def stop_children(self) -> None:
        running = [c.process for c in self.children if c.process is not None and c.process.poll() is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                process.wait()


def _exit_text(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
        return f"signal {-code}"
    return f"code {code}"


def _die_with_parent(parent: int) -> Callable[[], None]:
    """Linux: the child gets SIGKILL when the supervisor dies, even by SIGKILL."""

    def arrange() -> None:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the supervisor died before prctl took effect
            os._exit(1)

    return arrange


def main() -> int:
    """`appmanage run` after its checks: this host's agent with the API, supervised."""
    from appmanage.config import Settings
    from appmanage.logs import setup_logging

    settings = Settings.from_env()
    setup_logging(settings, "run")
    limit_malloc_arenas()  # MALLOC_ARENA_MAX=2 in the agent's environment, unless set
    command = [sys.executable, "-m", "appmanage"]
    return Supervisor([Child("agent", [*command, "agent", "--api"])]).run()


if __name__ == "__main__":
    sys.exit(main())
