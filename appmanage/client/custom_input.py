"""What `install --compose FILE [--env FILE] NAME` and `edit` send: the operator's files as
they are on disk."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from appmanage.client.transport import ApiError


def read_text(path: str, what: str) -> str:
    try:
        return Path(path).read_bytes().decode()
    except (OSError, UnicodeDecodeError) as exc:
        raise ApiError("UsageError", f"{what} {path}: {exc}") from exc


def custom_input(args: argparse.Namespace) -> dict[str, Any]:
    """installApp's input for a compose file; the app's name is NAME or --name NAME."""
    if args.catalog_app and args.name and args.catalog_app != args.name:
        raise ApiError("UsageError", "with --compose, give the app's name once: NAME or --name NAME")
    name = args.name or args.catalog_app
    if not name:
        raise ApiError("UsageError", "with --compose, name the app: NAME or --name NAME")
    if args.version or args.set:
        raise ApiError("UsageError", "--version and --set are a catalog app's; put your variables in --env FILE")
    return {
        "name": name,
        "compose": read_text(args.compose, "--compose"),
        "env": read_text(args.env, "--env") if args.env else None,
    }
