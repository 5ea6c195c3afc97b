"""Placement: which host an install goes to, and why the others cannot take it.

The table is pure (`apps/placement.py`); the end-to-end tests below run a second Docker
engine (a private dockerd) with an agent for host b beside the suite's workers for local.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from appmanage.apps.placement import HostOffer, check_host, choose_host, named_host, refusal
from appmanage.catalog.model import Requirements
from appmanage.config import Settings
from appmanage.errors import Conflict, NotFound, Unavailable, ValidationFailed
from appmanage.host_availability import availability, offline_reason
from appmanage.hosts.facts import ONLINE, HostState, HostStatus
from appmanage.jobs.queue import queue_name
from tests.support.faults import PrivateDocker
from tests.support.hosts import APPS_ON, Agent, containers_of, host_facts, host_online, install_on
from tests.support.ports import free_port
from tests.support.processes import Stack
from tests.support.waiting import elapsed_until, wait_for

SILENT = HostStatus(HostState.OFFLINE, "agent not seen since 2026-12-10T10:00:00+00:00")
NONE = Requirements()
BIG = Requirements(cpu=4, memory=8, disk=20)


def offer(
    name: str,
    *,
    status: HostStatus = ONLINE,
    draining: bool = False,
    cpu: float = 8,
    memory: float = 16,
    disk: float = 100,
    busy: frozenset[int] = frozenset(),
    given: dict[int, str] | None = None,
    apps: int = 0,
) -> HostOffer:
    return HostOffer(name, status, draining, cpu, memory, disk, busy, given or {}, apps)


CHOICES = [
    # (id, offers, requirements, ports, chosen host)
    ("the only fitting host", [offer("a"), offer("b", status=SILENT)], NONE, [8181], "a"),
    ("fewest apps first", [offer("a", apps=3), offer("b", apps=1)], NONE, [], "b"),
    ("then most memory", [offer("a", memory=8, apps=1), offer("b", memory=32, apps=1)], NONE, [], "b"),
    ("then by name", [offer("b"), offer("a")], NONE, [], "a"),
    ("draining takes nothing", [offer("a", draining=True), offer("b", apps=9)], NONE, [], "b"),
    (
        "a port in use elsewhere is no matter",
        [offer("a", busy=frozenset({8181})), offer("b", apps=5)],
        NONE,
        [8181],
        "b",
    ),
    ("a port given to an app elsewhere", [offer("a", given={8181: "x"}), offer("b", apps=5)], NONE, [8181], "b"),
    ("resources", [offer("a", cpu=2), offer("b", cpu=4, memory=8, disk=20, apps=5)], BIG, [], "b"),
    ("memory counts in whole GB rounded up", [offer("a", memory=7.6), offer("b", apps=5, memory=4)], BIG, [], "a"),
]


@pytest.mark.parametrize(("case", "offers", "needs", "ports", "chosen"), CHOICES, ids=[c[0] for c in CHOICES])
def test_placement_table(
    case: str, offers: list[HostOffer], needs: Requirements, ports: list[int], chosen: str
) -> None:
    assert choose_host(offers, "hello", needs, ports).name == chosen


def test_none_fits_says_why_per_host() -> None:
    offers = [
        offer("a", busy=frozenset({8181})),
        offer("b", status=SILENT),
        offer("c", draining=True),
        offer("d", cpu=1),
        offer("e", given={8181: "blog"}),
    ]
    with pytest.raises(ValidationFailed) as caught:
        choose_host(offers, "hello", Requirements(cpu=2), [8181])
    message = str(caught.value)
    assert "host a: port 8181 in use" in message
    assert "host b: OFFLINE (agent not seen since 2026-12-10T10:00:00+00:00)" in message
    assert "host c: draining" in message
    assert "host d: needs 2 CPU cores, this host has 1" in message
    assert "host e: port 8181 is already given to app blog" in message
    assert caught.value.field == "host"


def test_one_host_answers_its_own_errors_as_before() -> None:
    with pytest.raises(Conflict, match="port 8181 is in use on host local"):
        choose_host([offer("local", busy=frozenset({8181}))], "hello", NONE, [8181])
    with pytest.raises(ValidationFailed, match=r"^hello needs 4 CPU cores"):
        choose_host([offer("local", cpu=1)], "hello", BIG, [])


def test_a_named_host_must_exist_be_online_and_not_draining() -> None:
    offers = [offer("a"), offer("b", status=SILENT), offer("c", draining=True)]
    with pytest.raises(NotFound, match=r"no Docker host is named z \(known hosts: a, b, c\)"):
        named_host(offers, "z")
    with pytest.raises(Unavailable, match="host b is OFFLINE: agent not seen since"):
        check_host(named_host(offers, "b"), "hello", NONE, [])
    with pytest.raises(ValidationFailed, match="host c is draining"):
        check_host(named_host(offers, "c"), "hello", NONE, [])
    check_host(named_host(offers, "a"), "hello", NONE, [8181])


def test_ports_are_a_host_s_own() -> None:
    """Two hosts may each publish 8181: only the chosen host's ports count."""
    b = offer("b", busy=frozenset({8181}), given={8181: "hello-b"})
    assert refusal(b, NONE, [8181]) is not None
    assert refusal(offer("a"), NONE, [8181]) is None
    check_host(offer("a"), "hello", NONE, [8181])


