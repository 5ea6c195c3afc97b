"""Volumes that compose created for a project and that outlived it (an uninstall
without purge keeps them): found by compose's project label, in one Docker call."""

from __future__ import annotations

import docker
from docker.errors import DockerException
from requests.exceptions import RequestException

from appmanage.runtime.containers import DockerUnavailable

PROJECT_LABEL = "com.docker.compose.project"


def project_volumes(api: docker.APIClient, project: str) -> list[str]:
    """The names of the volumes labelled as the compose project `project`'s, sorted."""
    try:
        answer = api.volumes(filters={"label": f"{PROJECT_LABEL}={project}"})
    except (DockerException, RequestException) as exc:
        raise DockerUnavailable(str(exc)) from exc
    return sorted(str(v["Name"]) for v in (answer or {}).get("Volumes") or [])
