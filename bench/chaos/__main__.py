"""`python -m bench.chaos`: set up, run the chaos, count, report, clean up."""

from __future__ import annotations

import argparse
import functools
import random
import secrets
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from appmanage.config import SHIPPED_CATALOG, Settings
from bench.chaos import __doc__ as DESCRIPTION
from bench.chaos.checks import Checks, Findings
from bench.chaos.cluster import HOSTS, Cluster
from bench.chaos.cluster_faults import CLUSTER_FAULT_KINDS, ClusterFaults
from bench.chaos.faults import FAULT_KINDS
from bench.chaos.operations import Operations
from bench.chaos.state import API_ERRORS
from tests.support.processes import Stack
from tests.support.waiting import wait_for


class Chaos(Operations, ClusterFaults, Checks):
    def set_up(self) -> None:
        self.redis.start()
        if self.args.hosts == 2:
            self.set_up_cluster()
            return
        self.docker.start()
        self.docker.load_images()
        base = Settings(
            data_dir=Path(tempfile.gettempdir()),
            namespace=f"chaos-{secrets.token_hex(3)}",
            redis_url=self.redis.url,
            catalogs=(SHIPPED_CATALOG,),
            workers=self.args.workers,
            compose_timeout=120,
        )
        self.stack = Stack.create(base, DOCKER_HOST=self.docker.host, APPMANAGE_REDIS_URL=self.redis.url)
        self.stack.start(workers=self.args.workers, watcher=True)
        self.api = self.stack.client()
        try:
            self.api.execute("{ health { docker redis database workers } }")
        except API_ERRORS as exc:
            raise SystemExit(f"the API refuses the stack's admin token or does not answer: {exc}") from exc
        self.say(f"stack up: data {self.stack.settings.data_dir}, dockerd {self.docker.host}, redis {self.redis.url}")

    def set_up_cluster(self) -> None:
        base = Settings(
            data_dir=Path(tempfile.gettempdir()),
            namespace=f"chaos-{secrets.token_hex(3)}",
            redis_url=self.redis.url,
            catalogs=(SHIPPED_CATALOG,),
            compose_timeout=120,
        )
        cluster = self.cluster = Cluster(self.redis, self.args.workers)
        cluster.start(base)
        self.hosts = list(HOSTS)
        self.clients = cluster.clients()
        self.api = self.clients[0]
        for host in HOSTS:
            wait_for(functools.partial(cluster.host_online, host), 60, f"host {host}'s agent to report")
        apis = ", ".join(api.base for api in cluster.apis)
        self.say(f"cluster up: hosts {', '.join(HOSTS)}, APIs {apis}, data {cluster.data}, redis {self.redis.url}")

    def tear_down(self) -> None:
        self.faulting.set()
        self.closing.set()
        for thread in self.threads:
            thread.join(timeout=180)
        for client in {id(c): c for c in [*self.clients, *([self.api] if self.api else [])]}.values():
            client.close()
        steps: list[tuple[str, Callable[[], None]]] = [
            ("cluster", self.cluster.remove if self.cluster is not None else lambda: None),
            ("stack", self.stack.remove if self.stack is not None else lambda: None),
            ("dockerd", self.docker.remove),
            ("redis", self.redis.kill),
        ]
        for what, step in steps:
            try:
                step()
            except Exception as exc:  # one failed step must not leave the others behind
                print(f"cleaning up the {what} failed: {exc}", file=sys.stderr)

    def run(self) -> Findings:
        supervise = self.supervise_cluster if self.cluster is not None else self.supervise
        supervisor = threading.Thread(target=supervise, name="supervisor", daemon=True)
        faults = threading.Thread(target=self.inject_faults, name="faults", daemon=True)
        self.threads = [faults, supervisor]
        supervisor.start()
        faults.start()
        self.chaos_started = time.monotonic()
        self.run_operations(self.args.minutes * 60)
        self.faulting.set()
        self.say("chaos stopped; waiting for the fault in progress, then for quiet")
        faults.join()
        self.chaos_seconds = time.monotonic() - self.chaos_started
        self.quiet_seconds = self.wait_for_quiet()
        time.sleep(3)
        return self.count()


