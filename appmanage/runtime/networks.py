"""External networks a compose project joins but does not own: created when missing."""

from __future__ import annotations

import docker
from docker.errors import APIError, DockerException
from requests.exceptions import RequestException

from appmanage.runtime.containers import DockerUnavailable

CREATED_BY_LABEL = "io.appmanage.created-by"
CONFLICT = 409


def ensure_network(api: docker.APIClient, name: str) -> bool:
    """Create the bridge network `name` unless it exists; True when it was created."""
    try:
        if any(n.get("Name") == name for n in api.networks(names=[name])):
            return False
        api.create_network(name, driver="bridge", check_duplicate=True, labels={CREATED_BY_LABEL: "appmanage"})
    except APIError as exc:
        if exc.status_code == CONFLICT:
            return False
        raise DockerUnavailable(f"network {name} cannot be created: {exc.explanation or exc}") from exc
    except (DockerException, RequestException) as exc:
        raise DockerUnavailable(str(exc)) from exc
    return True
