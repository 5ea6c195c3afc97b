"""Docker's event stream, narrowed to the events that change a compose container's state
(or its restart policy), delivered as Docker sends them: no call to Docker in between."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import docker
from docker.errors import DockerException
from requests.exceptions import RequestException

from appmanage.runtime.container_events import POLICY_ACTIONS, changes_state, event_action
from appmanage.runtime.containers import PROJECT_LABEL, DockerUnavailable


def container_events(window: float) -> Iterator[dict[str, Any] | None]:
    """Yield each state-changing container event of a compose project, live, and None at
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
                if changes_state(event) or event_action(event) in POLICY_ACTIONS:
                    yield event
            since = until
            yield None
    except (DockerException, RequestException, OSError) as exc:
        raise DockerUnavailable(str(exc)) from exc
    finally:
        api.close()
