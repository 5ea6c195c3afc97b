"""Benchmark: the `apps { name status services { state } }` query for N installed apps.

What is measured
    For each N in --sizes, the script makes N apps' worth of Docker containers (created,
    never started, from appmanage-local/busybox:1, with the compose labels docker compose
    would set) and the matching App rows in a fresh SQLite database, then times:

    * docker listing  -- the one low-level `GET /containers/json` AppManage makes
                         (`APIClient.containers(all=True, filters=label)`), alone;
    * snapshot        -- `appmanage.snapshot.take_snapshot`: three database reads, the
                         listing, and the status function for every app;
    * cold query      -- the whole query with the API's AppStates emptied before each run
                         (what the first query after a reconnection of the stream costs);
    * graphql query   -- the whole query executed in-process against the schema the API
                         serves (`build_schema(settings)`, with its caps; `execute` with a
                         Context as the API process makes it: real Services, the container
                         cache, a started event hub and the AppStates it keeps current);
    * floor           -- the same selection on a tiny schema built here of plain Strawberry
                         types over N ready objects: no AppManage code, no Docker, no
                         database. What Strawberry alone costs for that answer.

    It prints p50 / p95 over --runs runs (after one warm-up run) and the cost per app,
    so that growth can be compared with linear; the graphql query and the floor take
    turns, run by run, so that both see the same load of the machine. With --profile it also prints a cProfile
    of the GraphQL query at the largest size. Containers created by other projects on the
    host are listed by AppManage too; their number is printed.

    Issue 2's target: p50 of the GraphQL query at most 50 ms for 1,000 apps. It ends with
    one line: `apps query p50 X ms at N apps; floor Y ms; ratio Z` (the largest size).

How to run
    .venv/bin/python -m bench.apps_query                 # quick: 1,000 apps, 10 runs
    .venv/bin/python -m bench.apps_query --sizes 100,1000 --runs 30 [--profile]

Everything it creates (containers named bench-<random>-..., a temp data folder, a
private APPMANAGE namespace) is removed at the end, also on Ctrl-C or error.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import docker
import strawberry
from redis import Redis

from appmanage.app_states import AppStates
from appmanage.config import SHIPPED_CATALOG, Settings
from appmanage.enums import Role
from appmanage.event_stream import EventHub
from appmanage.runtime.container_cache import ContainerCache
from appmanage.runtime.containers import ONEOFF_LABEL, PROJECT_LABEL, SERVICE_LABEL
from appmanage.schema.apps import App as AppType
from appmanage.schema.context import Context
from appmanage.schema.schema import build_schema
from appmanage.services import Services
from appmanage.snapshot import take_snapshot
from appmanage.storage import queries
from appmanage.storage.models import App, utcnow
from bench.common import interrupts_as_exceptions, load_line

T = TypeVar("T")
IMAGE = "appmanage-local/busybox:1"
QUERY = "{ apps { name status services { state } } }"
TARGET_MS = 50.0
CREATE_THREADS = 16


STAGES = (
    ("docker listing", "GET /containers/json through docker.APIClient, decoded"),
    ("db reads", "the three reads take_snapshot makes (apps, unfinished jobs, last jobs)"),
    ("snapshot", "take_snapshot: db reads + listing + status of every app"),
    ("cold query", "the whole query, AppStates emptied before each run"),
    ("graphql query", "the whole query, in-process, against the served schema (with its caps)"),
    ("floor", "the same selection on plain Strawberry types over N ready objects"),
)


@dataclass
class Figures:
    size: int
    host_containers: int
    samples: dict[str, list[float]]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def timed(action: Callable[[], Any], runs: int) -> list[float]:
    """Milliseconds of each of `runs` calls, after one warm-up call."""
    action()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def taking_turns(actions: dict[str, Callable[[], Any]], runs: int) -> dict[str, list[float]]:
    """Milliseconds of each action's `runs` calls, the actions taking turns (after one
    warm-up call each), so that the query and its floor see the same load of the machine."""
    for action in actions.values():
        action()
    samples: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(runs):
        for name, action in actions.items():
            start = time.perf_counter()
            action()
            samples[name].append((time.perf_counter() - start) * 1000)
    return samples


class Fixture:
    """N apps' worth of created containers and App rows; remembers what to remove."""

    def __init__(self, api: docker.APIClient, services: Services, prefix: str) -> None:
        self.api = api
        self.services = services
        self.prefix = prefix
        self.container_ids: list[str] = []
        self.apps = 0

    def grow_to(self, size: int) -> None:
        names = [f"{self.prefix}-{index:05d}" for index in range(self.apps, size)]
        with ThreadPoolExecutor(CREATE_THREADS) as pool:
            for container_id in pool.map(self._create, names):
                self.container_ids.append(container_id)
        now = utcnow()
        with self.services.db.write() as session:
            session.add_all(
                App(
                    name=name,
                    catalog_app="hello",
                    source=str(SHIPPED_CATALOG),
                    version="1",
                    settings={"HTTP_PORT": "8181", "GREETING": "hello"},
                    host_ports=[],
                    installed=True,
                    desired_running=True,
                    created_at=now,
                    updated_at=now,
                )
                for name in names
            )
        self.apps = size

    def _create(self, project: str) -> str:
        labels = {
            PROJECT_LABEL: project,
            SERVICE_LABEL: "web",
            ONEOFF_LABEL: "False",
            "com.docker.compose.container-number": "1",
            "com.docker.compose.project.working_dir": f"/nonexistent/{project}",
            "com.docker.compose.config-hash": "bench",
            "com.docker.compose.version": "bench",
        }
        created = self.api.create_container(IMAGE, command=["true"], name=f"{project}-web-1", labels=labels)
        container_id: str = created["Id"]
        return container_id

    def remove(self) -> int:
        """Every container of this run, also ones whose id we never got back."""
        found = self.api.containers(all=True, quiet=True, filters={"name": self.prefix})
        ids = set(self.container_ids) | {c["Id"] for c in found}
        with ThreadPoolExecutor(CREATE_THREADS) as pool:
            list(pool.map(self._remove_one, ids))
        return len(ids)

    def _remove_one(self, container_id: str) -> None:
        with suppress(docker.errors.NotFound):
            self.api.remove_container(container_id, force=True, v=True)


