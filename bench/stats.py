"""Benchmark: what the host's stats sampler costs with many containers.

What is measured
    --containers busybox `sleep` containers are started (`docker run -d --rm` through the
    SDK, on a bridge network of their own, nothing published) with compose labels: two services per
    project, named <prefix>-...; then the real sampler (appmanage.stats.sampler, the
    thread the watcher runs) samples them while a demand of --every seconds is kept in
    Redis, as an API with a subscriber does, so every sample is also published. After
    its first pass (the one that inspects every container once, timed on its own), the
    sampler thread's CPU time is read from its own clock (pthread_getcpuclockid) over
    --seconds, and given per minute as % of one core; with it the wall time of each pass,
    how many Docker listings it asked for (a new one only when a container started or
    stopped, or every 30 s), and how many containers fell back to Docker's one-shot stats
    (0 when the cgroup files are readable). dockerd's CPU over the same window is shown
    beside it (it includes whatever else dockerd did meanwhile).

    Issue 14's target: 200 containers sampled every 5 s for at most 1% of one core.

    Everything it starts (containers, Redis keys, the data folder) is removed at the end,
    also on Ctrl-C or error. It ends with one line:
    `sampler: N containers every S s: X% of one core, pass p50 Y ms`.

How to run
    .venv/bin/python -m bench.stats [--containers 200] [--every 5] [--seconds 60]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
from redis import Redis

from appmanage.runtime.containers import PROJECT_LABEL, SERVICE_LABEL
from appmanage.stats.demand import WANT, member, wanted_key
from appmanage.stats.sampler import StatsSampler
from appmanage.stats.samples import HostSample
from appmanage.storage.database import Database
from bench.common import bench_settings, interrupts_as_exceptions, load_line, run_prefix
from tests.support.projects import delete_keys

IMAGE = "appmanage-local/busybox:1"
TARGET_PERCENT = 1.0
TICK = os.sysconf("SC_CLK_TCK")


def start_containers(client: docker.DockerClient, prefix: str, count: int) -> None:
    """`count` containers on a bridge network of their own (as a compose project has)."""
    client.networks.create(f"{prefix}-net", driver="bridge", labels={PROJECT_LABEL: prefix})

    def start(n: int) -> None:
        client.containers.run(
            IMAGE,
            ["sleep", "3600"],
            name=f"{prefix}-c{n:03d}",
            detach=True,
            auto_remove=True,
            network=f"{prefix}-net",
            labels={PROJECT_LABEL: f"{prefix}-app{n // 2:03d}", SERVICE_LABEL: f"s{n % 2}"},
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(start, range(count)))


def remove_containers(client: docker.DockerClient, prefix: str) -> int:
    found = client.api.containers(all=True, filters={"name": f"{prefix}-c"})

    def remove(container_id: str) -> None:
        with contextlib.suppress(docker.errors.APIError):
            client.api.remove_container(container_id, force=True)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(remove, [c["Id"] for c in found]))
    for network in client.api.networks(names=[f"{prefix}-net"]):
        with contextlib.suppress(docker.errors.APIError):
            client.api.remove_network(network["Id"])
    return len(found)


def dockerd_ticks() -> int | None:
    found = subprocess.run(["pidof", "dockerd"], capture_output=True, text=True).stdout.split()
    if not found:
        return None
    fields = Path(f"/proc/{found[0]}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


class TimedSampler(StatsSampler):
    """The real sampler, each pass's wall time and sample kept."""

    passes: list[float]
    samples: list[HostSample]

    def sample(self, live: bool) -> HostSample:
        started = time.perf_counter()
        sample = super().sample(live)
        self.passes.append(time.perf_counter() - started)
        self.samples.append(sample)
        return sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--containers", type=int, default=200)
    parser.add_argument("--every", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()

    prefix = run_prefix()
    settings = bench_settings(prefix)
    host = f"{prefix}-host"
    client = docker.from_env(timeout=120)
    redis = Redis.from_url(settings.redis_url)
    db = Database(settings.database_url)
    stopping = threading.Event()
    try:
        with interrupts_as_exceptions():
            db.migrate()
            started = time.monotonic()
            start_containers(client, prefix, args.containers)
            print(f"{args.containers} containers started in {time.monotonic() - started:.1f} s; {load_line()}")
            want = redis.register_script(WANT)

            def ask() -> None:
                want(keys=[wanted_key(settings.namespace, host)], args=[member(args.every, "bench"), 6000])

            ask()
            sampler = TimedSampler(settings, redis, db, host)
            sampler.passes, sampler.samples = [], []
            thread = sampler.start(stopping)
            while not sampler.passes:
                time.sleep(0.05)
            first_pass = sampler.passes[0]
            clock = time.pthread_getcpuclockid(thread.ident or 0)
            cpu_before, wall_before, dockerd_before = time.clock_gettime(clock), time.monotonic(), dockerd_ticks()
            passes_before, listings_before = len(sampler.passes), sampler._reader.listings
            while time.monotonic() - wall_before < args.seconds:
                ask()
                time.sleep(2.0)
            cpu = time.clock_gettime(clock) - cpu_before
            wall = time.monotonic() - wall_before
            dockerd_after = dockerd_ticks()
            passes = sampler.passes[passes_before:]
            listings = sampler._reader.listings - listings_before
            last = sampler.samples[-1]
            sampled = sum(a.total.containers for name, a in last.apps.items() if name.startswith(prefix))
            fallback = sampler._reader.read().from_docker
            percent = cpu / wall * 100
            print(f"first pass (inspects every container once): {first_pass * 1000:.0f} ms")
            print(
                f"{len(passes)} passes in {wall:.0f} s, {sampled} containers each; pass wall "
                f"p50 {statistics.median(passes) * 1000:.1f} ms, max {max(passes) * 1000:.1f} ms; "
                f"{listings} Docker listings; Docker's one-shot stats used for {fallback} containers"
            )
            print(f"sampler thread CPU: {cpu * 1000:.0f} ms in {wall:.0f} s = {percent:.2f}% of one core")
            if dockerd_before is not None and dockerd_after is not None:
                print(
                    f"dockerd CPU meanwhile (its listings, and whatever else it did): "
                    f"{(dockerd_after - dockerd_before) / TICK / wall * 100:.2f}% of one core"
                )
            verdict = "within" if percent <= TARGET_PERCENT else "OVER"
            print(
                f"sampler: {sampled} containers every {args.every:g} s: {percent:.2f}% of one core "
                f"({verdict} the {TARGET_PERCENT:g}% target), pass p50 {statistics.median(passes) * 1000:.1f} ms"
            )
    finally:
        stopping.set()
        removed = remove_containers(client, prefix)
        client.close()
        redis.close()
        db.dispose()
        delete_keys(settings.redis_url, [settings.namespace])
        shutil.rmtree(settings.data_dir, ignore_errors=True)
        print(f"removed {removed} containers", flush=True)


if __name__ == "__main__":
    main()
