"""Status from Docker's events at once: the event → container state mapping, table-first,
and a real watcher: a killed container is announced EXITED without waiting for the listing,
and a provisional status the listing contradicts is corrected by a second announcement."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from appmanage.config import Settings
from appmanage.runtime.container_events import TrackedContainer, apply_event
from appmanage.runtime.containers import PROJECT_LABEL, SERVICE_LABEL, ContainerInfo
from appmanage.services import Services
from appmanage.storage.models import App
from appmanage.watcher.main import watch
from tests.support.services import private_services

IMAGE = "appmanage-local/busybox:1"


def event(action: str, **attrs: str) -> dict[str, Any]:
    labels = {PROJECT_LABEL: "shop", SERVICE_LABEL: "db", "name": "shop-db-1", **attrs}
    return {"Action": action, "id": "c1", "Actor": {"ID": "c1", "Attributes": labels}, "time": 1}


def tracked(state: str, health: str | None = None, stopping: bool = False) -> TrackedContainer:
    return TrackedContainer(ContainerInfo("c1", "shop-db-1", "shop", "db", state, None, health, "img", 1), stopping)


@pytest.mark.parametrize(
    ("before", "action", "attrs", "policy", "state", "exit_code", "health"),
    [
        (tracked("running"), "die", {"exitCode": "137"}, "no", "exited", 137, None),
        (tracked("running"), "die", {"exitCode": "1"}, "always", "restarting", 1, None),
        (tracked("running"), "die", {"exitCode": "1"}, "unless-stopped", "restarting", 1, None),
        (tracked("running"), "die", {"exitCode": "1"}, "on-failure", "restarting", 1, None),
        (tracked("running"), "die", {"exitCode": "0"}, "on-failure", "exited", 0, None),
        (tracked("running", stopping=True), "die", {"exitCode": "137"}, "always", "exited", 137, None),
        (tracked("running", "healthy"), "health_status: unhealthy", {}, "no", "running", None, "unhealthy"),
        (tracked("exited", "unhealthy"), "start", {}, "always", "running", None, "starting"),
        (tracked("running"), "pause", {}, "no", "paused", None, None),
        (tracked("paused"), "unpause", {}, "no", "running", None, None),
        (tracked("running"), "kill", {"signal": "9"}, "always", "running", None, None),
        (None, "create", {}, "always", "created", None, None),
        (None, "die", {"exitCode": "3"}, "no", "exited", 3, None),
    ],
)
def test_an_event_gives_the_provisional_state(
    before: TrackedContainer | None,
    action: str,
    attrs: dict[str, str],
    policy: str,
    state: str,
    exit_code: int | None,
    health: str | None,
) -> None:
    after = apply_event(before, event(action, **attrs), policy)
    assert after is not None
    assert (after.info.state, after.info.exit_code, after.info.health) == (state, exit_code, health)
    assert (after.info.project, after.info.service, after.info.restart_policy) == ("shop", "db", policy)


def test_kill_then_die_is_a_stop_and_destroy_forgets() -> None:
    killed = apply_event(tracked("running"), event("kill", signal="9"), "always")
    assert killed is not None and killed.stopping
    restarted = apply_event(killed, event("start"), "always")
    assert restarted is not None and not restarted.stopping and restarted.info.state == "running"
    assert apply_event(tracked("exited"), event("destroy"), "always") is None


@pytest.fixture
def services(settings: Settings, tmp_path: Path) -> Iterator[Services]:
    with private_services(settings, tmp_path) as services:
        yield services


@pytest.fixture
def project(services: Services) -> Iterator[str]:
    name = f"t{secrets.token_hex(3)}-ev"
    with services.db.write() as session:
        session.add(App(name=name, catalog_app="hello", source="test", version="1", installed=True))
    yield name
    client = docker.from_env()
    for container in client.containers.list(all=True, filters={"label": f"{PROJECT_LABEL}={name}"}):
        container.remove(force=True)
    client.close()


@pytest.fixture
def watching(services: Services) -> Iterator[None]:
    stopping = threading.Event()
    thread = threading.Thread(target=watch, args=(services, stopping), daemon=True)
    thread.start()
    yield
    stopping.set()
    thread.join(timeout=40)


def statuses(services: Services, name: str, until: str, timeout: float = 30) -> list[str]:
    """The app's status announcements on the stream, until `until` is announced."""
    stream, seen, last = f"{services.settings.namespace}:events", [], "0-0"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for _, entries in services.redis.xread({stream: last}, block=200) or ():
            for cursor, fields in entries:
                last, body = cursor, json.loads(fields[b"event"])
                if body.get("kind") == "status" and body["app"] == name:
                    seen.append(body["status"])
                    if body["status"] == until:
                        return seen
    raise AssertionError(f"{name} never announced {until}: {seen}")


def run_container(name: str, command: str, restart: dict[str, Any]) -> Any:
    client = docker.from_env()
    labels = {PROJECT_LABEL: name, SERVICE_LABEL: "web"}
    container = client.containers.run(
        IMAGE,
        ["sh", "-c", command],
        name=f"{name}-web-1",
        labels=labels,
        restart_policy=restart,
        network_mode="none",
        detach=True,
    )
    client.close()
    return container


@pytest.mark.docker
def test_a_killed_container_is_announced_exited(services: Services, project: str, watching: None) -> None:
    container = run_container(project, "sleep 600", {"Name": "always"})
    assert statuses(services, project, "RUNNING")[-1] == "RUNNING"
    time.sleep(0.5)  # the correction thread has read the restart policy
    container.kill()
    assert statuses(services, project, "EXITED")[-1] == "EXITED"  # a kill is a stop: no RESTARTING


@pytest.mark.docker
def test_a_wrong_provisional_status_is_corrected(services: Services, project: str, watching: None) -> None:
    """on-failure:1 with exit 3: the second `die` looks like a restart to come (RESTARTING),
    but Docker has used up its one retry; the listing says exited, and EXITED follows."""
    run_container(project, "sleep 3; exit 3", {"Name": "on-failure", "MaximumRetryCount": 1})
    seen = statuses(services, project, "EXITED")
    assert "RESTARTING" in seen
    assert seen.index("RESTARTING") < len(seen) - 1 and seen[-1] == "EXITED"
