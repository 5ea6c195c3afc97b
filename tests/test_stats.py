"""Resource stats against the real Docker, Redis and processes: the watcher's sampler, the
API's `appStats` subscription over a websocket, `App.stats` and `App.statsHistory`."""

from __future__ import annotations

import contextlib
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis import Redis

from appmanage.config import Settings
from appmanage.enums import Role
from appmanage.runtime.cgroups import CGROUP_ROOT, locate, read_counters
from appmanage.runtime.container_stats import ContainerStatsReader
from appmanage.stats.demand import LAST_TTL_SECONDS, channel, last_key, wanted_key
from appmanage.stats.sampler import StatsSampler
from appmanage.stats.samples import HostSample
from appmanage.storage.database import Database
from tests.support.graphql import GraphQLClient
from tests.support.ports import free_port
from tests.support.processes import Server
from tests.support.projects import remove_project
from tests.support.run import RUN_ID
from tests.support.tokens import create_token
from tests.support.waiting import wait_for
from tests.support.wsclient import GraphQLWebSocket

pytestmark = pytest.mark.docker

APP_STATS = """subscription($name: String!, $every: Int) {
    appStats(name: $name, everySeconds: $every) {
        app host sampledAt cpuPercent memoryBytes memoryLimitBytes networkRxBytes pids containers
        services { name cpuPercent memoryBytes memoryLimitBytes pids containers }
    }
}"""
STATS_QUERY = """query($name: String!, $since: DateTime!) {
    app(name: $name) {
        stats { app sampledAt cpuPercent memoryBytes memoryLimitBytes services { name memoryBytes } }
        statsHistory(since: $since) { minute cpuPercent memoryBytes }
    }
    hostStats { host cpus load1 memoryTotalBytes memoryAvailableBytes diskTotalBytes diskFreeBytes containers }
}"""


@pytest.fixture(scope="module")
def running_app(api: GraphQLClient) -> Iterator[str]:
    """A `hello` app (one service, `web`), installed once for the module."""
    name = f"{RUN_ID}-stats-{secrets.token_hex(2)}"[:31].rstrip("-")
    try:
        api.wait_job(api.install("hello", name, HTTP_PORT=str(free_port()))["job"]["id"])
        api.wait_status(name, "RUNNING")
        yield name
    finally:
        remove_project(name)


