"""What this host offers an app: CPU cores, memory, free disk under a folder."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

GB = 1024**3


@dataclass(frozen=True)
class HostResources:
    cpu: float
    memory: float
    disk: float


def host_resources(folder: Path) -> HostResources:
    """Cores this process may use, total memory and free disk at `folder`, in GB."""
    return HostResources(cpu=float(len(os.sched_getaffinity(0))), memory=_memory(), disk=_free_disk(folder))


def _memory() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024 / GB
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GB


def _free_disk(folder: Path) -> float:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return shutil.disk_usage(folder).free / GB