def report(chaos: Chaos, findings: Findings, total: float) -> None:
    tally = chaos.tally
    counts = {
        "jobs lost": findings.lost,
        "jobs run twice": findings.twice,
        "apps stuck busy": findings.stuck,
        "apps disagreeing with Docker": findings.disagree,
    }
    print()
    args = chaos.args
    per_host = " per host, 2 APIs, PostgreSQL" if args.hosts == 2 else ""
    print(f"chaos run: seed {args.seed}, {args.hosts} host(s), {args.apps} apps, {args.workers} workers{per_host}")
    quiet = "never" if chaos.quiet_seconds is None else f"{chaos.quiet_seconds:.0f} s"
    print(f"duration: chaos {chaos.chaos_seconds / 60:.1f} min, quiet after {quiet}, total {total / 60:.1f} min")
    print(f"operations sent: {sum(tally.sent.values())} ({_fmt(tally.sent)})")
    print(f"jobs accepted: {len(tally.accepted)} ({_fmt(Counter(a.kind for a in tally.accepted.values()))})")
    print(f"faults injected: {sum(tally.faults.values())} ({_fmt(tally.faults)})")
    if args.hosts == 2:
        print(f"probes of a down host: {chaos.probes}, misreads {len(chaos.misreads)}")
    if tally.exits:
        print(f"processes that exited by themselves: {_fmt(tally.exits)}")
    print("outcomes:")
    for key, n in sorted(tally.outcomes.items()):
        example = tally.first_errors.get(key)
        print(f"  {n:5d}  {key}" + (f"  (e.g. {example})" if example else ""))
    print("counts:")
    for label, items in counts.items():
        print(f"  {label}: {len(items)}")
        for item in items:
            print(f"    - {item}")
    for note in findings.notes:
        print(f"note: {note}")


def _fmt(counter: Counter[str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counter.items())) or "none"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=1, help="how long the chaos lasts (default 1)")
    parser.add_argument("--apps", type=int, default=6, help="how many app names to play with (default 6)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: a random one, printed)")
    parser.add_argument(
        "--hosts",
        type=int,
        choices=(1, 2),
        default=2,
        help="2: two hosts, two APIs, PostgreSQL (default); 1: one stack on SQLite",
    )
    parser.add_argument("--workers", type=int, default=None, help="workers per host (default 3; 2 hosts: 2)")
    parser.add_argument("--fault-interval", type=float, default=10, help="mean seconds between faults (default 10)")
    parser.add_argument(
        "--faults",
        type=lambda text: [k.strip() for k in text.split(",") if k.strip()],
        default=None,
        help=f"fault kinds, comma separated, of {', '.join(FAULT_KINDS)} (default worker,redis,docker); "
        f"with 2 hosts of {', '.join(CLUSTER_FAULT_KINDS)} (default all)",
    )
    parser.add_argument("--duo", type=float, default=0.2, help="share of installs that install duo (default 0.2)")
    parser.add_argument("--quiet-timeout", type=float, default=120, help="seconds to wait for quiet (default 120)")
    parser.add_argument("--keep-evidence", action="store_true", help="copy the logs and database even when all is 0")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every accepted job")
    args = parser.parse_args(argv)
    two = args.hosts == 2
    if args.workers is None:
        args.workers = 2 if two else 3
    if args.faults is None:
        args.faults = list(CLUSTER_FAULT_KINDS) if two else ["worker", "redis", "docker"]
    unknown = set(args.faults) - set(CLUSTER_FAULT_KINDS if two else FAULT_KINDS)
    if unknown:
        parser.error(f"unknown fault kinds: {', '.join(sorted(unknown))}")
    if args.seed is None:
        args.seed = random.randrange(1_000_000)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def interrupted(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    chaos = Chaos(args)
    started = time.monotonic()
    try:
        chaos.set_up()
        findings = chaos.run()
        report(chaos, findings, time.monotonic() - started)
        print(summary_line(chaos, findings))
        if not findings.ok or args.keep_evidence:
            print(f"evidence kept in {chaos.keep_evidence()}")
        return 0 if findings.ok else 1
    except KeyboardInterrupt:
        print("interrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        chaos.tear_down()


def summary_line(chaos: Chaos, findings: Findings) -> str:
    return (
        f"chaos: {len(chaos.tally.accepted)} jobs, lost {len(findings.lost)}, run twice {len(findings.twice)}, "
        f"stuck {len(findings.stuck)}, disagreeing {len(findings.disagree)}"
    )


if __name__ == "__main__":
    sys.exit(main())
