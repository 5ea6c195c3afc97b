"""An operator's own compose app in its folder: their compose file and `.env`, kept byte for
byte, and AppManage's additions in an override file of its own (`OVERRIDE_FILE`, read
after theirs whenever compose runs: `runtime/compose.py`).

The override labels each service with the app it belongs to; the compose project
(`-p <name>`) is what AppManage itself relies on, as for a catalog app. A clone's override
also publishes other host ports in place of the copied ones (`catalog/custom_ports.py`).
The folder is written whole beside its place and swapped in (`folder_swap.py`), so a crash
leaves the previous files or the new ones, and what the app wrote into its folder stays.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appmanage.catalog.custom_ports import dump_override, override_ports
from appmanage.catalog.dotenv import parse_env
from appmanage.catalog.folder_swap import scratch_folder, swap_in, write_manifest
from appmanage.catalog.secrets import MASK, custom_secret_values, looks_secret
from appmanage.errors import ValidationFailed
from appmanage.runtime.compose import OVERRIDE_FILE

__all__ = [
    "APP_LABEL",
    "COMPOSE_FILE",
    "ENV_FILE",
    "OVERRIDE_FILE",
    "CustomFiles",
    "masked_env",
    "override_text",
    "published_ports",
    "read_files",
    "unmasked_env",
    "write_folder",
]

COMPOSE_FILE = "compose.yaml"
ENV_FILE = ".env"
APP_LABEL = "io.appmanage.app"
ENV_LINE = re.compile(r"^(\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*)(.*)$")

ProjectReader = Callable[[Path], Mapping[str, Any]]
"""Reads the project of a folder holding the operator's files (`docker compose config`)."""


@dataclass(frozen=True)
class CustomFiles:
    """The operator's compose file and `.env` text (None: no `.env`), exactly as sent."""

    compose: str
    env: str | None = None

    @property
    def version(self) -> str:
        """What the App row shows as the version: the start of the files' SHA-256."""
        digest = hashlib.sha256(self.compose.encode())
        digest.update(b"\0" + (self.env or "").encode())
        return digest.hexdigest()[:12]

    def env_values(self) -> dict[str, str]:
        """KEY=VALUE of the `.env` as compose reads it, enough to know its secret values."""
        return parse_env(self.env or "")

    def secret_values(self) -> list[str]:
        return custom_secret_values(self.env_values())

    def check(self) -> None:
        if not self.compose.strip():
            raise ValidationFailed("the compose file is empty", field="compose")
        if "\0" in self.compose or "\0" in (self.env or ""):
            raise ValidationFailed("the compose file or .env holds a NUL character", field="compose")


def write_files(folder: Path, files: CustomFiles) -> None:
    """The operator's files into `folder` (made when missing), byte for byte; `.env` 0600."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / COMPOSE_FILE).write_bytes(files.compose.encode())
    if files.env is not None:
        fd = os.open(folder / ENV_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(files.env.encode())


def read_files(folder: Path) -> CustomFiles:
    env = folder / ENV_FILE
    return CustomFiles(
        (folder / COMPOSE_FILE).read_bytes().decode(errors="replace"),
        env.read_bytes().decode(errors="replace") if env.is_file() else None,
    )


def override_text(name: str, project: Mapping[str, Any], ports: Mapping[int, int] | None = None) -> str:
    """Each service of `project` labelled; with `ports`, the remapped ones published instead."""
    labels = {str(service): {"labels": {APP_LABEL: name}} for service in project.get("services") or {}}
    header = f"# Written by AppManage for the app {name}: what it adds to {COMPOSE_FILE}, which is yours.\n"
    return header + dump_override(labels, override_ports(project, ports or {}))


def write_folder(
    target: Path, name: str, files: CustomFiles, read_project: ProjectReader, ports: Mapping[int, int] | None = None
) -> None:
    """The app folder at `target` holds `files` and the override (with the port map `ports`)."""
    scratch = scratch_folder(target)
    try:
        write_files(scratch, files)
        (scratch / OVERRIDE_FILE).write_text(override_text(name, read_project(scratch), ports))
        write_manifest(scratch)
        swap_in(scratch, target)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise


def published_ports(project: Mapping[str, Any]) -> list[int]:
    """The host ports a project as `docker compose config` prints it publishes; a port
    without a host port is ephemeral and not counted."""
    ports: list[int] = []
    for service in (project.get("services") or {}).values():
        for port in (service or {}).get("ports") or ():
            published = port.get("published") if isinstance(port, dict) else None
            ports.extend(_port_numbers(str(published or "")))
    return ports


def _port_numbers(published: str) -> list[int]:
    low, _, high = published.partition("-")
    if not low.strip().isdigit() or (high and not high.strip().isdigit()):
        return []
    first, last = int(low), int(high or low)
    return [p for p in range(first, last + 1) if p > 0]


def masked_env(text: str) -> str:
    """The `.env` text with the values of secret-looking keys replaced by the mask."""
    lines = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        match = ENV_LINE.match(body)
        if match is not None and not body.lstrip().startswith("#") and match.group(3) and looks_secret(match.group(2)):
            line = f"{match.group(1)}{MASK}{line[len(body) :]}"
        lines.append(line)
    return "".join(lines)


def unmasked_env(text: str, previous: str | None) -> str:
    """The `.env` text with each masked value (as `masked_env` shows it below ADMIN) put back
    from the previous text, so that a form filled from a masked read saves the real secret."""
    kept = {}
    for line in (previous or "").splitlines():
        match = ENV_LINE.match(line)
        if match is not None and not line.lstrip().startswith("#"):
            kept[match.group(2)] = match.group(3)
    lines = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        match = ENV_LINE.match(body)
        if match is not None and match.group(3) == MASK and not body.lstrip().startswith("#"):
            key = match.group(2)
            if key not in kept:
                raise ValidationFailed(f"{key} is masked ({MASK}) and has no value to keep: give it", field="env")
            line = f"{match.group(1)}{kept[key]}{line[len(body) :]}"
        lines.append(line)
    return "".join(lines)
