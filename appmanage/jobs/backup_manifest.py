"""What a snapshot holds besides the files, for its restore: the App row as it was, the app
folder's path and each volume's compose key, name and the path it was read from. restic
keeps absolute paths; this file, written into the app folder before the copy
(MANIFEST_NAME), says which restored path is what. The Backup row keeps the same JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from appmanage.storage.models import App

MANIFEST_NAME = ".appmanage-backup.json"
FORMAT = 1


@dataclass(frozen=True)
class VolumeCopy:
    key: str
    name: str
    path: str


@dataclass(frozen=True)
class Manifest:
    app: str
    catalog_app: str | None
    source: str
    version: str
    host: str
    settings: dict[str, str]
    host_ports: list[int]
    folder: str
    volumes: list[VolumeCopy] = field(default_factory=list)
    format: int = FORMAT

    @classmethod
    def of(cls, app: App, folder: Path, volumes: list[VolumeCopy]) -> Manifest:
        return cls(
            app.name,
            app.catalog_app,
            app.source,
            app.version,
            app.host,
            {str(k): str(v) for k, v in app.settings.items()},
            [int(p) for p in app.host_ports],
            str(folder),
            volumes,
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        return cls(
            str(data["app"]),
            data.get("catalog_app"),
            str(data.get("source") or ""),
            str(data["version"]),
            str(data.get("host") or ""),
            {str(k): str(v) for k, v in (data.get("settings") or {}).items()},
            [int(p) for p in data.get("host_ports") or ()],
            str(data["folder"]),
            [VolumeCopy(str(v["key"]), str(v["name"]), str(v["path"])) for v in data.get("volumes") or ()],
            int(data.get("format") or FORMAT),
        )

    def write(self, folder: Path) -> None:
        (folder / MANIFEST_NAME).write_text(json.dumps(self.to_json(), indent=2))


def staged(staging: Path, path: str) -> Path:
    """Where `restic restore --target staging` put the absolute `path`."""
    return staging / path.lstrip("/")
