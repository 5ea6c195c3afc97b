"""Benchmark: the memory an idle `appmanage run` holds.

What is measured
    `python -m appmanage run` starts with an empty data folder (its own SQLite database,
    Redis namespace and free port, the shipped catalog, --workers workers). Once the API
    answers, every expected process is up and the tree has used no CPU for --idle-ms, the
    PSS of each process in the tree is read from /proc/<pid>/smaps_rollup (PSS splits a
    page shared by N processes N ways, so the sum is what the tree really costs) and
    printed per process with its RSS, then summed. Everything it starts is removed at the
    end, also on Ctrl-C or error.

    Issue 12's target: at most 160 MB for the whole tree.

    It ends with one line: `idle stack PSS X MB`.

How to run
    .venv/bin/python -m bench.memory [--workers 2] [--idle-ms 1500]
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import bench_settings, interrupts_as_exceptions, load_line, remove_everything, run_prefix
from tests.support.processes import APPMANAGE, Stack, stop_process, wait_serving

TARGET_MB = 160.0


@dataclass(frozen=True)
class ProcessMemory:
    pid: int
    label: str
    pss_kb: int
    rss_kb: int


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants, parents first."""
    found = [pid]
    for child in children(pid):
        found += tree(child)
    return found


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


def label(pid: int) -> str:
    """The process's name (`comm`, which AppManage's forked children set) and its command."""
    comm = Path(f"/proc/{pid}/comm").read_text().strip()
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    command = " ".join(a.decode(errors="replace") for a in argv if a)
    command = command.replace(sys.executable, "python")
    return f"{comm:<16} {command}"


def rollup(pid: int) -> tuple[int, int]:
    """PSS and RSS in kB."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, rest = line.partition(":")
        values[key] = int(rest.split()[0])
    return values["Pss"], values["Rss"]


def measure(root: int) -> list[ProcessMemory]:
    found = []
    for pid in tree(root):
        try:
            pss, rss = rollup(pid)
            found.append(ProcessMemory(pid, label(pid), pss, rss))
        except OSError:
            continue
    return found


def wait_idle(root: int, expected: int, idle: float, timeout: float = 120) -> None:
    """Until `expected` processes run under `root` and none of them used CPU for `idle` s."""
    deadline = time.monotonic() + timeout
    quiet_since, last = time.monotonic(), -1
    while time.monotonic() < deadline:
        pids = tree(root)
        ticks = cpu_ticks(pids)
        if len(pids) < expected or ticks != last:
            quiet_since, last = time.monotonic(), ticks
        elif time.monotonic() - quiet_since >= idle:
            return
        time.sleep(0.1)
    raise TimeoutError(f"the run did not settle: {len(tree(root))} processes, still using CPU")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="APPMANAGE_WORKERS (default 2)")
    parser.add_argument("--idle-ms", type=float, default=1500, help="no CPU used this long means idle")
    parser.add_argument("--processes", type=int, default=0, help="processes to wait for (default: any)")
    args = parser.parse_args()

    prefix = run_prefix()
    base = bench_settings(prefix, workers=args.workers)
    stack: Stack | None = None
    run: subprocess.Popen[bytes] | None = None
    with interrupts_as_exceptions():
        try:
            stack = Stack.create(base)
            env = {**stack.env, "APPMANAGE_WORKERS": str(args.workers)}
            log = stack.settings.data_dir / "run.out"
            with log.open("ab") as sink:
                run = subprocess.Popen([*APPMANAGE, "run"], env=env, stdout=sink, stderr=sink)
            wait_serving(stack.port, run, log, timeout=90)
            wait_idle(run.pid, max(1, args.processes), args.idle_ms / 1000)
            found = measure(run.pid)
            print(f"appmanage run, {args.workers} workers, idle; {load_line()}")
            print(f"{'pid':>8} {'PSS MB':>8} {'RSS MB':>8}  process")
            for item in found:
                print(f"{item.pid:>8} {item.pss_kb / 1024:8.1f} {item.rss_kb / 1024:8.1f}  {item.label}")
            total = sum(item.pss_kb for item in found) / 1024
            print(f"{len(found)} processes; target {TARGET_MB:.0f} MB")
            print(f"idle stack PSS {total:.1f} MB")
            return 0
        finally:
            if run is not None:
                run.send_signal(signal.SIGTERM)
                stop_process(run, timeout=30)
            remove_everything(stack, base, prefix)


if __name__ == "__main__":
    sys.exit(main())
