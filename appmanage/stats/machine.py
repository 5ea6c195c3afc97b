"""The host's own totals beside its apps: CPUs, load, memory, the data folder's disk."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

MEMINFO = Path("/proc/meminfo")


@dataclass(frozen=True)
class MachineStats:
    cpus: int
    load1: float
    load5: float
    load15: float
    memory_total_bytes: int
    memory_available_bytes: int
    disk_total_bytes: int
    disk_free_bytes: int


def machine_stats(data_dir: Path) -> MachineStats:
    load1, load5, load15 = os.getloadavg()
    total, available = _memory()
    disk = shutil.disk_usage(_existing(data_dir))
    return MachineStats(
        cpus=os.cpu_count() or 1,
        load1=load1,
        load5=load5,
        load15=load15,
        memory_total_bytes=total,
        memory_available_bytes=available,
        disk_total_bytes=disk.total,
        disk_free_bytes=disk.free,
    )


def _memory() -> tuple[int, int]:
    fields: dict[str, int] = {}
    try:
        for line in MEMINFO.read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("MemTotal", "MemAvailable"):
                fields[key] = int(value.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    total = fields.get("MemTotal") or os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return total, fields.get("MemAvailable", 0)


def _existing(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder
