"""The `appmanage` client commands against a real API process: tables and JSON, jobs
followed to their end, exit statuses, and a command behind every field of the API."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from appmanage.client.commands import API_COMMANDS, add_client_parsers
from appmanage.config import Settings
from graphql import build_schema
from tests.support.graphql import ADMIN_TOKEN
from tests.support.ports import free_port
from tests.support.processes import Server
from tests.support.waiting import wait_for

SCHEMA = Path(__file__).resolve().parent.parent / "graphql" / "schema.graphql"


def cli(server: Server, *args: str, token: str = ADMIN_TOKEN, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPMANAGE_")}
    env |= {"APPMANAGE_URL": server.http, "APPMANAGE_TOKEN": token}
    return subprocess.run(
        [sys.executable, "-m", "appmanage", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    return result.stdout


def test_every_query_mutation_and_subscription_has_a_command() -> None:
    schema = build_schema(SCHEMA.read_text())
    fields = {
        f"{root.name}.{name}"
        for root in (schema.query_type, schema.mutation_type, schema.subscription_type)
        if root is not None
        for name in root.fields
    }
    assert sorted(fields - API_COMMANDS.keys()) == [], "API fields without a CLI command"
    assert sorted(API_COMMANDS.keys() - fields) == [], "CLI commands for fields the API no longer has"

    subcommands = argparse.ArgumentParser().add_subparsers()
    names = add_client_parsers(subcommands)
    for command in API_COMMANDS.values():
        name, *rest = command.split()
        assert name in names, command
        parser = subcommands.choices[name]
        if rest and rest[0].startswith("--"):
            assert rest[0] in parser._option_string_actions, command
        elif rest:
            actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
            assert rest[0] in actions[0].choices, command


def test_install_wait_then_apps_stop_and_logs(server: Server, app_name: Callable[[str], str]) -> None:
    name, port = app_name("cli"), free_port()
    installed = ok(cli(server, "install", "hello", "--name", name, "--set", f"HTTP_PORT={port}", "--wait"))
    assert f"install {name} SUCCEEDED" in installed

    def listed_running() -> str | None:
        table = ok(cli(server, "apps"))
        row = next((line for line in table.splitlines() if line.startswith(name + " ")), None)
        return row if row is not None and "RUNNING" in row else None

    header = ok(cli(server, "apps")).splitlines()[0]
    assert header.split()[:3] == ["NAME", "STATUS", "VERSION"]
    assert "2" in wait_for(listed_running, 30, "the app RUNNING in the table").split()
    apps = json.loads(ok(cli(server, "apps", "--json")))
    assert {"name": name, "status": "RUNNING"}.items() <= next(a for a in apps if a["name"] == name).items()

    page = json.loads(ok(cli(server, "apps", "--first", "500", "--status", "RUNNING", "--json")))
    assert name in [edge["node"]["name"] for edge in page["edges"]]
    assert page["totalCount"] == len(page["edges"])

    assert ok(cli(server, "whoami")).strip() == "ADMIN"

    one = json.loads(ok(cli(server, "app", name, "--json")))
    assert [p["hostPort"] for p in one["ports"]] == [port]

    jobs = json.loads(ok(cli(server, "jobs", "--app", name, "--json")))
    assert [(j["kind"], j["state"]) for j in jobs] == [("INSTALL", "SUCCEEDED")]
    assert "SUCCEEDED" in ok(cli(server, "job", jobs[0]["id"]))

    logs = wait_for(lambda: ok(cli(server, "logs", name, "--tail", "20")) or None, 20, "container log lines")
    assert logs.splitlines()[0].startswith("web | ")

    stopped = json.loads(ok(cli(server, "stop", name, "--wait", "--json")))
    assert (stopped["kind"], stopped["state"]) == ("STOP", "SUCCEEDED")
    wait_for(lambda: json.loads(ok(cli(server, "app", name, "--json")))["status"] == "EXITED", 30, "EXITED")

    accepted = json.loads(ok(cli(server, "uninstall", name, "--json", "--no-wait")))
    assert accepted["__typename"] == "JobAccepted" and accepted["job"]["kind"] == "UNINSTALL"
    ended = cli(server, "job", accepted["job"]["id"], "--follow")
    assert ended.returncode == 0, ended.stderr


def test_a_failing_job_exits_non_zero_with_its_error(server: Server, app_name: Callable[[str], str]) -> None:
    name = app_name("clifail")
    queued = ok(cli(server, "install", "hello", "--name", name, "--version", "3", "--set", f"HTTP_PORT={free_port()}"))
    assert queued.startswith("job ")  # no terminal: not followed unless --wait
    followed = cli(server, "job", queued.split()[1].rstrip(":"), "--follow")
    assert followed.returncode == 1, (followed.stdout, followed.stderr)
    assert "FAILED" in followed.stderr

    other = app_name("clifail2")
    failed = cli(
        server, "install", "hello", "--name", other, "--version", "3", "--set", f"HTTP_PORT={free_port()}", "--wait"
    )
    assert failed.returncode == 1, (failed.stdout, failed.stderr)
    assert f"install {other} FAILED" in failed.stdout
    assert "FAILED:" in failed.stderr  # the job's error, after its last log lines


def test_errors_are_the_apis_words_and_exit_statuses(server: Server, settings: Settings) -> None:
    missing = cli(server, "start", "no-such-app")
    assert missing.returncode == 1
    assert "no-such-app" in missing.stderr and missing.stdout == ""

    invalid = cli(server, "install", "hello", "--name", "Bad_Name")
    assert invalid.returncode == 1 and "name" in invalid.stderr.lower()

    refused = cli(server, "apps", token="not-a-token")
    assert refused.returncode == 3
    assert "token" in refused.stderr

    catalog = json.loads(ok(cli(server, "catalog", "hello", "--json")))
    assert "hello" in [c["name"] for c in catalog]
    assert json.loads(ok(cli(server, "health", "--json")))["database"] is True


@pytest.mark.parametrize("command", [["apps"], ["job", "x"], ["api-token", "list"]])
def test_an_unreachable_api_exits_3(command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "appmanage", *command, "--url", f"http://127.0.0.1:{free_port()}/graphql"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3, result.stderr
    assert "cannot reach" in result.stderr
