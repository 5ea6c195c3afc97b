"""The host commands: `hosts` (and `--follow`), `host NAME`, `drain NAME`, `undrain NAME`."""

from __future__ import annotations

import argparse
from typing import Any

from appmanage.client import output
from appmanage.client.output import field
from appmanage.client.session import OK, REFUSED, Session
from appmanage.client.transport import check_result

HOST = """name status statusReason agentVersion engineVersion cpus memoryBytes diskFreeBytes
  labels { key value } agentLastSeen appCount draining"""
HOSTS = f"query {{ hosts {{ {HOST} }} }}"
HOST_ONE = f"query Host($name: String!) {{ host(name: $name) {{ {HOST} }} }}"
DRAIN = f"""mutation Drain($name: String!) {{ drainHost(name: $name) {{
  __typename ... on Host {{ {HOST} }} ... on Error {{ message }} }} }}"""
UNDRAIN = DRAIN.replace("drainHost", "undrainHost").replace("Drain(", "Undrain(")
FOLLOW = """subscription Hosts { hostStatusChanged { cursor host status previous statusReason at } }"""

GB = 1024**3
COLUMNS: list[output.Column] = [
    ("NAME", field("name")),
    ("STATUS", field("status")),
    ("APPS", field("appCount")),
    ("CPUS", field("cpus")),
    ("MEMORY", lambda h: _gb(h.get("memoryBytes"))),
    ("DISK FREE", lambda h: _gb(h.get("diskFreeBytes"))),
    ("DRAINING", field("draining")),
    ("REASON", field("statusReason")),
]
KEYS = [
    "name",
    "status",
    "statusReason",
    "agentVersion",
    "engineVersion",
    "cpus",
    "memory",
    "diskFree",
    "labels",
    "agentLastSeen",
    "appCount",
    "draining",
]


def hosts(session: Session, args: argparse.Namespace) -> int:
    if args.follow:
        for data in session.transport.subscribe(FOLLOW):
            event = data["hostStatusChanged"]
            if session.json:
                output.as_json(event, compact=True)
            else:
                reason = f" ({event['statusReason']})" if event["statusReason"] else ""
                print(f"{event['cursor']}  {event['host']}  {event['previous'] or '-'} -> {event['status']}{reason}")
        return OK
    found = session.transport.execute(HOSTS)["hosts"]
    if session.json:
        output.as_json(found)
    else:
        output.table(found, COLUMNS)
    return OK


def host(session: Session, args: argparse.Namespace) -> int:
    found = session.transport.execute(HOST_ONE, name=args.name)["host"]
    if found is None:
        output.fail(f"no host is named {args.name}")
        return REFUSED
    _show(session, found)
    return OK


def drain(session: Session, args: argparse.Namespace) -> int:
    document, mutation = (DRAIN, "drainHost") if args.drain else (UNDRAIN, "undrainHost")
    _show(session, check_result(session.transport.execute(document, name=args.name)[mutation], "Host"))
    return OK


def _show(session: Session, found: dict[str, Any]) -> None:
    if session.json:
        output.as_json(found)
        return
    shown = {
        **found,
        "memory": _gb(found.get("memoryBytes")),
        "diskFree": _gb(found.get("diskFreeBytes")),
        "labels": [f"{label['key']}={label['value']}" for label in found.get("labels", [])],
    }
    output.block(shown, KEYS)


def _gb(value: float | None) -> str | None:
    return None if value is None else f"{value / GB:.1f} GB"
