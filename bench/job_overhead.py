"""Benchmark: what AppManage adds to `docker compose up -d` when it installs an app.

What is measured
    * appmanage -- wall time from sending the `installApp` mutation for catalog app
      `hello` (HTTP_PORT on a free 127.0.0.1 port) until `app(name) { status }` answers
      RUNNING, polled over HTTP every --poll-ms milliseconds (the poll interval adds on
      average half an interval to this figure);
    * direct    -- wall time of `docker compose up -d` run directly on the same rendered
      folder (rendered with appmanage.catalog.render, run with the same compose argv that
      appmanage.runtime.compose builds, the binary from detect_compose_command()).

    The two alternate, --runs times each after --warmup untimed rounds; each app is
    uninstalled (purgeData) or composed down before the next run. It prints the medians,
    their ratio and difference, then where the AppManage time goes, per run, from the
    timestamps of the job row (createdAt, startedAt, finishedAt), of its log lines (in the
    SQLite database of the private data folder), of the RQ worker's log lines, and of the
    client; and micro-measures of a fork and of the per-job Services construction.

    Issue 3's target: AppManage adds at most 0.3 s to the median.

    The real stack runs as subprocesses (tests/support/processes.py's Stack):
    `python -m appmanage serve` and two `python -m appmanage worker`, with a temp APPMANAGE_DATA_DIR, a private
    APPMANAGE_NAMESPACE and a free APPMANAGE_PORT. Everything it starts (processes,
    compose projects named bench-<random>-..., Redis keys, the data folder) is removed at
    the end, also on Ctrl-C or error.

    It ends with one line: `+X s over compose` (median AppManage minus median direct).

How to run
    .venv/bin/python -m bench.job_overhead               # quick: 3 runs after 1 warm-up
    .venv/bin/python -m bench.job_overhead --runs 20 [--poll-ms 20] [--warmup 1] [--profile-job]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appmanage.apps.submission import submit_install
from appmanage.catalog.render import render
from appmanage.catalog.sources import Catalog
from appmanage.config import SHIPPED_CATALOG, Settings
from appmanage.jobs.runner import run as run_job
from appmanage.runtime.compose import Compose, detect_compose_command
from appmanage.services import Services
from bench.common import bench_settings, interrupts_as_exceptions, load_line, remove_everything, run_prefix
from tests.support.graphql import GraphQLClient
from tests.support.ports import free_port
from tests.support.processes import Stack
from tests.support.waiting import wait_for

CATALOG_APP, VERSION = "hello", "1"
TARGET_SECONDS = 0.3
APP = "query($name: String!) { app(name: $name) { status statusReason } }"
RQ_LOG = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .* rq\.worker: (.*)$")


def stamp(iso: str | None) -> float:
    if iso is None:
        return float("nan")
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


@dataclass
class Timeline:
    """One AppManage install, as seconds since the client sent the mutation."""

    total: float
    marks: dict[str, float] = field(default_factory=dict)


@dataclass
class Direct:
    """One direct `docker compose up -d`: its wall time and when its first line came."""

    total: float
    first_line: float


def log_lines(settings: Settings, job_id: str) -> list[tuple[float, str]]:
    """The job's log lines with their time, straight from the private SQLite database."""
    with sqlite3.connect(f"file:{settings.data_dir / 'appmanage.db'}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT at, line FROM job_log_lines WHERE job_id = ? ORDER BY id", (job_id,)).fetchall()
    return [(datetime.fromisoformat(at).replace(tzinfo=UTC).timestamp(), line) for at, line in rows]


def rq_lines(settings: Settings, job_id: str) -> list[tuple[float, str]]:
    """RQ's own log lines about the job (local-time stamps, millisecond precision)."""
    found = []
    for line in (settings.logs_dir / "appmanage.log").read_text(errors="replace").splitlines():
        match = RQ_LOG.match(line)
        if match and job_id in match.group(2):
            at = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            found.append((at, match.group(2)))
    return found


def accepted(result: dict[str, Any]) -> str:
    if result["__typename"] != "JobAccepted":
        raise RuntimeError(f"refused: {result}")
    job_id: str = result["job"]["id"]
    return job_id


def install_and_wait(stack: Stack, client: GraphQLClient, name: str, poll: float) -> Timeline:
    port = str(free_port())
    sent = time.time()
    start = time.perf_counter()
    result = client.install(CATALOG_APP, name, VERSION, HTTP_PORT=port)
    answered = time.perf_counter() - start
    job_id = accepted(result)

    def running() -> bool:
        app = client.execute(APP, name=name)["app"]
        if app is not None and app["status"] == "FAILED":
            raise RuntimeError(f"{name} FAILED: {app['statusReason']}")
        return app is not None and app["status"] == "RUNNING"

    wait_for(running, 120, f"{name} to be RUNNING", interval=poll)
    total = time.perf_counter() - start
    job = client.job(job_id)
    marks = {
        "mutation answered": answered,
        "job row created": stamp(job["createdAt"]) - sent,
        "job started (claimed)": stamp(job["startedAt"]) - sent,
        "job finished": stamp(job["finishedAt"]) - sent,
    }
    for at, line in rq_lines(stack.settings, job_id):
        marks.setdefault("rq dequeued (worker log, ms)", at - sent)
        if line.startswith("Successfully completed"):
            marks["rq horse done (worker log, ms)"] = at - sent
    compose_lines = []
    for at, line in log_lines(stack.settings, job_id):
        if line.startswith("» "):
            marks.setdefault(f"step: {line[2:]}", at - sent)
        else:
            compose_lines.append(at)
    if compose_lines:
        marks["first compose line"] = compose_lines[0] - sent
        marks["last compose line"] = compose_lines[-1] - sent
    marks["RUNNING seen by client"] = total
    return Timeline(total, marks)