def container_of(name: str) -> str:
    ids = subprocess.run(
        ["docker", "ps", "-q", "--filter", f"label=com.docker.compose.project={name}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert len(ids) == 1, ids
    return ids[0]


def stats_of(ws: GraphQLWebSocket, operation: str) -> dict[str, Any]:
    result = ws.next(operation, timeout=10)
    assert result is not None
    stats: dict[str, Any] = result["appStats"]
    return stats


def test_app_stats_stream_cpu_that_moves_when_the_container_burns(server: Server, running_app: str) -> None:
    container = container_of(running_app)
    with GraphQLWebSocket(server.ws) as ws:
        ws.subscribe("stats", APP_STATS, name=running_app, every=1)
        first = stats_of(ws, "stats")
        assert first["app"] == running_app and first["host"] == "local"
        assert first["memoryBytes"] > 0 and first["memoryLimitBytes"] >= first["memoryBytes"]
        assert first["pids"] >= 1 and first["containers"] == 1
        assert [s["name"] for s in first["services"]] == ["web"]

        burner = subprocess.Popen(["docker", "exec", container, "timeout", "4", "sh", "-c", "while :; do :; done"])
        try:
            busy = [stats_of(ws, "stats")["cpuPercent"] for _ in range(4)]
        finally:
            burner.wait(timeout=15)
        assert max(busy) > 20, busy
        calm = [stats_of(ws, "stats")["cpuPercent"] for _ in range(4)]
        assert min(calm) < 10, calm


def test_two_subscribers_share_one_sampler_which_rests_when_nobody_listens(
    server: Server, settings: Settings, running_app: str
) -> None:
    redis = Redis.from_url(settings.redis_url)
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel(settings.namespace, "local"))

    def publications(seconds: float) -> int:
        count, deadline = 0, time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if pubsub.get_message(timeout=left) is not None:
                count += 1
        return count

    try:
        with GraphQLWebSocket(server.ws) as one, GraphQLWebSocket(server.ws) as two:
            one.subscribe("a", APP_STATS, name=running_app, every=1)
            two.subscribe("b", APP_STATS, name=running_app, every=1)
            stats_of(one, "a"), stats_of(two, "b")
            published = publications(4.0)
            assert 3 <= published <= 6, f"one publication a second for both subscribers, not {published} in 4 s"
            assert stats_of(one, "a")["services"] and stats_of(two, "b")["services"]
        wait_for(lambda: redis.zcard(wanted_key(settings.namespace, "local")) == 0, 5, "the demand to be withdrawn")
        publications(1.0)  # one may be under way
        assert publications(4.0) == 0, "the sampler publishes nothing while nobody listens"
    finally:
        pubsub.close()
        redis.close()


def test_app_stats_query_host_stats_and_the_history_of_averages(
    api: GraphQLClient, settings: Settings, running_app: str
) -> None:
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()

    def sampled() -> dict[str, Any] | None:  # a sample from before the container started has no figures yet
        data: dict[str, Any] = api.execute(STATS_QUERY, name=running_app, since=since)
        stats = data["app"]["stats"]
        return data if stats is not None and stats["memoryBytes"] > 0 else None

    data = wait_for(sampled, 20, "App.stats to show the running container")
    stats = data["app"]["stats"]
    assert stats["app"] == running_app and stats["memoryLimitBytes"] >= stats["memoryBytes"]
    assert [s["name"] for s in stats["services"]] == ["web"]
    host = data["hostStats"]
    assert host["host"] == "local" and host["cpus"] >= 1 and host["containers"] >= 1
    assert 0 < host["memoryAvailableBytes"] <= host["memoryTotalBytes"]
    assert 0 < host["diskFreeBytes"] <= host["diskTotalBytes"]
    started = time.monotonic()
    answer = api.post('{ hostStats(host: "no-such-host") { host } }').json()
    assert answer["data"]["hostStats"] is None and answer["errors"][0]["extensions"]["code"] == "NOT_FOUND", answer
    assert time.monotonic() - started < 1, "a host no agent registered is not waited for"

    # A sampler of its own with a 2-second period (the watcher's keeps one minute): the
    # period it ends is written as soon as a sample of the next one comes.
    redis, db = Redis.from_url(settings.redis_url), Database(settings.database_url)
    sampler = StatsSampler(replace(settings, stats_history_seconds=2), redis, db, "local")
    try:
        for _ in range(4):
            sampler.sample(live=False)
            time.sleep(0.8)
    finally:
        redis.close()
        db.dispose()
    history = api.execute(STATS_QUERY, name=running_app, since=since)["app"]["statsHistory"]
    assert history, "a period's averages were written"
    assert all(point["memoryBytes"] > 0 for point in history), history
    assert history == sorted(history, key=lambda p: p["minute"])


def test_app_stats_refuses_bad_intervals_and_unknown_apps(server: Server, running_app: str) -> None:
    with GraphQLWebSocket(server.ws) as ws:
        for operation, name, every, code in (
            ("zero", running_app, 0, "BAD_USER_INPUT"),
            ("too-long", running_app, 3601, "BAD_USER_INPUT"),
            ("unknown", f"{RUN_ID}-nosuchapp", 5, "NOT_FOUND"),
        ):
            ws.subscribe(operation, APP_STATS, name=name, every=every)
            message = ws.message_for(operation, 10)
            assert message["type"] == "next", message
            assert message["payload"]["errors"][0]["extensions"]["code"] == code, message
        ws.subscribe("no-host", 'subscription { hostStats(host: "no-such-host", everySeconds: 1) { host } }')
        message = ws.message_for("no-host", 5)
        assert message["type"] == "next", message
        assert message["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND", message


def test_a_viewer_may_read_stats(server: Server, api: GraphQLClient, running_app: str) -> None:
    token = create_token(api, Role.VIEWER)["secret"]
    with GraphQLWebSocket(server.ws, token=token) as ws:
        ws.subscribe("stats", APP_STATS, name=running_app, every=1)
        assert stats_of(ws, "stats")["app"] == running_app


APP_STATS_NOW = "query($name: String!) { app(name: $name) { stats { containers services { name containers } } } }"


def test_app_stats_shows_the_services_right_after_an_install_reaches_running(
    api: GraphQLClient, settings: Settings
) -> None:
    """App.stats, finding the app's running container missing from the host's latest sample
    (taken as the container started), asks the sampler for a fresh one."""
    name = f"{RUN_ID}-statsnew-{secrets.token_hex(2)}"[:31].rstrip("-")
    redis = Redis.from_url(settings.redis_url)
    try:
        api.wait_job(api.install("hello", name, HTTP_PORT=str(free_port()))["job"]["id"])
        api.wait_status(name, "RUNNING")
        key = last_key(settings.namespace, "local")
        for attempt in range(3):  # a sampler slow to answer once (a loaded machine) is not asked for 10 s
            latest = wait_for(lambda: redis.get(key), 10, "a sample of the host")
            sample = HostSample.from_json(latest)
            without = replace(
                sample, sampled_at=datetime.now(UTC), apps={a: u for a, u in sample.apps.items() if a != name}
            )
            redis.set(key, without.to_json(), ex=LAST_TTL_SECONDS)
            started = time.monotonic()
            stats = api.execute(APP_STATS_NOW, name=name)["app"]["stats"]
            took = time.monotonic() - started
            if stats["containers"] == 1 or attempt == 2:
                break
            time.sleep(6)  # past the feed's once-per-app-every-5-s ask and its 10 s pause after a miss
        assert stats["containers"] == 1, stats
        assert stats["services"] == [{"name": "web", "containers": 1}], stats
        assert took < 2.5, f"App.stats took {took:.1f} s"
    finally:
        redis.close()
        remove_project(name)


def test_a_container_event_makes_the_sampler_list_again(settings: Settings, running_app: str) -> None:
    redis, db = Redis.from_url(settings.redis_url), Database(settings.database_url)
    sampler = StatsSampler(settings, redis, db, "local")
    try:
        sampler.notice({"Action": "exec_start: sh", "id": "x"})
        sampler.notice({"Action": "health_status: healthy", "id": "x"})
        assert not sampler._changed.is_set(), "nothing started or stopped"
        sampler.sample(live=False)
        sampler.sample(live=False)  # the cgroup folders beside the known containers are read from now on
        listed = sampler._reader.listings
        sampler.notice({"Action": "start", "id": "x"})
        sample = sampler.sample(live=False)
        assert sampler._reader.listings == listed + 1, "a container started: listed again"
        assert sample.apps[running_app].total.containers == 1
    finally:
        sampler._reader.close()
        redis.close()
        db.dispose()


def test_a_container_under_a_cgroup_parent_of_its_own_is_read_from_its_files() -> None:
    """As a dockerd started with `--cgroup-parent` places its containers (a second host's
    private engine may): the folders named by its main process's /proc/<pid>/cgroup."""
    parent = f"/am-{RUN_ID}-{secrets.token_hex(2)}"
    project = f"{RUN_ID}-cgparent-{secrets.token_hex(2)}"
    started = subprocess.run(
        ["docker", "run", "-d", "--cgroup-parent", parent, "--label", f"com.docker.compose.project={project}",
         "--label", "com.docker.compose.service=sleeper", "appmanage-local/busybox:1", "sleep", "60"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    container = started.stdout.strip()
    reader = ContainerStatsReader()
    try:
        pid = int(subprocess.run(["docker", "inspect", "-f", "{{.State.Pid}}", container], capture_output=True,
                                 text=True, check=True).stdout)  # fmt: skip
        paths = locate(container, pid)
        assert paths is not None and parent in paths.cpu and parent in paths.memory_usage, paths
        counters = read_counters(paths)
        assert counters is not None and counters.pids >= 1 and counters.memory_usage > 0, counters
        reading = next(r for r in reader.read().readings if r.id == container)
        assert (reading.project, reading.service) == (project, "sleeper")
    finally:
        reader.close()
        subprocess.run(["docker", "rm", "-f", container], capture_output=True)
        for folder in CGROUP_ROOT.glob(f"*{parent}"):  # the parent Docker made, empty now
            with contextlib.suppress(OSError):
                folder.rmdir()
