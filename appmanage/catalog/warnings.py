"""What an operator should know before installing a rendered project.

Read from the project as `docker compose config` prints it: paths are absolute, variables
filled. Each warning has a kind, which `APPMANAGE_REFUSE` may turn into a refusal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any

DOCKER_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock")


class WarningKind(StrEnum):
    PRIVILEGED = "privileged"
    DOCKER_SOCKET = "docker-socket"
    HOST_NETWORK = "host-network"
    HOST_PID = "host-pid"
    BIND_MOUNT = "bind-mount"
    UNTAGGED_IMAGE = "untagged-image"


@dataclass(frozen=True)
class ProjectWarning:
    kind: WarningKind
    service: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind.value}: service {self.service} {self.detail}"


def project_warnings(project: Mapping[str, Any], app_folder: Path) -> list[ProjectWarning]:
    services = project.get("services") or {}
    return [
        warning
        for name, service in sorted(services.items())
        if isinstance(service, dict)
        for warning in _service_warnings(name, service, app_folder)
    ]


def refused(warnings: Iterable[ProjectWarning], refuse: Iterable[str]) -> list[ProjectWarning]:
    kinds = set(refuse)
    return [w for w in warnings if w.kind.value in kinds]


def _service_warnings(name: str, service: Mapping[str, Any], app_folder: Path) -> Iterable[ProjectWarning]:
    if service.get("privileged"):
        yield ProjectWarning(WarningKind.PRIVILEGED, name, "runs privileged")
    if service.get("network_mode") == "host":
        yield ProjectWarning(WarningKind.HOST_NETWORK, name, "uses the host's network")
    if service.get("pid") == "host":
        yield ProjectWarning(WarningKind.HOST_PID, name, "sees the host's processes")
    for volume in service.get("volumes") or ():
        if not isinstance(volume, dict) or volume.get("type") != "bind":
            continue
        source = str(volume.get("source") or "")
        if source in DOCKER_SOCKETS:
            yield ProjectWarning(WarningKind.DOCKER_SOCKET, name, f"mounts the Docker socket {source}")
        elif not _inside(source, app_folder):
            yield ProjectWarning(WarningKind.BIND_MOUNT, name, f"mounts {source} from outside the app folder")
    image = service.get("image")
    if image and not service.get("build") and not _tagged(str(image)):
        yield ProjectWarning(WarningKind.UNTAGGED_IMAGE, name, f"runs image {image} without a tag")


def _inside(source: str, folder: Path) -> bool:
    path = PurePosixPath(source)
    return path.is_relative_to(PurePosixPath(folder)) and ".." not in path.parts


def _tagged(image: str) -> bool:
    if "@" in image:
        return True
    return ":" in image.rsplit("/", 1)[-1]
