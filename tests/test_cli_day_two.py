"""The day-two `appmanage` commands against a real API, workers and watcher, on one `notes`
app: `stats` (a table per service and totals, `--watch` streaming), `host-stats`,
`stats-history`; `backup --wait`, `backups`, `restore` by a short id, in place and `--as` a
clone, `delete-backup`, `retention`; `schedule`, `schedules`, `unschedule`; and the API's
refusals printed with exit status 1."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from appmanage.client.stats import parse_since
from tests.support.graphql import ADMIN_TOKEN
from tests.support.ports import free_port
from tests.support.processes import Server
from tests.support.projects import remove_project
from tests.support.run import RUN_ID
from tests.support.waiting import wait_for

pytestmark = pytest.mark.docker

SHORT_ID = 12


def environment(server: Server) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPMANAGE_")}
    return env | {"APPMANAGE_URL": server.http, "APPMANAGE_TOKEN": ADMIN_TOKEN}


def cli(server: Server, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "appmanage", *args],
        env=environment(server),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    return result.stdout


def refused(result: subprocess.CompletedProcess[str], words: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert words in result.stderr and result.stdout == "", (result.stdout, result.stderr)


def streamed_lines(server: Server, *args: str, count: int, timeout: float = 30) -> list[str]:
    """The first `count` lines a following command prints; then it is stopped."""
    process = subprocess.Popen(
        [sys.executable, "-m", "appmanage", *args],
        env=environment(server),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + timeout
            while len(lines) < count and time.monotonic() < deadline:
                if selector.select(timeout=deadline - time.monotonic()):
                    line = process.stdout.readline()
                    if not line:
                        break
                    lines.append(line)
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=15)
    assert len(lines) == count, (lines, errors)
    return lines


@pytest.fixture(scope="module")
def notes(server: Server) -> Iterator[str]:
    name = f"{RUN_ID}-cli2-notes"[:31]
    try:
        installed = cli(server, "install", "notes", "--name", name, "--set", f"HTTP_PORT={free_port()}", "--wait")
        assert f"install {name} SUCCEEDED" in ok(installed)
        yield name
    finally:
        remove_project(name)
        remove_project(f"{RUN_ID}-cli2-clone"[:31])


def test_stats_table_watch_host_and_history(server: Server, notes: str) -> None:
    def both_sampled() -> list[str] | None:  # the sample before the install may still be the latest
        lines = ok(cli(server, "stats", notes)).splitlines()
        return lines if "2 containers running" in lines[0] else None

    table = wait_for(both_sampled, 30, "a sample of both containers")
    assert table[0].startswith(f"{notes} on local at ")
    assert table[1].split()[:3] == ["SERVICE", "CPU", "%"]
    assert sorted(row.split()[0] for row in table[2:]) == ["TOTAL", "web", "writer"]
    assert "MiB" in table[-1] and "/" in table[-1]

    samples = [
        json.loads(line)
        for line in streamed_lines(server, "stats", notes, "--watch", "--every", "1", "--json", count=2)
    ]
    assert [s["app"] for s in samples] == [notes, notes]
    assert sorted(service["name"] for service in samples[1]["services"]) == ["web", "writer"]
    assert samples[1]["memoryBytes"] > 0 and samples[1]["sampledAt"] > samples[0]["sampledAt"]

    host = ok(cli(server, "host-stats"))
    assert host.startswith("host ") and "load" in host and "used of" in host
    watched = json.loads(streamed_lines(server, "host-stats", "--watch", "--every", "1", "--json", count=1)[0])
    assert watched["host"] == "local" and watched["cpus"] >= 1

    history = ok(cli(server, "stats-history", notes, "--since", "1h")).splitlines()
    assert history[0].split()[:3] == ["MINUTE", "CPU", "%"]
    assert json.loads(ok(cli(server, "stats-history", notes, "--since", "2d", "--json"))) is not None
    refused(cli(server, "stats", "no-such-app"), "no app named")
    assert cli(server, "stats-history", notes, "--since", "soon").returncode == 1


def test_parse_since() -> None:
    now = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    assert parse_since("90m", now) == now - timedelta(minutes=90)
    assert parse_since("1w", now) == now - timedelta(days=7)
    assert parse_since("2026-01-01T00:00", now) == datetime(2026, 1, 1, tzinfo=UTC)


def test_backup_restore_in_place_and_as_a_clone_then_delete(server: Server, notes: str) -> None:
    backed = ok(cli(server, "backup", notes, "--wait"))
    assert f"backup {notes} SUCCEEDED" in backed
    rows = ok(cli(server, "backups", notes)).splitlines()
    assert rows[0].split() == ["ID", "APP", "CREATED", "SIZE", "VERSION", "HOST", "KIND"]
    assert len(rows) == 2 and rows[1].split()[1] == notes and rows[1].split()[-1] == "backup"
    short = rows[1].split()[0]
    assert len(short) == SHORT_ID

    restored = ok(cli(server, "restore", notes, short[:8], "--wait"))
    assert f"restore {notes} SUCCEEDED" in restored
    listed = json.loads(ok(cli(server, "backups", notes, "--json")))
    assert [b["safetyForJob"] is not None for b in listed].count(True) == 1

    clone = f"{RUN_ID}-cli2-clone"[:31]
    cloned = ok(cli(server, "restore", notes, short, "--as", clone, "--wait"))
    assert f"{clone} SUCCEEDED" in cloned
    assert json.loads(ok(cli(server, "app", clone, "--json", "--reveal")))["catalogApp"] == "notes"

    [full] = [b["id"] for b in listed if b["safetyForJob"] is None]
    deleted = ok(cli(server, "delete-backup", full, "--wait"))
    assert f"delete_backup {notes} SUCCEEDED" in deleted
    assert full not in [b["id"] for b in json.loads(ok(cli(server, "backups", "--json")))]

    refused(cli(server, "restore", notes, "0123456789abcdef"), "no backup has an id starting with")
    refused(cli(server, "backup", "no-such-app"), "no-such-app")
    assert cli(server, "restore", notes, "abc").returncode == 1


def test_retention_shown_and_set(server: Server, notes: str) -> None:
    assert "every backup is kept" in ok(cli(server, "retention", notes))
    ok(cli(server, "retention", notes, "--keep-last", "3", "--keep-daily", "7"))
    rule = json.loads(ok(cli(server, "retention", notes, "--json")))
    assert rule == {"app": notes, "keepLast": 3, "keepDaily": 7, "keepWeekly": 0}
    refused(cli(server, "retention", notes, "--keep-last", "-1"), "negative")


def test_schedule_list_and_unschedule(server: Server, notes: str) -> None:
    created = ok(cli(server, "schedule", notes, "restart", "30 3 * * *"))
    assert created.startswith("schedule ") and "restart" in created and "next run" in created
    schedule_id = created.split()[1].rstrip(":")
    table = ok(cli(server, "schedules", notes)).splitlines()
    assert table[0].split()[:4] == ["ID", "APP", "KIND", "CRON"]
    assert [row.split()[0] for row in table[1:]] == [schedule_id]
    assert "RESTART" in table[1] and "30 3 * * *" in table[1]

    refused(cli(server, "schedule", notes, "backup", "every day"), "cron")
    ok(cli(server, "unschedule", schedule_id))
    assert json.loads(ok(cli(server, "schedules", notes, "--json"))) == []
    refused(cli(server, "unschedule", schedule_id), schedule_id)
