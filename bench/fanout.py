"""Benchmark: one status change fanned out to 1,000 concurrent subscribers on ONE API
process.

What is measured
    A real stack (tests/support/processes.py's Stack: `appmanage serve`, a worker and `appmanage
    watch` as subprocesses, with a temp data folder, a private Redis namespace and an
    admin token) installs catalog app `hello` (HTTP_PORT on a free 127.0.0.1 port below
    the ephemeral range) and waits for RUNNING. Then, with asyncio and the `websockets`
    library's asyncio client:

    * --subscribers `appStatusChanged(name)` subscriptions are opened on that one API
      process: by default one graphql-transport-ws connection each (--per-connection
      puts several on one connection; Settings.max_subscriptions caps that at 100), each
      connection sending connection_init with {"Authorization": "Bearer <token>"}. A
      `{ __typename }` operation after the subscribe is a barrier, and the API's own
      `health { subscribers }` must then count them all;
    * one status change is triggered (--trigger docker-stop: `APIClient.stop` of the
      app's container, 1 s grace, which the watcher announces; stop-app: the `stopApp`
      mutation, whose job announces STOPPING first) and, for each subscriber, the wall
      clock at which its first event arrived is noted (taken right after `recv`, before
      parsing). Latency is reported from the trigger, from the event's `at` (when the
      announcer encoded it) and from its XADD (the stream entry id's milliseconds), as
      p50 / p99 / max, with how many subscribers received it (and the same cursor);
    * the API process's Redis connections: its TCP sockets to the Redis port (from
      /proc/<pid>/fd and /proc/net/tcp*) matched against Redis `CLIENT LIST` (address and
      last command of each), before the subscribers, with them, and sampled every 50 ms
      from the first connection until every subscriber has the event (maximum);
    * memory: VmRSS of the API process (/proc/<pid>/status) after one warm-up
      subscription, and with all subscribers open; the difference divided by the
      number of subscribers (this includes the websocket connection, Strawberry's
      per-operation task and the hub queue: what a subscriber really costs).

    The client runs in this one process, so its own time to take 1,000 frames off the
    sockets is part of the figures. Targets: all receive it, p99 under 200 ms (issue 12;
    issue 4's was 500 ms), 3 Redis connections or fewer.

    It ends with one line: `fanout p99 X ms from the event's time for N subscribers` (N: those
    that received the event).

How to run
    .venv/bin/python -m bench.fanout [--subscribers 1000] [--per-connection 1]
        [--trigger docker-stop|stop-app] [--profile FILE]

--profile FILE: py-spy (`pip install py-spy` into the venv) samples the API process from
the trigger to the last receipt and writes collapsed stacks to FILE (FANOUT_PY_SPY_ARGS:
more py-spy options, e.g. --native).

It raises its soft RLIMIT_NOFILE to the hard limit (the API process inherits it).
Everything it creates (processes, the compose project bench<hex>-fan, its network, Redis
keys of its namespace, the data folders) is removed at the end, also on Ctrl-C or error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import docker
from redis import Redis
from websockets.asyncio.client import ClientConnection, connect

from bench import common
from tests.support.graphql import STATUS_SUBSCRIPTION, GraphQLClient
from tests.support.processes import Stack

TARGET_P99_MS = 200.0
TARGET_REDIS_CONNECTIONS = 3
OPEN_CONCURRENCY = 50
SAMPLE_SECONDS = 0.05
RECEIVE_TIMEOUT = 60.0
STOP_APP = """mutation($name: String!) { stopApp(name: $name) {
  __typename ... on JobAccepted { job { id } } ... on Error { message } } }"""
HEALTH = "{ health { subscribers } }"


@dataclass
class Receipt:
    received: float
    cursor: str
    status: str
    at: float


@dataclass
class Connection:
    ws: ClientConnection
    operation_ids: list[str]
    receipts: dict[str, Receipt] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def redis_ports_of(pid: int, redis_port: int) -> set[int]:
    """Local ports of the process's established TCP connections to the Redis port."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().as_posix()
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
            if inode in inodes and state == "01" and int(remote.rsplit(":", 1)[1], 16) == redis_port:
                ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