def test_host_availability_local_without_facts_is_this_machine() -> None:
    judged = availability({"a": SILENT}, {"local", "a", "b"})
    assert judged["local"].online, "local without an agent's facts: judged by this machine's Docker, as before"
    assert judged["a"] == SILENT
    assert judged["b"].reason == "host b: no agent has reported for it"
    assert "Redis does not answer" in (availability(None, {"b"})["b"].reason or "")
    assert offline_reason("a", SILENT) == f"host a is OFFLINE: {SILENT.reason}"
    assert offline_reason("a", ONLINE) is None


def test_jobs_go_to_their_host_s_queue() -> None:
    assert queue_name("ns") == "ns-jobs-local"
    assert queue_name("ns", "b") == "ns-jobs-b"


# -- two Docker engines on this machine: the system one (host local) and a private one (host b)


@pytest.fixture
def two_hosts(settings: Settings) -> Iterator[tuple[Stack, PrivateDocker]]:
    """The local stack (API, one worker, the watcher on the system engine) and an agent for
    host b on a private dockerd, with its own data folder, sharing database and Redis."""
    engine = PrivateDocker()
    stack = Stack.create(settings)
    agent: Agent | None = None
    try:
        engine.start()
        engine.load_images()
        stack.start(workers=1, watcher=True)
        agent = Agent("b", stack.env, engine.host).start()
        wait_for(lambda: host_online(stack.settings, "b"), 30, "host b's agent to report")
        yield stack, engine
    finally:
        if agent is not None:
            agent.remove()
        stack.remove()
        engine.remove()


@pytest.mark.docker
def test_an_app_on_host_b_lives_on_engine_b_and_its_port_is_seen_from_local(
    two_hosts: tuple[Stack, PrivateDocker], app_name: Callable[[str], str]
) -> None:
    stack, engine = two_hosts
    api = stack.client()
    port = free_port()
    name = app_name("onb")
    accepted = install_on(api, "b", name, port)
    assert accepted["__typename"] == "JobAccepted", accepted
    assert accepted["app"]["host"] == "b"
    assert api.wait_job(accepted["job"]["id"])["state"] == "SUCCEEDED"
    assert api.wait_status(name, "RUNNING", timeout=20)["status"] == "RUNNING"
    assert containers_of(name, engine.docker()) and not containers_of(name, ["docker"])
    assert [a["name"] for a in api.execute(APPS_ON, host="b")["apps"]] == [name]
    assert name not in [a["name"] for a in api.execute(APPS_ON, host="local")["apps"]]
    assert api.execute('{ appsConnection(host: "b") { totalCount } }')["appsConnection"]["totalCount"] == 1

    # both engines publish into this machine's one network namespace: b's port is busy here too
    # (on a second machine, with its own namespace, the same port on local would be allowed);
    # the local agent's facts see it at its next heartbeat
    wait_for(lambda: port in host_facts(stack.settings)["local"].ports, 10, f"port {port} in local's facts")
    twin = app_name("onlocal")
    refused = install_on(api, "local", twin, port)
    assert refused["__typename"] == "ConflictError", refused
    assert f"port {port} is in use on host local" in refused["message"]

    local = app_name("local")
    assert install_on(api, None, local, free_port())["app"]["host"] == "local", "b has one app, local none"
    api.wait_status(local, "RUNNING")

    engine.stop()
    took = elapsed_until(lambda: api.app(name)["status"] == "UNKNOWN", 10, "b's app to read UNKNOWN")
    app = api.app(name)
    assert app is not None and "host b" in app["statusReason"]
    stopped = api.act("stopApp", name=name)
    assert stopped["__typename"] == "ServiceUnavailableError"
    assert "host b" in stopped["message"]
    assert install_on(api, "b", app_name("later"), free_port())["__typename"] == "ServiceUnavailableError"
    local_app = api.app(local)
    assert local_app is not None and local_app["status"] == "RUNNING", "local's apps are untouched"

    engine.start()
    back = elapsed_until(lambda: api.app(name)["status"] == "RUNNING", 15, "b's app to be RUNNING again")
    print(f"host b's app UNKNOWN {took:.1f} s after its engine stopped, RUNNING {back:.1f} s after it started")
