"""Docker's event stream, narrowed to what changes a compose project's container states."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import docker
from docker.errors import DockerException
from requests.exceptions import RequestException

from appmanage.runtime.containers import PROJECT_LABEL, DockerUnavailable

STATE_ACTIONS = {
    "create", "start", "restart", "die", "stop", "kill", "pause", "unpause", "destroy", "oom", "health_status",
}  # fmt: skip


def changes_state(event: dict[str, Any]) -> bool:
    """Exec events (every healthcheck run makes three) change no container state."""
    return str(event.get("Action") or event.get("status") or "").split(":", 1)[0] in STATE_ACTIONS


SETTLING_ACTIONS = {"die", "stop", "kill", "oom"}


def settle(api: docker.APIClient, event: dict[str, Any]) -> None:
    """Docker sends `die` before it has recorded the exit: for a while the listing still
    says running. Inspecting the container waits for Docker's lock on it, so once this
    returns, a listing shows the new state."""
    if str(event.get("Action") or event.get("status") or "") in SETTLING_ACTIONS:
        with contextlib.suppress(DockerException, RequestException):
            api.inspect_container(event.get("id") or event.get("Actor", {}).get("ID", ""))


def project_events(window: float) -> Iterator[str | None]:
    """Yield the compose project of each state-changing container event, live, and None at
    the end of each `window` seconds, so the caller can resync. Raises DockerUnavailable
    when the daemon cannot be reached or the stream breaks."""
    try:
        api = docker.from_env(timeout=int(window) + 30).api
    except DockerException as exc:
        raise DockerUnavailable(str(exc)) from exc
    since = int(time.time())
    try:
        while True:
            until = int(time.time() + window)
            stream = api.events(
                since=since, until=until, decode=True, filters={"type": "container", "label": PROJECT_LABEL}
            )
            for event in stream:
                if changes_state(event):
                    settle(api, event)
                    yield (event.get("Actor", {}).get("Attributes") or {}).get(PROJECT_LABEL)
            since = until
            yield None
    except (DockerException, RequestException, OSError) as exc:
        raise DockerUnavailable(str(exc)) from exc
    finally:
        api.close()
