"""TCP ports that something on this host listens on, read from /proc/net."""

from __future__ import annotations

from pathlib import Path

LISTEN = "0A"
PROC_TABLES = ("/proc/net/tcp", "/proc/net/tcp6")


def listening_ports(tables: tuple[str, ...] = PROC_TABLES) -> set[int]:
    ports: set[int] = set()
    for table in tables:
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == LISTEN:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports
