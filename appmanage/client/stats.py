"""The resource commands: `stats NAME [--watch [--every N]]` (a table per service, with the
app's totals), `stats-history NAME --since 1h` (per-minute averages) and `host-stats [HOST]
[--watch]` (the host's totals)."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from appmanage.client import output
from appmanage.client.output import field, size
from appmanage.client.session import OK, Session
from appmanage.client.transport import ApiError

FIGURES = """cpuPercent memoryBytes memoryLimitBytes networkRxBytes networkTxBytes
  blockReadBytes blockWriteBytes pids containers"""
APP_STATS = f"app host sampledAt {FIGURES} services {{ name {FIGURES} }}"
STATS = f"query Stats($name: String!) {{ app(name: $name) {{ name stats {{ {APP_STATS} }} }} }}"
WATCH = f"""subscription Stats($name: String!, $every: Int) {{
  appStats(name: $name, everySeconds: $every) {{ {APP_STATS} }} }}"""
HISTORY = """query History($name: String!, $since: DateTime!) {
  app(name: $name) { name statsHistory(since: $since) { minute cpuPercent memoryBytes } } }"""
HOST_STATS = """host sampledAt cpus load1 load5 load15 memoryTotalBytes memoryAvailableBytes
  diskTotalBytes diskFreeBytes cpuPercent memoryBytes containers"""
HOST = f"query HostStats($host: String!) {{ hostStats(host: $host) {{ {HOST_STATS} }} }}"
HOST_WATCH = f"""subscription HostStats($host: String!, $every: Int) {{
  hostStats(host: $host, everySeconds: $every) {{ {HOST_STATS} }} }}"""

API_COMMANDS = {
    "Query.hostStats": "host-stats",
    "Subscription.appStats": "stats --watch",
    "Subscription.hostStats": "host-stats --watch",
}
CLEAR = "\033[H\033[J"
DURATION = re.compile(r"^(\d+)([smhdw])$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

STATS_COLUMNS: list[output.Column] = [
    ("SERVICE", field("name")),
    ("CPU %", lambda row: f"{row['cpuPercent']:.1f}"),
    ("MEMORY / LIMIT", lambda row: f"{size(row['memoryBytes'])} / {size(row['memoryLimitBytes'])}"),
    ("MEM %", lambda row: _share(row["memoryBytes"], row["memoryLimitBytes"])),
    ("NET RX / TX", lambda row: f"{size(row['networkRxBytes'])} / {size(row['networkTxBytes'])}"),
    ("BLOCK R / W", lambda row: f"{size(row['blockReadBytes'])} / {size(row['blockWriteBytes'])}"),
    ("PIDS", field("pids")),
]


def add_parsers(command: Callable[..., argparse.ArgumentParser]) -> None:
    stats_command = command("stats", stats, "an app's CPU, memory, network and block I/O, per service")
    stats_command.add_argument("name")
    stats_command.add_argument("--watch", action="store_true", help="a new table every --every seconds, live")
    stats_command.add_argument("--every", type=int, default=5, help="with --watch: seconds between samples (5)")
    history = command("stats-history", stats_history, "an app's CPU and memory, averaged per minute (7 days kept)")
    history.add_argument("name")
    history.add_argument("--since", default="1h", help="how far back: 30m, 6h, 2d, 1w, or a UTC time (default 1h)")
    host = command("host-stats", host_stats, "a Docker host's CPUs, load, memory, disk, and its apps' totals")
    host.add_argument("host", nargs="?", default="local", help="the host (default local)")
    host.add_argument("--watch", action="store_true", help="then a new sample every --every seconds, live")
    host.add_argument("--every", type=int, default=5, help="with --watch: seconds between samples (5)")


def stats(session: Session, args: argparse.Namespace) -> int:
    if args.watch:
        for data in session.transport.subscribe(WATCH, name=args.name, every=args.every):
            _show(session, data["appStats"], _app_table, live=True)
        return OK
    found = session.transport.execute(STATS, name=args.name)["app"]
    if found is None:
        raise ApiError("NotFoundError", f"no app named {args.name!r}")
    if found["stats"] is None:
        raise ApiError("NotFoundError", f"no stats of {args.name} yet: its host's sampler has none")
    _show(session, found["stats"], _app_table)
    return OK


def _app_table(sample: Mapping[str, Any]) -> None:
    totals = {**sample, "name": "TOTAL"}
    print(f"{sample['app']} on {sample['host']} at {sample['sampledAt']}: {sample['containers']} containers running")
    output.table([*sample["services"], totals], STATS_COLUMNS)


def stats_history(session: Session, args: argparse.Namespace) -> int:
    since = parse_since(args.since)
    found = session.transport.execute(HISTORY, name=args.name, since=since.isoformat())["app"]
    if found is None:
        raise ApiError("NotFoundError", f"no app named {args.name!r}")
    points = found["statsHistory"]
    if session.json:
        output.as_json(points)
        return OK
    peak = max((point["cpuPercent"] for point in points), default=0.0)
    columns: list[output.Column] = [
        ("MINUTE", field("minute")),
        ("CPU %", lambda row: f"{row['cpuPercent']:.1f}"),
        ("MEMORY", lambda row: size(row["memoryBytes"])),
        ("", lambda row: bar(row["cpuPercent"], peak)),
    ]
    output.table(points, columns)
    return OK


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`30m`, `6h`, `2d`, `1w` ago, or an ISO time (UTC when it names no zone)."""
    now = now or datetime.now(UTC)
    match = DURATION.match(text.strip())
    if match:
        return now - timedelta(**{UNITS[match[2]]: int(match[1])})
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ApiError("UsageError", f"--since wants 30m, 6h, 2d, 1w or a time, not {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def host_stats(session: Session, args: argparse.Namespace) -> int:
    if args.watch:
        for data in session.transport.subscribe(HOST_WATCH, host=args.host, every=args.every):
            _show(session, data["hostStats"], _host_block, live=True)
        return OK
    found = session.transport.execute(HOST, host=args.host)["hostStats"]
    if found is None:
        raise ApiError("NotFoundError", f"no stats of host {args.host}: its sampler has none (is its agent running?)")
    _show(session, found, _host_block)
    return OK


def _host_block(sample: Mapping[str, Any]) -> None:
    memory, available = sample["memoryTotalBytes"], sample["memoryAvailableBytes"]
    disk, free = sample["diskTotalBytes"], sample["diskFreeBytes"]
    shown = {
        "host": sample["host"],
        "sampledAt": sample["sampledAt"],
        "cpus": sample["cpus"],
        "load": f"{sample['load1']:.2f} {sample['load5']:.2f} {sample['load15']:.2f}",
        "memory": f"{size(memory - available)} used of {size(memory)}, {size(available)} available",
        "disk": f"{size(disk - free)} used of {size(disk)}, {size(free)} free",
        "appsCpu": f"{sample['cpuPercent']:.1f} %",
        "appsMemory": size(sample["memoryBytes"]),
        "containers": sample["containers"],
    }
    output.block(shown, list(shown))


def _show(
    session: Session, sample: Mapping[str, Any], render: Callable[[Mapping[str, Any]], None], live: bool = False
) -> None:
    """A sample as JSON (one line each when `live`) or rendered for people, the screen
    cleared before each live one."""
    if session.json:
        output.as_json(sample, compact=live)
        return
    if live and sys.stdout.isatty():
        sys.stdout.write(CLEAR)
    render(sample)
    if live:
        print(flush=True)


def bar(value: float, peak: float, width: int = 20) -> str:
    return "#" * round(width * value / peak) if peak > 0 else ""


def _share(used: float, limit: float) -> str:
    return f"{100 * used / limit:.1f}" if limit > 0 else "-"
