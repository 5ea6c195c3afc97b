"""The kinds of warning a rendered project can earn, and `APPMANAGE_REFUSE`'s reading of them.

Kind values are stable strings: operators write them in `APPMANAGE_REFUSE`, clients read
them as the prefix of each `previewInstall` warning. `all` stands for every kind through
which a project reaches the host (every kind but `untagged-image`, which is about
reproducibility, not access: refuse it by name, `all,untagged-image`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

ALL = "all"


class WarningKind(StrEnum):
    PRIVILEGED = "privileged"
    CAPABILITIES = "capabilities"
    DEVICES = "devices"
    SECURITY_OPT = "security-opt"
    HOST_NETWORK = "host-network"
    HOST_PID = "host-pid"
    HOST_IPC = "host-ipc"
    HOST_USERNS = "host-userns"
    HOST_UTS = "host-uts"
    HOST_CGROUP = "host-cgroup"
    CONTAINER_NAMESPACE = "container-namespace"
    DOCKER_SOCKET = "docker-socket"
    BIND_MOUNT = "bind-mount"
    HOST_VOLUME = "host-volume"
    HOST_SECRET = "host-secret"
    HOST_CONFIG = "host-config"
    BUILD_CONTEXT = "build-context"
    TEMPLATE_SYMLINK = "template-symlink"
    UNTAGGED_IMAGE = "untagged-image"


HOST_ACCESS = frozenset(k.value for k in WarningKind if k is not WarningKind.UNTAGGED_IMAGE)


@dataclass(frozen=True)
class ProjectWarning:
    kind: WarningKind
    service: str
    """The service it concerns; empty for what concerns the template as a whole."""
    detail: str

    def __str__(self) -> str:
        if not self.service:
            return f"{self.kind.value}: {self.detail}"
        return f"{self.kind.value}: service {self.service} {self.detail}"


def parse_refuse(text: str) -> frozenset[str]:
    """`APPMANAGE_REFUSE`: comma-separated kinds or `all`, case and blanks ignored."""
    kinds = frozenset(k.strip().lower() for k in text.split(",") if k.strip())
    known = {k.value for k in WarningKind}
    unknown = sorted(kinds - known - {ALL})
    if unknown:
        raise ValueError(
            f"APPMANAGE_REFUSE: unknown warning kinds {', '.join(unknown)}; "
            f"use {ALL} or any of {', '.join(k.value for k in WarningKind)}"
        )
    return kinds


def refused_kinds(refuse: Iterable[str]) -> frozenset[str]:
    kinds = frozenset(refuse)
    return (kinds - {ALL}) | HOST_ACCESS if ALL in kinds else kinds


def refused(warnings: Iterable[ProjectWarning], refuse: Iterable[str]) -> list[ProjectWarning]:
    kinds = refused_kinds(refuse)
    return [w for w in warnings if w.kind.value in kinds]


def refusal_message(refusals: Iterable[ProjectWarning]) -> str:
    return "refused by APPMANAGE_REFUSE: " + "; ".join(str(w) for w in refusals)