def measure(
    fixture: Fixture, served: strawberry.Schema, context: Context, loop: asyncio.AbstractEventLoop, runs: int
) -> Figures:
    services = fixture.services
    reader_api = services.containers.api

    def listing() -> None:
        reader_api.containers(all=True, filters={"label": PROJECT_LABEL})

    def db_reads() -> None:
        with services.db.read() as session:
            apps = queries.list_apps(session)
            queries.unfinished_jobs(session)
            queries.last_finished_jobs(session, [a.name for a in apps if not a.installed])

    def snapshot() -> None:
        take_snapshot(services)

    def query() -> None:
        result = run(loop, served.execute(QUERY, context_value=context))
        if result.errors:
            raise RuntimeError(result.errors)
        if len(result.data["apps"]) < fixture.apps:  # type: ignore[index]
            raise RuntimeError("the query returned fewer apps than were created")

    def cold_query() -> None:
        assert context.app_states is not None
        context.app_states.invalidate()
        query()

    def floor() -> None:
        result = run(loop, plain.execute(QUERY))
        if result.errors:
            raise RuntimeError(result.errors)

    plain = floor_schema(fixture.apps)
    stages = dict(
        zip(
            (name for name, _ in STAGES),
            (listing, db_reads, snapshot, cold_query, query, floor),
            strict=True,
        )
    )
    host_containers = len(reader_api.containers(all=True, quiet=True, filters={"label": PROJECT_LABEL}))
    compared = ("graphql query", "floor")
    samples = {name: timed(run, runs) for name, run in stages.items() if name not in compared}
    samples.update(taking_turns({name: stages[name] for name in compared}, runs))
    return Figures(fixture.apps, host_containers, samples)


@strawberry.enum
class FloorStatus(Enum):
    RUNNING = "RUNNING"
    EXITED = "EXITED"


@strawberry.type
class FloorService:
    state: str


@strawberry.type
class FloorApp:
    name: str
    status: FloorStatus
    services: list[FloorService]


def floor_schema(size: int) -> strawberry.Schema:
    """`apps` answers `size` ready objects: the least any schema can do for QUERY."""
    ready = [
        FloorApp(name=f"app-{index:05d}", status=FloorStatus.EXITED, services=[FloorService(state="exited")])
        for index in range(size)
    ]

    @strawberry.type
    class Query:
        @strawberry.field
        def apps(self) -> list[FloorApp]:
            return ready

    return strawberry.Schema(query=Query)


def run(loop: asyncio.AbstractEventLoop, work: Coroutine[Any, Any, T]) -> T:
    return asyncio.run_coroutine_threadsafe(work, loop).result()


async def profiled(profiler: cProfile.Profile, work: Coroutine[Any, Any, T]) -> T:
    """`work` profiled in the loop's thread (the store's refresh runs in another)."""
    profiler.enable()
    try:
        return await work
    finally:
        profiler.disable()


async def connect(hub: EventHub) -> None:
    """The hub started and reading the stream, as in the API process."""
    await hub.start()
    for _ in range(100):
        if hub.connected:
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("the event hub did not connect to Redis")


def summary_line(figures: Figures) -> str:
    query = statistics.median(figures.samples["graphql query"])
    floor = statistics.median(figures.samples["floor"])
    return f"apps query p50 {query:.1f} ms at {figures.size} apps; floor {floor:.1f} ms; ratio {query / floor:.2f}"


