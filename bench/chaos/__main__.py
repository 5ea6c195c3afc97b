"""`python -m bench.chaos`: set up, run the chaos, count, report, clean up."""

from __future__ import annotations

import argparse
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
from bench.chaos.faults import FAULT_KINDS, Faults
from bench.chaos.operations import Operations
from bench.chaos.state import API_ERRORS
from tests.support.processes import Stack


class Chaos(Operations, Faults, Checks):
    def set_up(self) -> None:
        self.redis.start()
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

    def tear_down(self) -> None:
        self.faulting.set()
        self.closing.set()
        for thread in self.threads:
            thread.join(timeout=180)
        if self.api is not None:
            self.api.close()
        steps: list[tuple[str, Callable[[], None]]] = [
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
        supervisor = threading.Thread(target=self.supervise, name="supervisor", daemon=True)
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
    print(f"chaos run: seed {chaos.args.seed}, {chaos.args.apps} apps, {chaos.args.workers} workers")
    quiet = "never" if chaos.quiet_seconds is None else f"{chaos.quiet_seconds:.0f} s"
    print(f"duration: chaos {chaos.chaos_seconds / 60:.1f} min, quiet after {quiet}, total {total / 60:.1f} min")
    print(f"operations sent: {sum(tally.sent.values())} ({_fmt(tally.sent)})")
    print(f"jobs accepted: {len(tally.accepted)} ({_fmt(Counter(a.kind for a in tally.accepted.values()))})")
    print(f"faults injected: {sum(tally.faults.values())} ({_fmt(tally.faults)})")
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
    parser.add_argument("--workers", type=int, default=3, help="workers kept running (default 3)")
    parser.add_argument("--fault-interval", type=float, default=10, help="mean seconds between faults (default 10)")
    parser.add_argument(
        "--faults",
        type=lambda text: [k.strip() for k in text.split(",") if k.strip()],
        default=["worker", "redis", "docker"],
        help=f"fault kinds, comma separated, of {', '.join(FAULT_KINDS)} (default worker,redis,docker)",
    )
    parser.add_argument("--duo", type=float, default=0.2, help="share of installs that install duo (default 0.2)")
    parser.add_argument("--quiet-timeout", type=float, default=120, help="seconds to wait for quiet (default 120)")
    parser.add_argument("--keep-evidence", action="store_true", help="copy the logs and database even when all is 0")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every accepted job")
    args = parser.parse_args(argv)
    unknown = set(args.faults) - set(FAULT_KINDS)
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