def redis_clients_of(redis: Redis, ports: set[int]) -> list[str]:
    """`CLIENT LIST` entries whose address is one of these local ports: addr and last cmd."""
    clients: Any = redis.client_list()
    return [
        f"{c['addr']} cmd={c.get('cmd')} age={c.get('age')}s"
        for c in clients
        if int(str(c["addr"]).rsplit(":", 1)[1]) in ports
    ]


def stamp(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


async def open_connection(url: str, token: str, name: str, operation_ids: list[str]) -> Connection:
    """Connect, authenticate, subscribe, and wait for a barrier operation to complete."""
    ws = await connect(url, subprotocols=["graphql-transport-ws"], open_timeout=60, ping_interval=None)  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
    ack = json.loads(await asyncio.wait_for(ws.recv(), 60))
    if ack.get("type") != "connection_ack":
        raise RuntimeError(f"no connection_ack: {ack}")
    for operation_id in operation_ids:
        payload = {"query": STATUS_SUBSCRIPTION, "variables": {"name": name}}
        await ws.send(json.dumps({"id": operation_id, "type": "subscribe", "payload": payload}))
    await ws.send(json.dumps({"id": "barrier", "type": "subscribe", "payload": {"query": "{ __typename }"}}))
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 60))
        if message.get("type") == "ping":
            await ws.send(json.dumps({"type": "pong"}))
        elif message.get("id") == "barrier" and message.get("type") == "complete":
            return Connection(ws, operation_ids)
        elif message.get("type") == "error" or (message.get("payload") or {}).get("errors"):
            raise RuntimeError(f"subscription refused: {message}")


async def first_events(connection: Connection) -> None:
    """Note the first event of each of the connection's subscriptions, as it arrives."""
    pending = set(connection.operation_ids)
    while pending:
        raw = await connection.ws.recv()
        received = time.time()
        message = json.loads(raw)
        kind, operation_id = message.get("type"), message.get("id")
        if kind == "ping":
            await connection.ws.send(json.dumps({"type": "pong"}))
        elif operation_id in pending and kind == "next" and not message["payload"].get("errors"):
            event = message["payload"]["data"]["appStatusChanged"]
            connection.receipts[operation_id] = Receipt(received, event["cursor"], event["status"], stamp(event["at"]))
            pending.discard(operation_id)
        elif operation_id in pending:
            connection.errors.append(str(message))
            pending.discard(operation_id)


