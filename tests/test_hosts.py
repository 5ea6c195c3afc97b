"""The host registry: the pure status rule, and a real agent (`appmanage agent --host b`)
that registers its host, goes OFFLINE when it stops answering and ONLINE again when it
returns, announced once over hostStatusChanged; drain and undrain; a too old agent."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from starlette.testclient import TestClient

import appmanage
from appmanage.config import Settings
from appmanage.hosts.facts import HostFacts, HostState, host_status
from appmanage.hosts.registry import publish_facts
from tests.support.graphql import GraphQLClient
from tests.support.processes import APPMANAGE, Server, settings_env, start_server, stop_process, stop_server
from tests.support.projects import delete_keys
from tests.support.waiting import wait_for
from tests.support.wsclient import GraphQLWebSocket

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
HOST = """name status statusReason agentVersion engineVersion cpus memoryBytes diskFreeBytes
  labels { key value } agentLastSeen appCount draining"""
HOSTS = f"query {{ hosts {{ {HOST} }} }}"
HOST_ONE = f"query Host($name: String!) {{ host(name: $name) {{ {HOST} }} }}"
DRAIN = """mutation Drain($name: String!) { drainHost(name: $name) {
  __typename ... on Host { name draining } ... on Error { message } } }"""
UNDRAIN = """mutation Undrain($name: String!) { undrainHost(name: $name) {
  __typename ... on Host { name draining } ... on Error { message } } }"""
FOLLOW = "subscription Follow($name: String) { hostStatusChanged(name: $name) { host status previous statusReason } }"


def facts(**changes: Any) -> HostFacts:
    base = HostFacts(
        name="b",
        agent_version="0.3.0",
        engine_version="27.0.1",
        cpus=2,
        memory_bytes=4 << 30,
        disk_free_bytes=10 << 30,
        labels={},
        ports=frozenset(),
        docker_ok=True,
        last_seen=NOW - timedelta(seconds=2),
        draining=False,
    )
    return replace(base, **changes)


@pytest.mark.parametrize(
    ("reported", "api_version", "state", "reason"),
    [
        (facts(), "0.3.0", HostState.ONLINE, None),
        (facts(agent_version="0.2.7"), "0.3.0", HostState.ONLINE, None),
        (facts(agent_version="0.4.0"), "0.3.0", HostState.ONLINE, None),
        (facts(agent_version="0.1.9"), "0.3.0", HostState.OFFLINE, "agent version 0.1.9, need 0.2 or newer"),
        (facts(agent_version="0.9.0"), "1.0.0", HostState.OFFLINE, "agent version 0.9.0, need 1.0 or newer"),
        (facts(last_seen=NOW - timedelta(seconds=9)), "0.3.0", HostState.ONLINE, None),
        (
            facts(last_seen=NOW - timedelta(seconds=11)),
            "0.3.0",
            HostState.OFFLINE,
            "agent not seen since 2026-12-10T11:59:49+00:00",
        ),
        (facts(docker_ok=False), "0.3.0", HostState.OFFLINE, "Docker not answering on host b"),
        (None, "0.3.0", HostState.OFFLINE, "no agent has reported for this host"),
    ],
)
def test_host_status(reported: HostFacts | None, api_version: str, state: HostState, reason: str | None) -> None:
    status = host_status(reported, NOW, api_version)
    assert (status.state, status.reason) == (state, reason)


@dataclass
class Agent:
    settings: Settings
    process: subprocess.Popen[bytes]
    server: Server

    def signal(self, signum: int) -> None:
        os.killpg(self.process.pid, signum)


@pytest.fixture
def agent(settings: Settings, tmp_path: Path) -> Iterator[Agent]:
    own = replace(
        settings,
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'appmanage.db'}",
        namespace=f"{settings.namespace}-hosts-{os.getpid()}",
    )
    env = {**settings_env(own), "APPMANAGE_WORKERS": "1", "APPMANAGE_HOST_LABELS": "zone=eu, ssd=yes"}
    subprocess.run([*APPMANAGE, "migrate"], env=env, check=True, capture_output=True)
    log = tmp_path / "agent.out"
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [*APPMANAGE, "agent", "--host", "b"], env=env, stdout=sink, stderr=sink, start_new_session=True
        )
    server: Server | None = None
    try:
        server = start_server(own, tmp_path / "serve.out")
        yield Agent(own, process, server)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGCONT)
        stop_process(process, timeout=30)
        if server is not None:
            stop_server(server)
        delete_keys(own.redis_url, [own.namespace])


def online_host(api: GraphQLClient, name: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = api.execute(HOST_ONE, name=name)["host"]
    return found if found and found["status"] == "ONLINE" else None


@pytest.mark.docker
def test_an_agent_registers_its_host_goes_offline_when_silent_and_online_when_back(agent: Agent) -> None:
    api = GraphQLClient.over_http(agent.server.base)
    with GraphQLWebSocket(agent.server.ws) as ws:
        ws.subscribe("b", FOLLOW, name="b")
        ws.barrier()
        host = wait_for(lambda: online_host(api, "b"), 30, "host b ONLINE")
        assert host["agentVersion"] == appmanage.__version__
        assert host["engineVersion"] and host["cpus"] >= 1
        assert host["memoryBytes"] > 0 and host["diskFreeBytes"] > 0
        assert {(label["key"], label["value"]) for label in host["labels"]} == {("zone", "eu"), ("ssd", "yes")}
        assert host["appCount"] == 0 and host["draining"] is False
        assert [h["name"] for h in api.execute(HOSTS)["hosts"]] == ["b"]

        agent.signal(signal.SIGSTOP)
        started = datetime.now(UTC)
        offline = wait_for(
            lambda: (h := api.execute(HOST_ONE, name="b")["host"]) and h["status"] == "OFFLINE" and h, 20, "OFFLINE"
        )
        assert (datetime.now(UTC) - started).total_seconds() < 15
        assert offline["statusReason"].startswith("agent not seen since ")
        event = ws.next("b", 10)
        assert event is not None and event["hostStatusChanged"]["status"] == "OFFLINE"
        assert event["hostStatusChanged"]["previous"] == "ONLINE"
        assert event["hostStatusChanged"]["statusReason"].startswith("agent not seen since ")

        drained = api.execute(DRAIN, name="b")["drainHost"]
        assert drained == {"__typename": "Host", "name": "b", "draining": True}, "drain works while offline"

        agent.signal(signal.SIGCONT)
        back = wait_for(lambda: online_host(api, "b"), 20, "host b ONLINE again")
        assert back["draining"] is True
        event = ws.next("b", 10)
        assert event is not None and event["hostStatusChanged"]["status"] == "ONLINE"
        with pytest.raises(TimeoutError):
            ws.next("b", 6)  # announced once, though the agent and the API both check

    assert api.execute(UNDRAIN, name="b")["undrainHost"] == {"__typename": "Host", "name": "b", "draining": False}
    missing = api.execute(DRAIN, name="nowhere")["drainHost"]
    assert missing["__typename"] == "NotFoundError" and "appmanage agent --host nowhere" in missing["message"]


@pytest.mark.docker
def test_an_agent_too_old_is_offline_with_the_reason(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from appmanage.app import create_app

    own = replace(
        settings,
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'appmanage.db'}",
        namespace=f"{settings.namespace}-old-{os.getpid()}",
    )
    monkeypatch.setattr(appmanage, "__version__", "0.3.0")
    redis = Redis.from_url(own.redis_url)
    try:
        publish_facts(redis, own.namespace, facts(name="old", agent_version="0.1.4"))
        publish_facts(redis, own.namespace, facts(name="near", agent_version="0.2.0"))
        with TestClient(create_app(own)) as client:
            api = GraphQLClient(client)
            found = {h["name"]: h for h in api.execute(HOSTS)["hosts"]}
        assert found["old"]["status"] == "OFFLINE"
        assert found["old"]["statusReason"] == "agent version 0.1.4, need 0.2 or newer"
        assert found["near"]["status"] == "ONLINE"
    finally:
        redis.close()
        delete_keys(own.redis_url, [own.namespace])
