"""Benchmark: status events and the `apps` query with two Docker hosts and two API processes.

What is measured
    tests/support/multihost.py's scenario: host a on the system engine, host b on a private
    dockerd, an agent for each (own data folder, one worker), two `appmanage serve`
    processes, one Redis namespace and a private PostgreSQL database shared by all. One
    `hello` app is installed on each host and runs. Then, runs alternating so both see the
    same load of the machine:

    * host b via API 2 -- `docker kill` (SIGKILL, through engine b's API, in a thread as
      bench/event_latency.py does) of the app's container on host b, until a subscriber
      on API 2 (`appStatusChanged(name)`) receives EXITED: agent b's watcher -> Redis
      stream -> API 2's hub -> websocket;
    * host a via API 1 -- the same for the app on host a and a subscriber on API 1: the
      single-host figure of the same run.

    After each kill the container is started again and the subscriber waits for RUNNING.
    Then --apps App rows (default 1,000), half on each host, are inserted straight into
    the database (as bench/apps_query.py does, without containers: they read as not
    running), and `{ apps { name host status statusReason } }` is timed over HTTP through
    API 2, --queries times after one warm-up.

    Issue 13's target: kill -> event p95 on host b via API 2 at most 1.2x the single-host
    figure. It ends with one line (here in two):
    `hosts: kill→event p95 X ms on host b via API 2 (single host Y ms, ratio Z);
    apps query p50 W ms at 1000 apps on 2 hosts`

How to run
    .venv/bin/python -m bench.hosts                       # 20 runs per host, 20 queries
    .venv/bin/python -m bench.hosts --runs 50 --queries 30 --apps 1000 [--b-apart]

    --b-apart runs engine b and its agent in their own network namespace, reaching Redis
    and PostgreSQL through forwarders on a veth pair (tests/support/netns.py), as a second
    machine would.

It needs root (a private dockerd), Docker, Redis and PostgreSQL (APPMANAGE_TEST_POSTGRES,
default postgres@127.0.0.1:5432). Everything it creates (the private dockerd and its
root, both agents' folders and projects, the API processes, the PostgreSQL database,
the Redis keys of its namespace) is removed at the end, also on Ctrl-C or error.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from dataclasses import dataclass

import docker
import httpx
import pytest

from appmanage.config import SHIPPED_CATALOG
from appmanage.runtime.containers import PROJECT_LABEL
from appmanage.storage.database import Database
from appmanage.storage.models import App, utcnow
from bench import common
from tests.support.graphql import STATUS_SUBSCRIPTION
from tests.support.hosts import install_on
from tests.support.multihost import MultiHost, two_hosts_two_apis
from tests.support.ports import free_port
from tests.support.wsclient import GraphQLWebSocket

APPS_QUERY = "{ apps { name host status statusReason } }"


@dataclass
class Watched:
    """One app's container on one engine and a subscriber to its status on one API."""

    label: str
    name: str
    engine: docker.APIClient
    container: str
    ws: GraphQLWebSocket

    def next_status(self, status: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            event = self.ws.next("status", max(0.1, deadline - time.monotonic()))
            if event is None:
                raise RuntimeError(f"{self.label}: the subscription completed")
            if event["appStatusChanged"]["status"] == status:
                return

    def kill_to_event(self) -> float:
        """Seconds from `docker kill` to EXITED on the subscription; then RUNNING again."""
        started = time.perf_counter()
        killer = threading.Thread(target=self.engine.kill, args=(self.container,))
        killer.start()
        self.next_status("EXITED")
        took = time.perf_counter() - started
        killer.join()
        self.engine.start(self.container)
        self.next_status("RUNNING")
        return took


def install(scenario: MultiHost, host: str, name: str, api: int) -> str:
    """`hello` as `name` on `host`, RUNNING; its container id on that host's engine."""
    client = scenario.client(api)
    try:
        accepted = install_on(client, host, name, free_port())
        if accepted["__typename"] != "JobAccepted":
            raise RuntimeError(f"installApp on host {host} refused: {accepted}")
        job = client.wait_job(accepted["job"]["id"], timeout=120)
        if job["state"] != "SUCCEEDED":
            raise RuntimeError(f"install of {name} on host {host} ended {job['state']}: {job['error']}")
        client.wait_status(name, "RUNNING")
    finally:
        client.close()
    engine = docker.APIClient(base_url=scenario.engine_b.host if host == "b" else None)
    try:
        (container,) = engine.containers(filters={"label": f"{PROJECT_LABEL}={name}"})
        container_id: str = container["Id"]
        return container_id
    finally:
        engine.close()


def watch(scenario: MultiHost, label: str, host: str, name: str, api: int) -> Watched:
    container = install(scenario, host, name, api)
    engine = docker.APIClient(base_url=scenario.engine_b.host if host == "b" else None)
    ws = GraphQLWebSocket(scenario.apis[api].ws, token=scenario.settings.admin_token)
    ws.subscribe("status", STATUS_SUBSCRIPTION, name=name)
    ws.barrier()
    return Watched(label, name, engine, container, ws)


def insert_apps(database_url: str, prefix: str, count: int) -> None:
    """`count` installed App rows, alternately on hosts a and b."""
    database = Database(database_url)
    now = utcnow()
    try:
        with database.write() as session:
            session.add_all(
                App(
                    name=f"{prefix}-{index:05d}",
                    catalog_app="hello",
                    host="ab"[index % 2],
                    source=str(SHIPPED_CATALOG),
                    version="1",
                    settings={"HTTP_PORT": "8181", "GREETING": "hello"},
                    host_ports=[],
                    installed=True,
                    desired_running=True,
                    created_at=now,
                    updated_at=now,
                )
                for index in range(count)
            )
    finally:
        database.dispose()


def time_apps_query(scenario: MultiHost, expected: int, queries: int) -> list[float]:
    """Seconds per `apps` query over HTTP through API 2, after one warm-up."""
    headers = {"Authorization": f"Bearer {scenario.settings.admin_token}"}
    samples: list[float] = []
    with httpx.Client(base_url=scenario.apis[1].base, headers=headers, timeout=60) as client:
        for index in range(queries + 1):
            started = time.perf_counter()
            response = client.post("/graphql", json={"query": APPS_QUERY})
            took = time.perf_counter() - started
            body = response.json()
            if "errors" in body or len(body["data"]["apps"]) != expected:
                raise RuntimeError(f"apps query: {str(body)[:300]}")
            if index:
                samples.append(took)
    return samples


def measure(scenario: MultiHost, prefix: str, args: argparse.Namespace) -> str:
    on_b = watch(scenario, "host b via API 2", "b", f"{prefix}-onb", api=1)
    on_a = watch(scenario, "host a via API 1", "a", f"{prefix}-ona", api=0)
    figures: dict[str, list[float]] = {on_b.label: [], on_a.label: []}
    try:
        for index in range(args.warmup + args.runs):
            for watched in (on_b, on_a) if index % 2 else (on_a, on_b):
                time.sleep(args.pause_ms / 1000)
                took = watched.kill_to_event()
                if index >= args.warmup:
                    figures[watched.label].append(took)
            print(
                f"{'run' if index >= args.warmup else 'warm-up'} {index:>2}: "
                + ", ".join(f"{label} {values[-1] * 1000:6.1f} ms" for label, values in figures.items() if values),
                flush=True,
            )
    finally:
        for watched in (on_b, on_a):
            watched.ws.close()
            watched.engine.close()
    for label, values in figures.items():
        print(f"kill -> event, {label}: {common.summary_ms(values)}")
    two_hosts = common.percentile(figures[on_b.label], 95) * 1000
    single = common.percentile(figures[on_a.label], 95) * 1000

    insert_apps(scenario.settings.database_url, f"{prefix}-row", args.apps - 2)
    queries = time_apps_query(scenario, args.apps, args.queries)
    print(f"apps query through API 2 at {args.apps} apps on 2 hosts: {common.summary_ms(queries)}")
    print(common.load_line())
    return (
        f"hosts: kill→event p95 {two_hosts:.1f} ms on host b via API 2 (single host {single:.1f} ms, "
        f"ratio {two_hosts / single:.2f}); apps query p50 {common.percentile(queries, 50) * 1000:.1f} ms "
        f"at {args.apps} apps on 2 hosts"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="timed kills per host (default 20)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed kills per host first (default 2)")
    parser.add_argument("--pause-ms", type=float, default=200, help="pause after RUNNING before a kill (default 200)")
    parser.add_argument("--apps", type=int, default=1000, help="apps for the query, both installed ones included")
    parser.add_argument("--queries", type=int, default=20, help="timed apps queries (default 20)")
    parser.add_argument(
        "--b-apart",
        action="store_true",
        help="engine b and its agent in their own network namespace, Redis and PostgreSQL over a veth pair",
    )
    args = parser.parse_args()

    prefix = common.run_prefix()
    base = common.bench_settings(prefix)
    with common.interrupts_as_exceptions():
        try:
            with two_hosts_two_apis(base, b_apart=args.b_apart) as scenario:
                print(f"2 hosts (a, b), 2 APIs ({scenario.apis[0].base}, {scenario.apis[1].base})", flush=True)
                line = measure(scenario, prefix, args)
        except pytest.skip.Exception as skipped:
            print(f"cannot run: {skipped.msg}", file=sys.stderr)
            return 1
        finally:
            common.remove_everything(None, base, prefix)
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
