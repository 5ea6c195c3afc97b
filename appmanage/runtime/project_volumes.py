"""The named volumes of a compose project as a backup reads them: each one's compose key,
driver and the folder on this host that holds its data (the `local` driver's Mountpoint)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import DockerException
from requests.exceptions import RequestException

from appmanage.runtime.containers import DockerUnavailable
from appmanage.runtime.volumes import PROJECT_LABEL, project_volumes

VOLUME_LABEL = "com.docker.compose.volume"


@dataclass(frozen=True)
class ProjectVolume:
    name: str
    key: str
    """The volume's name in the compose file (`notes`), the same in a clone."""
    driver: str
    mountpoint: Path

    @property
    def readable_here(self) -> bool:
        """Its data is a folder of this host (the `local` driver)."""
        return self.driver == "local" and self.mountpoint.is_dir()


def volume_details(api: docker.APIClient, project: str) -> list[ProjectVolume]:
    """The volumes labelled as the compose project `project`'s, by name."""
    found = []
    try:
        for name in project_volumes(api, project):
            raw = api.inspect_volume(name)
            labels = raw.get("Labels") or {}
            if labels.get(PROJECT_LABEL) != project:
                continue
            found.append(
                ProjectVolume(
                    name, str(labels.get(VOLUME_LABEL) or name), str(raw.get("Driver")), Path(raw["Mountpoint"])
                )
            )
    except (DockerException, RequestException) as exc:
        raise DockerUnavailable(str(exc)) from exc
    return found
