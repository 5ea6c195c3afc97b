"""Render a catalog app into its app folder: the template's files and a private `.env`."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from appmanage.catalog.model import CatalogApp

ENV_FILE = ".env"


def render(app: CatalogApp, target: Path, name: str, version: str, values: Mapping[str, str]) -> Path:
    """Write the app folder and return the compose file in it."""
    target.mkdir(parents=True, exist_ok=True)
    for source in app.folder.iterdir():
        if source.name in app.skip_files or source.name == ENV_FILE:
            continue
        destination = target / source.name
        if source.is_dir():
            shutil.copytree(source, destination, dirs_exist_ok=True, symlinks=True)
        else:
            shutil.copy2(source, destination)
    identity = {"APP_NAME": name, "APP_VERSION": version, **dict.fromkeys(app.name_keys, name)}
    env = {**identity, **app.version_env.get(version, {}), **values}
    write_env(target / ENV_FILE, _template_lines(app), env)
    return target / app.compose_file


def _template_lines(app: CatalogApp) -> list[str]:
    if app.env_template is None:
        return []
    return (app.folder / app.env_template).read_text().splitlines()


def write_env(path: Path, template: list[str], values: Mapping[str, str]) -> None:
    """Template lines are kept as they are, but for the keys we set; new keys follow."""
    lines: list[str] = []
    pending = dict(values)
    for line in template:
        key = line.split("=", 1)[0].strip() if "=" in line and not line.lstrip().startswith("#") else None
        if key is not None and key in pending:
            lines.append(f"{key}={_quote(pending.pop(key))}")
        else:
            lines.append(line)
    lines.extend(f"{key}={_quote(value)}" for key, value in pending.items())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)


def _quote(value: str) -> str:
    """Double quotes with `\\`, `"` and `$` escaped: compose reads the value back verbatim."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'
