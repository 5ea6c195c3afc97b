"""The host ports a clone of an operator's own compose app publishes instead of the copied ones.

A clone (restoreApp with asName) copies the operator's compose file byte for byte, so it
would publish the original's host ports; each one taken on the clone's host is given a
free port instead (apps/backups.py). The port map (a port of the compose file → the
clone's) is held in the App row's settings under the reserved key `PORT_MAP_KEY` (a
custom app has no settings of its own), as text such as "8080=8081,9000=9003": it needs
no column of its own and travels in the backups' manifests with the rest of the row. The
row's `host_ports` hold the ports really published, like any app's.

The override file (catalog/custom_project.py) carries the map: each service publishing a
remapped port gets its whole ports list replaced with compose's `!override` tag, in the
long syntax `docker compose config` prints for the operator's files, `published` changed
(host IP, target and protocol kept). Whoever rewrites the override feeds it the map from
the row (a clone's restore, an edit's roll back); a redeploy keeps the folder as it is. An
edit brings a new compose file whose ports are the operator's own again: the map is
dropped with it (jobs/custom.py), so a clone's edit that keeps the original's ports is
refused while the original holds them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import yaml

__all__ = ["PORT_MAP_KEY", "PortMap", "dump_override", "override_ports", "port_map_of", "remap", "with_port_map"]

PORT_MAP_KEY = "appmanage.host-ports"

PortMap = dict[int, int]
"""A host port of the operator's compose file → the host port the app publishes instead."""


def port_map_of(settings: Mapping[str, Any]) -> PortMap:
    text = str(settings.get(PORT_MAP_KEY) or "")
    pairs = (item.partition("=") for item in text.split(",") if item.strip())
    return {int(given): int(used) for given, _, used in pairs}


def with_port_map(settings: Mapping[str, str], ports: Mapping[int, int]) -> dict[str, str]:
    """`settings` holding `ports` (without the key when no port is remapped)."""
    kept = {key: value for key, value in settings.items() if key != PORT_MAP_KEY}
    moved = {given: used for given, used in sorted(ports.items()) if given != used}
    if moved:
        kept[PORT_MAP_KEY] = ",".join(f"{given}={used}" for given, used in moved.items())
    return kept


def remap(
    published: Iterable[int], previous: Mapping[int, int], choose: Callable[[int], int]
) -> tuple[list[int], PortMap]:
    """The ports a clone publishes and its map, from the ports its source publishes and the
    source's own map: `choose` gives each published port the port the clone uses (itself
    when free)."""
    original_of = {used: given for given, used in previous.items()}
    ports: list[int] = []
    mapping: PortMap = {}
    for port in sorted(set(published)):
        chosen = choose(port)
        ports.append(chosen)
        given = original_of.get(port, port)
        if chosen != given:
            mapping[given] = chosen
    return sorted(ports), mapping


def override_ports(project: Mapping[str, Any], ports: Mapping[int, int]) -> dict[str, list[dict[str, Any]]]:
    """Service → its ports in long syntax with the remapped ones changed, for each service of
    `project` (as `docker compose config` prints it) publishing a port of `ports`."""
    lists: dict[str, list[dict[str, Any]]] = {}
    for service, body in (project.get("services") or {}).items():
        entries = [dict(port) for port in (body or {}).get("ports") or () if isinstance(port, dict)]
        changed = False
        for entry in entries:
            first = str(entry.get("published") or "").partition("-")[0].strip()
            if first.isdigit() and int(first) in ports:
                entry["published"] = str(ports[int(first)])
                changed = True
        if changed:
            lists[str(service)] = entries
    return lists


class _Override(list[Any]):
    """A list compose takes in place of the one in the files before (`!override`)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Override, lambda dumper, data: dumper.represent_sequence("!override", list(data)))


def dump_override(services: Mapping[str, dict[str, Any]], ports: Mapping[str, list[dict[str, Any]]]) -> str:
    """The override's YAML: `services` (service → its additions) with each list of `ports`
    under the service's `ports` key, tagged `!override`."""
    merged = {name: dict(body) for name, body in services.items()}
    for name, entries in ports.items():
        merged.setdefault(name, {})["ports"] = _Override(entries)
    return yaml.dump({"services": merged}, Dumper=_Dumper, sort_keys=True)