async def open_all(url: str, token: str, name: str, subscribers: int, per_connection: int) -> list[Connection]:
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)
    count = math.ceil(subscribers / per_connection)

    async def one(index: int) -> Connection:
        first = index * per_connection
        ids = [f"s{n}" for n in range(first, min(first + per_connection, subscribers))]
        async with gate:
            return await open_connection(url, token, name, ids)

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def sample_redis(pid: int, redis_port: int, samples: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        samples.append(len(redis_ports_of(pid, redis_port)))
        await asyncio.sleep(SAMPLE_SECONDS)


def health_subscribers(api: GraphQLClient) -> int:
    count: int = api.execute(HEALTH)["health"]["subscribers"]
    return count


def start_profiler(pid: int, output: str) -> subprocess.Popen[bytes]:
    """py-spy sampling the API process (raw collapsed stacks) until `stop_profiler`."""
    spy = Path(sys.executable).with_name("py-spy")
    command = [
        str(spy),
        "record",
        "--pid",
        str(pid),
        "--rate",
        "1000",
        "--format",
        "raw",
        "--output",
        output,
        *os.environ.get("FANOUT_PY_SPY_ARGS", "").split(),  # e.g. --native: C frames such as the GC's
    ]
    profiler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # py-spy attaches
    return profiler


def stop_profiler(profiler: subprocess.Popen[bytes], output: str) -> None:
    profiler.send_signal(signal.SIGINT)
    profiler.wait(timeout=30)
    print(f"  py-spy profile of the API process from trigger to last receipt: {output}")


def print_latency(label: str, values: list[float]) -> None:
    ms = [v * 1000 for v in values]
    print(
        f"  {label:<24} p50 {common.percentile(ms, 50):8.1f}  "
        f"p99 {common.percentile(ms, 99):8.1f}  max {max(ms):8.1f} ms"
    )


async def measure(args: argparse.Namespace, stack: Stack, api: GraphQLClient, name: str, container: str) -> str:
    """Prints the figures; returns the summary line."""
    assert stack.api is not None
    pid = stack.api.pid
    redis = Redis.from_url(stack.settings.redis_url)
    redis_port = redis.connection_pool.connection_kwargs.get("port", 6379)
    docker_api = docker.APIClient()
    try:
        warm = await open_all(stack.ws, stack.settings.admin_token, name, 1, 1)
        await warm[0].ws.close()
        await asyncio.sleep(1)
        base_subscribers = health_subscribers(api)
        rss_before = rss_kib(pid)
        ports_before = redis_ports_of(pid, redis_port)
        print(f"API pid {pid}: VmRSS {rss_before / 1024:.1f} MiB, {base_subscribers} subscribers before")
        print(f"  Redis connections before: {len(ports_before)}: {redis_clients_of(redis, ports_before)}")

        samples: list[int] = []
        sampling = asyncio.Event()
        sampler = asyncio.create_task(sample_redis(pid, redis_port, samples, sampling))
        opened = time.monotonic()
        connections = await open_all(stack.ws, stack.settings.admin_token, name, args.subscribers, args.per_connection)
        opened = time.monotonic() - opened
        await asyncio.sleep(1)
        counted = await asyncio.to_thread(health_subscribers, api)
        rss_with = rss_kib(pid)
        ports_with = redis_ports_of(pid, redis_port)
        print(
            f"{args.subscribers} subscriptions on {len(connections)} connections opened in {opened:.1f} s; "
            f"the API counts {counted - base_subscribers} new subscribers"
        )
        print(f"  VmRSS with them: {rss_with / 1024:.1f} MiB")
        print(f"  Redis connections with them: {len(ports_with)}: {redis_clients_of(redis, ports_with)}")

        readers = [asyncio.create_task(first_events(c)) for c in connections]
        await asyncio.sleep(0.2)
        profiler = start_profiler(pid, args.profile) if args.profile else None
        api_cpu, client_cpu, load = cpu_seconds(pid), time.process_time(), os.getloadavg()[0]
        triggered = time.time()
        if args.trigger == "docker-stop":
            await asyncio.to_thread(docker_api.stop, container, timeout=1)
        else:
            result = (await asyncio.to_thread(api.execute, STOP_APP, name=name))["stopApp"]
            if result["__typename"] != "JobAccepted":
                raise RuntimeError(f"stopApp refused: {result}")
        _, late = await asyncio.wait(readers, timeout=RECEIVE_TIMEOUT)
        api_cpu, client_cpu = cpu_seconds(pid) - api_cpu, time.process_time() - client_cpu
        if profiler is not None:
            stop_profiler(profiler, args.profile)
        for task in late:
            task.cancel()
        sampling.set()
        await sampler
        ports_after = redis_ports_of(pid, redis_port)
        clients_after = redis_clients_of(redis, ports_after)

        receipts = [r for c in connections for r in c.receipts.values()]
        errors = [e for c in connections for e in c.errors]
        cursors = {r.cursor for r in receipts}
        print(f"\none status change ({args.trigger}) to {args.subscribers} subscribers on one API process")
        print(
            f"  received by {len(receipts)} of {args.subscribers} "
            f"({'all' if len(receipts) == args.subscribers else 'NOT all'}); "
            f"{len(errors)} errors; distinct cursors {sorted(cursors)}; statuses {sorted({r.status for r in receipts})}"
        )
        if errors:
            print(f"  first errors: {errors[:3]}")
        if receipts:
            first_at = min(r.at for r in receipts)
            added = min(int(r.cursor.split("-")[0]) / 1000 for r in receipts)
            print(
                f"  trigger -> event `at` {(first_at - triggered) * 1000:.1f} ms, `at` -> XADD "
                f"{(added - first_at) * 1000:.1f} ms (ms resolution)"
            )
            print_latency("from trigger", [r.received - triggered for r in receipts])
            print_latency("from the event's `at`", [r.received - r.at for r in receipts])
            print_latency("from XADD (cursor ms)", [r.received - int(r.cursor.split("-")[0]) / 1000 for r in receipts])
            spread = max(r.received for r in receipts) - min(r.received for r in receipts)
            print(f"  first to last receipt: {spread * 1000:.1f} ms")
            print(
                f"  CPU from trigger to last receipt: API process {api_cpu * 1000:.0f} ms "
                f"({api_cpu / len(receipts) * 1e6:.0f} us per subscriber), this client {client_cpu * 1000:.0f} ms; "
                f"host load average {load:.2f} on {os.cpu_count()} CPUs"
            )
            everyone = len(receipts) == args.subscribers
            for label, start in (("the event's `at`", None), ("the trigger", triggered)):
                p99 = common.percentile([r.received - (r.at if start is None else start) for r in receipts], 99) * 1000
                verdict = "met" if everyone and p99 < TARGET_P99_MS else "MISSED"
                print(f"  target all received, p99 from {label} < {TARGET_P99_MS:.0f} ms: {verdict} ({p99:.1f} ms)")
        most = max(samples, default=0)
        print(
            f"\nRedis connections of the API process: before {len(ports_before)}, with subscribers "
            f"{len(ports_with)}, max while opening and delivering {most} ({len(samples)} samples), "
            f"after {len(ports_after)} (target <= {TARGET_REDIS_CONNECTIONS}: "
            f"{'met' if most <= TARGET_REDIS_CONNECTIONS else 'MISSED'})"
        )
        print(f"  CLIENT LIST after: {clients_after}")
        per = (rss_with - rss_before) / args.subscribers
        print(
            f"memory: VmRSS {rss_before / 1024:.1f} MiB before, {rss_with / 1024:.1f} MiB with "
            f"{args.subscribers} subscribers: {per:.1f} KiB per subscriber "
            f"({len(connections)} connections, {args.per_connection} subscription(s) each)"
        )

        closing = asyncio.Semaphore(OPEN_CONCURRENCY)

        async def close(connection: Connection) -> None:
            async with closing:
                await connection.ws.close()

        await asyncio.gather(*(close(c) for c in connections))
        deadline = time.monotonic() + 20
        left = await asyncio.to_thread(health_subscribers, api)
        while left > base_subscribers and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            left = await asyncio.to_thread(health_subscribers, api)
        print(
            f"after closing: {left} subscribers on the API (before: {base_subscribers}), "
            f"VmRSS {rss_kib(pid) / 1024:.1f} MiB"
        )
        from_at = [r.received - r.at for r in receipts]
        p99 = common.percentile(from_at, 99) * 1000 if from_at else float("nan")
        return f"fanout p99 {p99:.1f} ms from the event's time for {len(receipts)} subscribers"
    finally:
        docker_api.close()
        redis.close()


def raise_file_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if wanted < needed:
        print(f"warning: RLIMIT_NOFILE {wanted} may be too low for {needed} sockets", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=1000, help="appStatusChanged subscriptions (1000)")
    parser.add_argument(
        "--per-connection",
        type=int,
        default=1,
        help="subscriptions per websocket (1; at most 99: the barrier operation takes one of the 100 slots)",
    )
    parser.add_argument(
        "--profile", metavar="FILE", help="py-spy (in the venv) records the API process while it delivers"
    )
    parser.add_argument("--trigger", choices=("docker-stop", "stop-app"), default="docker-stop")
    args = parser.parse_args()
    raise_file_limit(args.subscribers * 2 + 256)

    prefix = common.run_prefix()
    base = common.bench_settings(prefix)
    stack: Stack | None = None
    with common.interrupts_as_exceptions():
        try:
            sockets = str(math.ceil(args.subscribers / args.per_connection) + 10)
            stack = Stack.create(base, APPMANAGE_MAX_SOCKETS_PER_TOKEN=sockets).start(workers=1)
            api = stack.client()
            name = f"{prefix}-fan"
            container = common.install_hello(api, name)
            print(f"stack on {stack.ws}, app {name} RUNNING (container {container[:12]})", flush=True)
            summary = asyncio.run(measure(args, stack, api, name, container))
            print(summary)
        finally:
            removed = common.remove_everything(stack, base, prefix)
            print(f"cleaned up: processes stopped, projects removed {removed}, Redis keys deleted", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
