"""A catalog app's requirements against what the host offers."""

from __future__ import annotations

import math

from appmanage.catalog.model import Requirements

UNITS = {"cpu": "CPU cores", "memory": "GB of memory", "disk": "GB of free disk"}


def unmet(requirements: Requirements, cpu: float, memory: float, disk: float) -> list[str]:
    """One sentence per requirement the host does not meet, naming both numbers. Memory
    counts in whole GB rounded up: the kernel keeps part of an 8 GB machine for itself."""
    offered = {"cpu": cpu, "memory": memory, "disk": disk}
    counted = {**offered, "memory": math.ceil(memory)}
    return [
        f"needs {_number(needed)} {UNITS[what]}, this host has {_number(offered[what])}"
        for what in UNITS
        if (needed := getattr(requirements, what)) is not None and counted[what] < needed
    ]


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.1f}"