def profile_query(served: strawberry.Schema, context: Context, loop: asyncio.AbstractEventLoop, top: int) -> str:
    """cProfile sees one thread only, and the store refreshes in a worker thread: so
    take_snapshot (what a cold store costs) is profiled here in the main thread, then the
    query over the warm store."""
    services = context.services
    out = io.StringIO()
    snapshot_profile, query_profile = cProfile.Profile(), cProfile.Profile()
    for _ in range(5):
        snapshot_profile.runcall(take_snapshot, services)
        run(loop, profiled(query_profile, served.execute(QUERY, context_value=context)))
    for title, profiler in (("take_snapshot", snapshot_profile), ("graphql query", query_profile)):
        out.write(f"\n===== {title}: 5 calls, sorted by own time =====\n")
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def report(figures: list[Figures], runs: int) -> None:
    print(f"\n{runs} runs each (after one warm-up), milliseconds; per-app cost = p50 / N")
    for name, meaning in STAGES:
        print(f"  {name:<14} {meaning}")
    header = f"{'N apps':>7} {'host ctrs':>9} | {'stage':<14} {'p50':>8} {'p95':>8} {'min':>8} {'us/app':>8}"
    print(header)
    print("-" * len(header))
    for f in figures:
        for name, _ in STAGES:
            samples = f.samples[name]
            p50 = statistics.median(samples)
            print(
                f"{f.size:>7} {f.host_containers:>9} | {name:<14} {p50:>8.1f} {percentile(samples, 0.95):>8.1f} "
                f"{min(samples):>8.1f} {p50 * 1000 / f.size:>8.1f}"
            )
    if len(figures) >= 2:
        small, large = figures[0], figures[-1]
        print(
            f"\ngrowth of p50 from N={small.size} to N={large.size} (linear would be x{large.size / small.size:.1f}):"
        )
        for name, _ in STAGES:
            growth = statistics.median(large.samples[name]) / statistics.median(small.samples[name])
            print(f"  {name:<14} x{growth:.1f}")
    largest = figures[-1]
    p50 = statistics.median(largest.samples["graphql query"])
    verdict = "met" if p50 <= TARGET_MS else "MISSED"
    print(f"\ntarget: graphql query p50 <= {TARGET_MS:.0f} ms at N={largest.size}: {p50:.1f} ms -> {verdict}")
    print(load_line())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000", help="comma-separated app counts (default 1000)")
    parser.add_argument("--runs", type=int, default=10, help="timed runs per size (default 10)")
    parser.add_argument("--profile", action="store_true", help="cProfile the query at the largest size")
    parser.add_argument("--top", type=int, default=25, help="profile lines to print (default 25)")
    args = parser.parse_args()
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})

    run_id = secrets.token_hex(3)
    prefix = f"bench-{run_id}"
    data_dir = Path(tempfile.mkdtemp(prefix=f"appmanage-{prefix}-"))
    settings = Settings(data_dir=data_dir, namespace=f"appmanage-{prefix}", catalogs=(SHIPPED_CATALOG,))
    client = docker.from_env(timeout=120)
    cache = ContainerCache()  # as the API process has
    services = Services(settings, containers=cache)
    cache.start()
    fixture = Fixture(client.api, services, prefix)
    figures: list[Figures] = []
    loop = asyncio.new_event_loop()  # runs in its own thread, as the API's loop never stops
    threading.Thread(target=loop.run_forever, name="bench-loop", daemon=True).start()
    hub: EventHub | None = None
    with interrupts_as_exceptions():
        try:
            services.db.migrate()
            hub = EventHub(settings.redis_url, settings.namespace)
            app_states = AppStates(services, AppType.shaper(services), live=lambda: hub.connected)
            hub.add_listener(app_states.on_event)
            run(loop, connect(hub))
            context = Context(services=services, hub=hub, role=Role.VIEWER, app_states=app_states)
            served = build_schema(settings)  # with the caps of APPMANAGE_MAX_*, as the API serves it
            for size in sizes:
                start = time.perf_counter()
                fixture.grow_to(size)
                print(f"N={size}: containers and rows ready in {time.perf_counter() - start:.1f} s", flush=True)
                figures.append(measure(fixture, served, context, loop, args.runs))
            report(figures, args.runs)
            if args.profile:
                print(f"\ncProfile at N={sizes[-1]}:")
                print(profile_query(served, context, loop, args.top))
            print(summary_line(figures[-1]))
        finally:
            if hub is not None:
                run(loop, hub.close())
            loop.call_soon_threadsafe(loop.stop)
            removed = fixture.remove()
            services.close()
            client.close()
            redis = Redis.from_url(settings.redis_url)
            for key in redis.scan_iter(match=f"{settings.namespace}*"):
                redis.delete(key)
            redis.close()
            shutil.rmtree(data_dir, ignore_errors=True)
            print(f"cleaned up: {removed} containers, {data_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
