"""The stats' pure logic: docker stats' formulas, the cgroup files' parsing, a sample's sums,
the history's time-weighted averages and the demand's shortest interval."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appmanage.runtime.cgroups import (
    UNLIMITED,
    CounterFiles,
    Counters,
    blkio_bytes,
    io_stat_bytes,
    locate,
    network_bytes,
    read_counters,
)
from appmanage.runtime.container_stats import ContainerReading, Pass, counters_from_docker
from appmanage.stats.demand import member, shortest
from appmanage.stats.feed import StatsSubscriber
from appmanage.stats.formulas import cpu_percent, memory_limit, memory_used
from appmanage.stats.history import PeriodAverages
from appmanage.stats.machine import MachineStats
from appmanage.stats.samples import AppUsage, HostSample, Usage, build_sample

GIB = 1 << 30
MACHINE = MachineStats(2, 0.5, 0.4, 0.3, 8 * GIB, 6 * GIB, 100 * GIB, 40 * GIB)
T0 = datetime(2026, 11, 29, 20, 0, 0, tzinfo=UTC)


def counters(cpu_ns: int, usage: int = 100 << 20, inactive: int = 30 << 20, limit: int = 1 << 62) -> Counters:
    return Counters(cpu_ns, usage, inactive, limit, pids=3, block_read=10, block_write=20, net_rx=5, net_tx=7)


def test_cpu_percent_is_cpu_time_over_wall_time_like_docker_stats() -> None:
    assert cpu_percent(0, 500_000_000, 1.0) == pytest.approx(50.0)
    assert cpu_percent(1_000_000_000, 5_000_000_000, 2.0) == pytest.approx(200.0)  # two cores busy
    assert cpu_percent(5_000_000_000, 1_000, 1.0) == 0.0  # restarted: the counter went back
    assert cpu_percent(0, 1_000, 0.0) == 0.0


def test_memory_used_leaves_out_the_inactive_page_cache() -> None:
    assert memory_used(100 << 20, 30 << 20) == 70 << 20
    assert memory_used(10, 50) == 10  # an inactive figure larger than usage is not trusted
    assert memory_limit(1 << 62, 8 * GIB) == 8 * GIB  # no limit: the host's memory
    assert memory_limit(512 << 20, 8 * GIB) == 512 << 20


def test_cgroup_and_proc_files_are_parsed() -> None:
    net_dev = (
        "Inter-|   Receive                            |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes packets\n"
        "    lo:    1000      10    0    0    0     0          0         0     1000      10 0 0 0 0 0 0\n"
        "  eth0:     200       2    0    0    0     0          0         0      300       3 0 0 0 0 0 0\n"
        "  eth1:      50       1    0    0    0     0          0         0       60       1 0 0 0 0 0 0\n"
    )
    assert network_bytes(net_dev) == (250, 360)
    assert blkio_bytes("8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 1\n8:16 Read 4\nTotal 12292\n") == (4100, 8192)
    assert io_stat_bytes("8:0 rbytes=100 wbytes=200 rios=1 wios=2\n8:16 rbytes=1 wbytes=2\n") == (101, 202)


def test_docker_one_shot_stats_become_the_same_counters() -> None:
    answer = {
        "cpu_stats": {"cpu_usage": {"total_usage": 123}},
        "memory_stats": {"usage": 1000, "limit": 4000, "stats": {"inactive_file": 300}},
        "pids_stats": {"current": 2},
        "blkio_stats": {"io_service_bytes_recursive": [{"op": "read", "value": 5}, {"op": "write", "value": 6}]},
        "networks": {"eth0": {"rx_bytes": 7, "tx_bytes": 8}, "eth1": {"rx_bytes": 1, "tx_bytes": 1}},
    }
    assert counters_from_docker(answer) == Counters(123, 1000, 300, 4000, 2, 5, 6, 8, 9)
    assert counters_from_docker({"cpu_stats": {}}) is None  # stopped between the listing and the call


def test_a_sample_sums_containers_per_service_and_per_app() -> None:
    before = Pass(
        [ContainerReading("a", "shop", "web", counters(0)), ContainerReading("b", "shop", "web", counters(0))], 10.0, 0
    )
    now = Pass(
        [
            ContainerReading("a", "shop", "web", counters(1_000_000_000)),
            ContainerReading("b", "shop", "web", counters(500_000_000)),
            ContainerReading("c", "shop", "db", counters(2_000_000_000, limit=1 * GIB)),
        ],
        12.0,
        0,
    )
    sample = build_sample("local", T0, MACHINE, now, before)
    shop = sample.apps["shop"]
    assert list(shop.services) == ["db", "web"]
    web = shop.services["web"]
    assert web.cpu_percent == pytest.approx(75.0) and web.containers == 2
    assert web.memory_bytes == 2 * (70 << 20)
    assert web.memory_limit_bytes == 8 * GIB  # two unlimited containers: no more than the host has
    assert shop.services["db"].cpu_percent == 0.0  # a first reading has no rate yet
    assert shop.total.memory_limit_bytes == 8 * GIB
    assert shop.total.containers == 3 and shop.total.pids == 9 and shop.total.network_rx_bytes == 15
    assert HostSample.from_json(sample.to_json()) == sample


def test_history_averages_are_weighted_by_time_and_handed_over_per_period() -> None:
    averages = PeriodAverages(60)

    def sample(at: datetime, cpu: float, memory: int) -> HostSample:
        return HostSample("local", at, MACHINE, {"shop": AppUsage(Usage(cpu_percent=cpu, memory_bytes=memory))})

    assert averages.add(sample(T0 + timedelta(seconds=15), 100.0, 100), 15) is None
    assert averages.add(sample(T0 + timedelta(seconds=20), 10.0, 400), 5) is None
    period = averages.add(sample(T0 + timedelta(seconds=61), 0.0, 0), 41)
    assert period is not None and period.start == T0
    (average,) = period.averages
    assert average.app == "shop"
    assert average.cpu_percent == pytest.approx((100 * 15 + 10 * 5) / 20)
    assert average.memory_bytes == pytest.approx((100 * 15 + 400 * 5) / 20)


def test_the_sampler_follows_the_shortest_interval_asked() -> None:
    assert shortest([]) is None
    assert shortest([member(5, "api-1").encode(), member(1, "api-2"), b"junk"]) == 1.0


def write_files(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)


def test_counters_are_read_from_a_cgroup_v1_layout(tmp_path: Path) -> None:
    container = "c" * 64
    write_files(tmp_path / "cpuacct" / "docker" / container, {"cpuacct.usage": "1500\n"})
    write_files(
        tmp_path / "memory" / "docker" / container,
        {
            "memory.usage_in_bytes": "1000\n",
            "memory.limit_in_bytes": "9223372036854771712\n",
            "memory.stat": "cache 5\ninactive_file 1\ntotal_cache 5\ntotal_inactive_file 300\n",
        },
    )
    write_files(tmp_path / "pids" / "docker" / container, {"pids.current": "4\n"})
    write_files(
        tmp_path / "blkio" / "docker" / container,
        {"blkio.throttle.io_service_bytes_recursive": "8:0 Read 10\n8:0 Write 20\nTotal 30\n"},
    )
    paths = locate(container, os.getpid(), tmp_path)
    assert paths is not None and paths.version == 1
    files = CounterFiles(paths)
    try:
        first = files.read()
        assert first is not None
        assert (first.cpu_ns, first.memory_usage, first.memory_inactive_file, first.pids) == (1500, 1000, 300, 4)
        assert (first.block_read, first.block_write) == (10, 20) and first.memory_limit > 1 << 62
        (tmp_path / "cpuacct" / "docker" / container / "cpuacct.usage").write_text("2500\n")
        second = files.read()
        assert second is not None and second.cpu_ns == 2500, "a file kept open is read anew"
    finally:
        files.close()
    assert locate("d" * 64, os.getpid(), tmp_path) is None


def test_counters_are_read_from_a_cgroup_v2_layout(tmp_path: Path) -> None:
    container = "e" * 64
    (tmp_path / "cgroup.controllers").write_text("cpu io memory pids\n")
    write_files(
        tmp_path / "system.slice" / f"docker-{container}.scope",
        {
            "cpu.stat": "usage_usec 7\nuser_usec 5\n",
            "memory.current": "2000\n",
            "memory.max": "max\n",
            "memory.stat": "anon 10\nactive_file 3\ninactive_file 500\n",
            "pids.current": "2\n",
            "io.stat": "8:0 rbytes=1 wbytes=2 rios=3 wios=4\n",
        },
    )
    paths = locate(container, os.getpid(), tmp_path)
    assert paths is not None and paths.version == 2
    counters = read_counters(paths)
    assert counters == Counters(7000, 2000, 500, UNLIMITED, 2, 1, 2, counters.net_rx, counters.net_tx)


def test_a_subscriber_takes_the_samples_its_interval_apart_and_only_the_newest_when_slow() -> None:
    every_five = StatsSubscriber(5)
    for second in range(12):  # the sampler runs every second for a faster subscriber
        every_five.offer(
            HostSample("local", T0 + timedelta(seconds=second, milliseconds=20 * (second % 2)), MACHINE, {})
        )
    taken = []
    while not every_five.queue.empty():
        taken.append(every_five.queue.get_nowait().sampled_at.second)
    assert taken == [0, 5, 10]
    slow = StatsSubscriber(1)
    for second in range(20):
        slow.offer(HostSample("local", T0 + timedelta(seconds=second), MACHINE, {}))
    assert slow.queue.qsize() == 8 and slow.queue.get_nowait().sampled_at.second == 12
