"""The native catalog format: one folder per app, `app.yaml` beside `compose.yaml`.

```yaml
title: Hello
description: One page served by busybox httpd.
versions: ["1", "2"]
default_version: "2"
parameters:
  - key: HTTP_PORT          # the variable the compose file uses
    type: PORT              # STRING INT BOOL PORT PASSWORD ENUM URL
    default: "8080"
    required: true
    editable: true          # may change with redeployApp
    # also: label, choices, pattern, min, max, secret
```
Every other file in the folder is copied into the app folder at install.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from appmanage.catalog.model import CatalogApp, Parameter
from appmanage.enums import ParameterType

MANIFEST = "app.yaml"
COMPOSE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")


class TemplateError(Exception):
    pass


def is_native_app(folder: Path) -> bool:
    return (folder / MANIFEST).is_file()


def load_native_app(folder: Path, source: str) -> CatalogApp:
    try:
        manifest = yaml.safe_load((folder / MANIFEST).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"{MANIFEST} cannot be read: {exc}") from exc
    if not isinstance(manifest, dict):
        raise TemplateError(f"{MANIFEST} is not a mapping")
    compose = next((n for n in COMPOSE_NAMES if (folder / n).is_file()), None)
    if compose is None:
        raise TemplateError("no compose file")
    _check_compose(folder / compose)
    versions = tuple(str(v) for v in manifest.get("versions") or ())
    if not versions:
        raise TemplateError("no versions")
    default_version = str(manifest.get("default_version") or versions[-1])
    if default_version not in versions:
        raise TemplateError(f"default_version {default_version} is not among the versions")
    return CatalogApp(
        name=folder.name,
        title=str(manifest.get("title") or folder.name),
        description=manifest.get("description"),
        versions=versions,
        default_version=default_version,
        parameters=tuple(_parameter(raw) for raw in manifest.get("parameters") or ()),
        source=source,
        folder=folder,
        compose_file=compose,
        skip_files=frozenset({MANIFEST}),
    )


def _check_compose(path: Path) -> None:
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"{path.name} cannot be read: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("services"), dict):
        raise TemplateError(f"{path.name}: services is not a mapping")


def _parameter(raw: Any) -> Parameter:
    if not isinstance(raw, dict) or "key" not in raw:
        raise TemplateError(f"parameter without a key: {raw!r}")
    try:
        kind = ParameterType(str(raw.get("type", "STRING")).upper())
    except ValueError as exc:
        raise TemplateError(f"parameter {raw['key']}: unknown type {raw.get('type')}") from exc
    choices = raw.get("choices")
    default = raw.get("default")
    return Parameter(
        key=str(raw["key"]),
        type=kind,
        label=raw.get("label"),
        required=bool(raw.get("required", False)),
        default=None if default is None else _text(default),
        choices=tuple(str(c) for c in choices) if choices else None,
        pattern=raw.get("pattern"),
        minimum=raw.get("min"),
        maximum=raw.get("max"),
        secret=bool(raw.get("secret", kind is ParameterType.PASSWORD)),
        editable=bool(raw.get("editable", False)),
    )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
