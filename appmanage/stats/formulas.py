"""The figures `docker stats` shows, from two readings of a container's counters."""

from __future__ import annotations

NS_PER_SECOND = 1_000_000_000


def cpu_percent(cpu_ns_before: int, cpu_ns_now: int, seconds: float) -> float:
    """CPU time used over wall time, times 100: 100 is one core busy, 250 two and a half.
    A counter that went back (the container restarted) counts as nothing used."""
    if seconds <= 0:
        return 0.0
    return max(0, cpu_ns_now - cpu_ns_before) / (seconds * NS_PER_SECOND) * 100


def memory_used(usage: int, inactive_file: int) -> int:
    """What the container holds: the bytes charged minus the page cache it would give back
    first (docker stats: `usage - inactive_file`, `total_inactive_file` on cgroup v1)."""
    return usage - inactive_file if 0 <= inactive_file < usage else usage


def memory_limit(limit: int, host_memory: int) -> int:
    """The container's limit, or the host's memory when it has none (as docker stats)."""
    if host_memory > 0 and (limit <= 0 or limit > host_memory):
        return host_memory
    return limit
