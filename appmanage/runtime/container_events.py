"""What one Docker container event says about the container's state, before a listing does.

Docker sends `die` (with `exitCode`) about 100 ms before its listing stops saying
`running`, and `health_status: unhealthy` as the action itself. `apply_event` is the one
mapping from an event to the container's provisional state: the watcher announces it at
once and the API's ContainerCache serves it, both until the next listing says otherwise.
A `die` is read against the restart policy: `always` and `unless-stopped` (and
`on-failure` after a non-zero exit) make it `restarting`, unless a `kill` or `stop` came
first (an operator stopped it; Docker does not restart it). What Docker alone knows (a
retry limit reached, a restart that failed) is the listing's to correct.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from typing import Any

import docker
from docker.errors import DockerException
from requests.exceptions import RequestException

from appmanage.runtime.containers import ONEOFF_LABEL, PROJECT_LABEL, SERVICE_LABEL, ContainerInfo

STATE_ACTIONS = {
    "create", "start", "restart", "die", "stop", "kill", "pause", "unpause", "destroy", "oom", "health_status",
}  # fmt: skip
POLICY_ACTIONS = {"create", "start", "update"}  # when the restart policy is (re)read
SETTLING_ACTIONS = {"die", "stop", "kill", "oom"}
ALWAYS_RESTARTING = {"always", "unless-stopped"}


def event_action(event: dict[str, Any]) -> str:
    """`health_status: healthy` → `health_status`; exec events keep their own names."""
    return str(event.get("Action") or event.get("status") or "").split(":", 1)[0]


def changes_state(event: dict[str, Any]) -> bool:
    """Exec events (every healthcheck run makes three) change no container state."""
    return event_action(event) in STATE_ACTIONS


def attributes(event: dict[str, Any]) -> dict[str, str]:
    attrs: dict[str, str] = (event.get("Actor") or {}).get("Attributes") or {}
    return attrs


def event_project(event: dict[str, Any]) -> str | None:
    """The compose project of the event's container; None for one-off `run` containers."""
    attrs = attributes(event)
    if attrs.get(ONEOFF_LABEL) == "True":
        return None
    return attrs.get(PROJECT_LABEL)


def container_id(event: dict[str, Any]) -> str:
    return str(event.get("id") or (event.get("Actor") or {}).get("ID") or "")


@dataclass(frozen=True)
class TrackedContainer:
    """A container's state as last known, and whether an operator is stopping it."""

    info: ContainerInfo
    stopping: bool = False


def apply_event(known: TrackedContainer | None, event: dict[str, Any], restart_policy: str) -> TrackedContainer | None:
    """The container's state after `event` (None: it is gone). `known` is its state before,
    None when it was not seen yet (its project and service then come from the labels)."""
    action = event_action(event)
    if action == "destroy":
        return None
    info = known.info if known is not None else _from_attributes(event)
    info = replace(info, restart_policy=restart_policy)
    stopping = known.stopping if known is not None else False
    if action == "create":
        return TrackedContainer(replace(info, state="created", exit_code=None, health=None))
    if action in {"start", "restart", "unpause"}:
        health = "starting" if info.health is not None and action != "unpause" else info.health
        return TrackedContainer(replace(info, state="running", exit_code=None, health=health))
    if action in {"kill", "stop"}:
        down = replace(info, state="exited") if action == "stop" else info
        return TrackedContainer(down, stopping=True)
    if action == "die":
        exit_code = _exit_code(event)
        state = "restarting" if _restarts(restart_policy, exit_code, stopping) else "exited"
        return TrackedContainer(replace(info, state=state, exit_code=exit_code), stopping=stopping)
    if action == "pause":
        return TrackedContainer(replace(info, state="paused"), stopping)
    if action == "health_status":
        health = str(event.get("Action") or event.get("status") or "").partition(":")[2].strip()
        return TrackedContainer(replace(info, health=health or info.health), stopping)
    return TrackedContainer(info, stopping)


def _restarts(policy: str, exit_code: int | None, stopping: bool) -> bool:
    if stopping:
        return False
    return policy in ALWAYS_RESTARTING or (policy == "on-failure" and exit_code != 0)


def _exit_code(event: dict[str, Any]) -> int | None:
    with contextlib.suppress(TypeError, ValueError):
        return int(attributes(event)["exitCode"])
    return None


def _from_attributes(event: dict[str, Any]) -> ContainerInfo:
    attrs = attributes(event)
    name = attrs.get("name", "")
    return ContainerInfo(
        id=container_id(event),
        name=name,
        project=attrs.get(PROJECT_LABEL, ""),
        service=attrs.get(SERVICE_LABEL, name),
        state="unknown",
        exit_code=None,
        health=None,
        image=attrs.get("image", ""),
        created=int(event.get("time") or 0),
    )


def settle(api: docker.APIClient, event: dict[str, Any]) -> None:
    """Docker sends `die` before it has recorded the exit: for a while the listing still
    says running. Inspecting the container waits for Docker's lock on it, so once this
    returns, a listing shows the new state."""
    if event_action(event) in SETTLING_ACTIONS:
        with contextlib.suppress(DockerException, RequestException):
            api.inspect_container(container_id(event))


def restart_policy_of(api: docker.APIClient, container: str) -> str | None:
    """The container's restart policy (None: it is gone or Docker did not answer)."""
    try:
        inspected = api.inspect_container(container)
    except (DockerException, RequestException):
        return None
    return str((inspected.get("HostConfig") or {}).get("RestartPolicy", {}).get("Name") or "no")
