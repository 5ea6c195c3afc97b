"""Subscriptions through a real websocket client against a real API process and Docker."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any

import docker
import pytest
from redis import Redis

from appmanage.config import Settings
from appmanage.event_stream import stream_name
from tests.support.graphql import GraphQLClient
from tests.support.ports import free_port
from tests.support.processes import Server, start_server, stop_server
from tests.support.waiting import wait_for
from tests.support.wsclient import GraphQLWebSocket

pytestmark = pytest.mark.docker

STATUS = """subscription($name: String) {
    appStatusChanged(name: $name) { cursor app status previous removed statusReason at }
}"""
JOB = """subscription($id: ID!) {
    jobUpdated(id: $id) { cursor line at job { id state step progress error } }
}"""
EVENTS = """subscription($after: String) {
    events(after: $after) {
        __typename
        ... on AppStatusEvent { cursor app status removed }
        ... on JobEvent { cursor line job { id app state } }
    }
}"""


def test_install_streams_status_and_job_log_in_order(
    server: Server, api: GraphQLClient, app_name: Callable[[str], str]
) -> None:
    name = app_name("live")
    with GraphQLWebSocket(server.ws) as ws:
        ws.subscribe("status", STATUS, name=name)
        ws.barrier()
        job_id = api.install("hello", name, HTTP_PORT=str(free_port()))["job"]["id"]
        ws.subscribe("job", JOB, id=job_id)

        first = ws.next("job")
        assert first is not None and first["jobUpdated"]["job"]["id"] == job_id
        updates = [first]
        while (update := ws.next("job")) is not None:
            updates.append(update)
        assert updates[-1]["jobUpdated"]["job"]["state"] == "SUCCEEDED"
        streamed = [u["jobUpdated"]["line"] for u in updates if u["jobUpdated"]["line"] is not None]
        logged = api.job(job_id)["log"]
        assert streamed == logged[len(logged) - len(streamed) :], "log lines arrive in order, none lost"
        if first["jobUpdated"]["job"]["state"] != "SUCCEEDED":  # lines before the subscription are in the log only
            assert any("Started" in line for line in streamed), streamed

        statuses = ws.next_until("status", lambda r: r["appStatusChanged"]["status"] == "RUNNING")
        seen = [r["appStatusChanged"]["status"] for r in statuses]
        assert seen[0] == "INSTALLING" and seen[-1] == "RUNNING", seen
        assert statuses[-1]["appStatusChanged"]["previous"] == seen[-2] if len(seen) > 1 else True


@pytest.mark.parametrize("command", [["stop", "-t", "1"], ["kill"]])
def test_docker_stop_outside_appmanage_reaches_subscribers(
    command: list[str], server: Server, api: GraphQLClient, app_name: Callable[[str], str]
) -> None:
    name = app_name("outside")
    api.wait_job(api.install("hello", name, HTTP_PORT=str(free_port()))["job"]["id"])
    api.wait_status(name, "RUNNING")
    with GraphQLWebSocket(server.ws) as ws:
        ws.subscribe("status", STATUS, name=name)
        ws.barrier()
        client = docker.from_env()
        (container,) = client.api.containers(filters={"label": f"com.docker.compose.project={name}"})
        subprocess.run(["docker", *command, container["Id"]], check=True, capture_output=True)
        client.close()
        event = ws.next_until("status", lambda r: r["appStatusChanged"]["status"] == "EXITED", timeout=5)[-1]
        assert event["appStatusChanged"]["previous"] == "RUNNING"
        assert "exited" in event["appStatusChanged"]["statusReason"]


def test_reconnect_with_last_cursor_gets_exactly_what_it_missed(
    server: Server, settings: Settings, api: GraphQLClient, app_name: Callable[[str], str]
) -> None:
    name = app_name("resume")
    with GraphQLWebSocket(server.ws) as ws:
        ws.subscribe("all", EVENTS, after=None)
        ws.barrier()
        job_id = api.install("hello", name, HTTP_PORT=str(free_port()))["job"]["id"]
        first = ws.next_until("all", lambda r: r["events"].get("job", {}).get("id") == job_id)[-1]
        last_cursor = first["events"]["cursor"]

    api.wait_job(job_id)
    api.wait_status(name, "RUNNING")
    redis = Redis.from_url(settings.redis_url)
    missed = [c.decode() for c, _ in redis.xrange(stream_name(settings.namespace), min="(" + last_cursor)]
    redis.close()
    assert missed, "the install went on while the client was away"

    with GraphQLWebSocket(server.ws) as ws:
        ws.subscribe("again", EVENTS, after=last_cursor)
        replayed = ws.next_until("again", lambda r: r["events"]["cursor"] == missed[-1], timeout=10)
        entries = [r["events"]["cursor"].partition(".")[0] for r in replayed]  # batched job lines: <entry>.<index>
        assert list(dict.fromkeys(entries)) == missed
        api.act("stopApp", name=name)
        live = ws.next("again", 20)
        assert live is not None and live["events"]["cursor"] > missed[-1]


def test_expired_cursor_is_refused(server: Server) -> None:
    with GraphQLWebSocket(server.ws) as ws:
        ws.subscribe("old", EVENTS, after="1-0")
        message = ws.receive(10)
        while message.get("id") != "old":
            message = ws.receive(10)
        errors: list[dict[str, Any]] = (
            message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        )
        assert "no longer kept" in errors[0]["message"]


def test_two_api_processes_both_deliver_a_jobs_events(
    server: Server, settings: Settings, api: GraphQLClient, app_name: Callable[[str], str]
) -> None:
    second = start_server(settings)
    try:
        name = app_name("twoapi")
        with GraphQLWebSocket(server.ws) as one, GraphQLWebSocket(second.ws) as two:
            for ws in (one, two):
                ws.subscribe("status", STATUS, name=name)
                ws.barrier()
            api.install("hello", name, HTTP_PORT=str(free_port()))
            cursors = []
            for ws in (one, two):
                events = ws.next_until("status", lambda r: r["appStatusChanged"]["status"] == "RUNNING")
                cursors.append([e["appStatusChanged"]["cursor"] for e in events])
            assert cursors[0] == cursors[1]
    finally:
        stop_server(second)


def test_unknown_job_subscription_is_an_error(server: Server) -> None:
    with GraphQLWebSocket(server.ws) as ws:
        ws.subscribe("nojob", JOB, id="0" * 32)
        message = ws.message_for("nojob", 10)
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert "no job" in errors[0]["message"]


LOGS = """subscription($name: String!, $tail: Int) {
    appLogs(name: $name, tail: $tail) { service timestamp line }
}"""


def test_app_logs_follow_across_a_restart(server: Server, api: GraphQLClient, app_name: Callable[[str], str]) -> None:
    name = app_name("follow")
    api.wait_job(api.install("hello", name, HTTP_PORT=str(free_port()), GREETING="bonjour")["job"]["id"])
    api.wait_status(name, "RUNNING")
    with GraphQLWebSocket(server.ws) as ws:
        ws.subscribe("logs", LOGS, name=name, tail=1)
        first = ws.next("logs", 10)
        assert first is not None and "bonjour from version" in first["appLogs"]["line"]
        api.wait_job(api.act("restartApp", name=name)["job"]["id"])
        again = ws.next_until("logs", lambda r: "bonjour from version" in r["appLogs"]["line"], timeout=20)[-1]
        assert again["appLogs"]["timestamp"] > first["appLogs"]["timestamp"]


def test_subscriptions_per_connection_are_capped_and_freed(server: Server, api: GraphQLClient) -> None:
    def subscribers() -> int:
        with GraphQLWebSocket(server.ws) as probe:
            probe.subscribe("h", "{ health { subscribers } }")
            result = probe.next("h", 10)
            assert result is not None
            count: int = result["health"]["subscribers"]
            return count

    before = subscribers()
    with GraphQLWebSocket(server.ws) as ws:
        for index in range(100):
            ws.subscribe(f"s{index}", STATUS, name=None)
        ws.subscribe("one-too-many", STATUS, name=None)
        message = ws.message_for("one-too-many", 10)
        assert message["type"] == "error"
        assert "limit" in message["payload"][0]["message"]
        assert subscribers() == before + 100
    wait_for(lambda: subscribers() == before, 10, "the closed connection's subscriptions to be freed")
