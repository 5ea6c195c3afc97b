"""A child process forked from this one, driven like a `subprocess.Popen`: the agent's
workers and watcher start this way, so the pages of the modules their parent imported
before the fork stay shared (copy-on-write) instead of being loaded once per process.

The child gets its own name (`comm`, shown by ps and top), the default handlers of
SIGTERM and SIGINT, and SIGKILL when its parent dies; it never returns into the parent's
code: `os._exit` with the target's exit code, 1 on an exception."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable

PR_SET_NAME = 15
PR_SET_PDEATHSIG = 1
WAIT_POLL_SECONDS = 0.05
M_ARENA_MAX = -8  # glibc's mallopt parameter
MALLOC_ARENAS = 2


class ForkedProcess:
    """The parent's handle on a forked child: poll, wait, send_signal, kill, like Popen."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = 1  # reaped elsewhere: its code is lost
                return self.returncode
            if pid == self.pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0.0)
            time.sleep(WAIT_POLL_SECONDS)
        return code

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def fork_child(name: str, target: Callable[[], int]) -> ForkedProcess:
    """Fork; the child runs `target` and exits with its code. Fork only from a thread-free
    process (the agent is one): a lock another thread held would stay locked in the child."""
    parent = os.getpid()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return ForkedProcess(pid)
    code = 1
    try:
        _become_child(name, parent)
        code = target()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # the child's last word, then its exit
        traceback.print_exc()
    finally:
        logging.shutdown()
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _become_child(name: str, parent: int) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        libc.prctl(PR_SET_NAME, name.encode()[:15])
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def limit_malloc_arenas() -> None:
    """At most MALLOC_ARENAS glibc malloc arenas in this process and the children it forks
    (glibc's default is 8 per core: each thread that allocates may hold one more arena of
    free memory). MALLOC_ARENA_MAX, when set, wins. Call it before any thread starts."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    os.environ["MALLOC_ARENA_MAX"] = str(MALLOC_ARENAS)  # for the commands it starts
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(M_ARENA_MAX, MALLOC_ARENAS)
