"""A command run in a process group of its own, its output read line by line.

Every way out of a run (its deadline, a cancel, any exception a callback raises, RQ's
timeout among them) ends the command and everything it started: the group gets the
command's stop signal, then SIGKILL after a grace. On Linux the command also gets a signal
when the thread that started it dies, so a killed worker leaves no compose or restic
behind. Compose (`runtime/compose.py`) and restic (`runtime/restic.py`) both run this way.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

POLL_SECONDS = 0.2
PR_SET_PDEATHSIG = 1

LineSink = Callable[[str], None]
Poll = Callable[[], None]


class DeadlinePassed(Exception):
    """The command did not finish within its timeout; it was ended."""


@dataclass(frozen=True)
class Ending:
    """How a command is ended: `stop` to its group first, SIGKILL after `grace` seconds;
    `on_parent_death`: what it gets when the thread that started it dies."""

    stop: signal.Signals = signal.SIGTERM
    grace: float = 5.0
    on_parent_death: signal.Signals = signal.SIGKILL


def run_in_group(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    on_line: LineSink,
    poll: Poll | None = None,
    timeout: float,
    cwd: Path | None = None,
    ending: Ending = Ending(),
) -> int:
    """The command's exit status. `on_line` gets each line of its output (stdout and stderr,
    newline stripped); `poll` is called after each line and every POLL_SECONDS (a cancel
    check raises from it); past `timeout` seconds DeadlinePassed is raised."""
    process = subprocess.Popen(
        list(argv),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
        preexec_fn=_signal_on_parent_death(ending.on_parent_death),
        env=dict(env),
    )
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(process, lines), daemon=True).start()
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                line = lines.get(timeout=POLL_SECONDS)
            except queue.Empty:
                line = ""
            if line is None:
                break
            if line:
                on_line(line)
            if poll is not None:
                poll()
            if time.monotonic() > deadline:
                raise DeadlinePassed(f"did not finish within {timeout:.0f} s")
        return process.wait()
    except BaseException:
        end_group(process, ending)
        raise


def end_group(process: subprocess.Popen[str], ending: Ending = Ending()) -> None:
    try:
        os.killpg(process.pid, ending.stop)
        process.wait(timeout=ending.grace)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _signal_on_parent_death(signum: signal.Signals) -> Callable[[], None]:
    def arm() -> None:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signum)

    return arm


def _pump(process: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.put(line.rstrip("\n"))
    lines.put(None)
