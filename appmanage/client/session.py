"""One command's connection and manners: the transport from `--url`/`--token`, `--json`,
and whether to follow jobs it starts."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

from appmanage.client.transport import DEFAULT_URL, Transport

OK, REFUSED, USAGE, UNREACHABLE = 0, 1, 2, 3


@dataclass
class Session:
    transport: Transport
    json: bool
    wait: bool

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Session:
        url = args.url or os.environ.get("APPMANAGE_URL") or DEFAULT_URL
        token = args.token or os.environ.get("APPMANAGE_TOKEN") or os.environ.get("APPMANAGE_ADMIN_TOKEN", "")
        wait = getattr(args, "wait", None)
        if wait is None:  # in a terminal, a command that starts a job follows it unless --no-wait
            wait = not args.json and sys.stdin.isatty() and sys.stdout.isatty()
        return cls(Transport(url.strip(), token.strip()), bool(args.json), bool(wait))


def add_connection_options(parser: argparse.ArgumentParser, nested: bool = False) -> None:
    """`nested` for a command's own subcommands: their options may come after them, and
    leave alone what was given before them."""
    group = parser.add_argument_group("connection")
    unset = argparse.SUPPRESS if nested else None
    group.add_argument("--url", default=unset, help=f"the API's GraphQL URL (APPMANAGE_URL; default {DEFAULT_URL})")
    group.add_argument("--token", default=unset, help="bearer token (APPMANAGE_TOKEN, else APPMANAGE_ADMIN_TOKEN)")
    group.add_argument(
        "--json", action="store_true", default=unset or False, help="print the API's answer as JSON, for scripts"
    )


def add_wait_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="follow the job to its end, exit 1 when it fails (default: yes in a terminal, no otherwise)",
    )