def uninstall(client: GraphQLClient, name: str) -> None:
    job_id = accepted(client.act("uninstallApp", name=name, purgeData=True))
    job = client.wait_job(job_id, timeout=120)
    if job["state"] != "SUCCEEDED":
        raise RuntimeError(f"uninstall of {name} ended {job['state']}: {job['error']}")


def direct_run(compose: Compose, catalog: Catalog, root: Path, name: str) -> Direct:
    catalog_app = catalog.get(CATALOG_APP)
    assert catalog_app is not None
    folder = root / "direct" / name
    compose_file = render(catalog_app, folder, name, VERSION, {"HTTP_PORT": str(free_port()), "GREETING": "hello"})
    argv = compose.argv(name, folder, compose_file.name, "up", "-d", "--remove-orphans")
    env = {**os.environ, "COMPOSE_STATUS_STDOUT": "1"}
    start = time.perf_counter()
    first_line: float | None = None
    output: list[str] = []
    with subprocess.Popen(
        argv, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            first_line = first_line if first_line is not None else time.perf_counter() - start
            output.append(line)
        returncode = process.wait(timeout=120)
    elapsed = time.perf_counter() - start
    if returncode != 0:
        raise RuntimeError(f"compose up of {name} failed ({returncode}): {''.join(output)}")
    return Direct(elapsed, first_line if first_line is not None else elapsed)


def compose_down(compose: Compose, name: str) -> None:
    argv = compose.argv(name, None, None, "down", "--volumes", "--remove-orphans", "--timeout", "1")
    subprocess.run(argv, capture_output=True, timeout=120)


def fork_cost(times: int) -> float:
    """Median seconds of fork + child exit + wait, from this process (appmanage imported)."""
    samples = []
    for _ in range(times):
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def services_cost(settings: Settings, times: int) -> float:
    """Median seconds to build what runner.run builds per job and touch each client once."""
    samples = []
    for _ in range(times):
        start = time.perf_counter()
        services = Services(settings)
        with services.db.read() as session:
            session.connection()
        services.catalog.get(CATALOG_APP)
        services.redis.ping()
        services.close()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def report(appmanage: list[Timeline], runs: list[Direct], poll_ms: float, micro: dict[str, float]) -> None:
    direct = [d.total for d in runs]
    ours = statistics.median(t.total for t in appmanage)
    theirs = statistics.median(direct)
    print(f"\n{len(direct)} runs each; appmanage polled app(name) every {poll_ms:.0f} ms over HTTP")
    print(f"{'':<34} {'median':>8} {'min':>8} {'max':>8}")
    print(
        f"{'appmanage installApp -> RUNNING':<34} {ours:>8.3f} {min(t.total for t in appmanage):>8.3f} "
        f"{max(t.total for t in appmanage):>8.3f} s"
    )
    print(f"{'direct docker compose up -d':<34} {theirs:>8.3f} {min(direct):>8.3f} {max(direct):>8.3f} s")
    print(
        f"ratio {ours / theirs:.2f}x, difference {ours - theirs:+.3f} s "
        f"(target <= +{TARGET_SECONDS:.1f} s: {'met' if ours - theirs <= TARGET_SECONDS else 'MISSED'})"
    )

    print("\nwhere the appmanage time goes: median seconds since the mutation was sent (and since the previous mark)")
    names: list[str] = []
    for timeline in appmanage:
        names.extend(n for n in timeline.marks if n not in names)
    medians = {n: statistics.median(t.marks[n] for t in appmanage if n in t.marks) for n in names}
    previous = 0.0
    for name in sorted(names, key=lambda n: medians[n]):
        print(f"  {name:<44} {medians[name]:>7.3f}   (+{medians[name] - previous:.3f})")
        previous = medians[name]
    spans = [
        ("compose inside the job (first..last line)", "first compose line", "last compose line"),
        ("step 'docker compose up' -> first line", "step: docker compose up", "first compose line"),
        ("last compose line -> job finished", "last compose line", "job finished"),
        ("job created -> started (queue, fork, Services)", "job row created", "job started (claimed)"),
        ("job finished -> RUNNING seen", "job finished", "RUNNING seen by client"),
    ]
    print("\nspans, median of per-run differences:")
    for title, a, b in spans:
        values = [t.marks[b] - t.marks[a] for t in appmanage if a in t.marks and b in t.marks]
        if values:
            print(f"  {title:<52} {statistics.median(values):>7.3f} s")
    compose_in_job = [
        t.marks["last compose line"] - t.marks["step: docker compose up"]
        for t in appmanage
        if "last compose line" in t.marks and "step: docker compose up" in t.marks
    ]
    if compose_in_job:
        print(f"  {'compose inside the job (step .. last line)':<52} {statistics.median(compose_in_job):>7.3f} s")
    print(f"  {'direct compose: start -> first line':<52} {statistics.median(d.first_line for d in runs):>7.3f} s")
    print(f"  {'direct compose: start -> exit':<52} {theirs:>7.3f} s")
    print("\nmicro-measures in this process:")
    for title, seconds in micro.items():
        print(f"  {title:<52} {seconds * 1000:>7.1f} ms")
    print(load_line())


def profile_job(root: Path, namespace: str, compose: Compose, top: int) -> str:
    """One install of `hello` run in this process under cProfile (wall clock), the way a
    worker's work horse runs it: `appmanage.jobs.runner.run(job_id)`. It uses its own data
    folder and namespace, which no worker listens on."""
    settings = Settings(data_dir=root / "profile", namespace=f"{namespace}-profile", catalogs=(SHIPPED_CATALOG,))
    os.environ.update(
        APPMANAGE_DATA_DIR=str(settings.data_dir),
        APPMANAGE_NAMESPACE=settings.namespace,
        APPMANAGE_CATALOGS=str(SHIPPED_CATALOG),
    )
    services = Services(settings)
    name = f"{namespace.removeprefix('appmanage-')}-prof"
    try:
        services.db.migrate()
        services.catalog.get(CATALOG_APP)  # the API process has its catalog loaded already
        submitting, running = cProfile.Profile(), cProfile.Profile()
        submitting.enable()
        job = submit_install(services, CATALOG_APP, name, VERSION, {"HTTP_PORT": str(free_port())}).job
        submitting.disable()
        running.enable()
        state = run_job(job.id)
        running.disable()
    finally:
        services.close()
        compose_down(compose, name)
    out = io.StringIO()
    for title, profiler in (
        ("apps.submission.submit_install (the installApp mutation's work)", submitting),
        (f"jobs.runner.run for one install ({state})", running),
    ):
        out.write(f"\n===== cProfile of {title}, wall clock, appmanage/ functions =====\n")
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(r"appmanage/", top)
    out.write("\n===== runner.run, all functions by own time =====\n")
    pstats.Stats(running, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each kind (default 3)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    parser.add_argument("--poll-ms", type=float, default=20, help="status poll interval (default 20 ms)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--profile-job", action="store_true", help="cProfile one install run in this process")
    parser.add_argument("--top", type=int, default=25, help="profile lines to print (default 25)")
    parser.add_argument("--keep-logs", type=Path, help="copy the stack's logs into this folder at the end")
    args = parser.parse_args()

    prefix = run_prefix()
    base = bench_settings(prefix, args.workers)
    root = Path(tempfile.mkdtemp(prefix=f"appmanage-{prefix}-"))
    stack: Stack | None = None
    compose = Compose(detect_compose_command())
    catalog = Catalog.load([SHIPPED_CATALOG])
    appmanage: list[Timeline] = []
    direct: list[Direct] = []
    with interrupts_as_exceptions():
        try:
            stack = Stack.create(base).start(workers=args.workers, watcher=False)
            client = stack.client()
            print(f"stack up on {stack.base} (data {stack.settings.data_dir}); compose: {' '.join(compose.command)}")
            for index in range(args.warmup + args.runs):
                timed = index >= args.warmup
                name = f"{prefix}-a{index:02d}"
                timeline = install_and_wait(stack, client, name, args.poll_ms / 1000)
                uninstall(client, name)
                name = f"{prefix}-d{index:02d}"
                plain = direct_run(compose, catalog, root, name)
                compose_down(compose, name)
                print(
                    f"{'run' if timed else 'warm-up'} {index:>2}: appmanage {timeline.total:.3f} s, "
                    f"direct {plain.total:.3f} s",
                    flush=True,
                )
                if timed:
                    appmanage.append(timeline)
                    direct.append(plain)
            micro = {
                "fork + exit + waitpid": fork_cost(20),
                "Services(settings) + first db/catalog/redis use": services_cost(stack.settings, 10),
            }
            report(appmanage, direct, args.poll_ms, micro)
            if args.profile_job:
                print(profile_job(root, stack.settings.namespace, compose, args.top))
            difference = statistics.median(t.total for t in appmanage) - statistics.median(d.total for d in direct)
            print(f"{difference:+.2f} s over compose")
        finally:
            if stack is not None:
                stack.stop()
                if args.keep_logs:
                    args.keep_logs.mkdir(parents=True, exist_ok=True)
                    for log in [*stack.settings.data_dir.glob("*.out"), *stack.settings.logs_dir.glob("*.log*")]:
                        shutil.copy2(log, args.keep_logs / log.name)
            left = remove_everything(stack, base, prefix)
            shutil.rmtree(root, ignore_errors=True)
            print(f"cleaned up: processes stopped, projects removed {left}, {root} deleted", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
