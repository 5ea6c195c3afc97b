"""Where a host path of a rendered project really leads: inside the app folder or not, and
whether it exposes the Docker socket. Symlinks are followed before anything is judged, so
an app folder entry linking to `/etc` counts as `/etc`."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

DOCKER_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock")
SOCKET_SUFFIX = "docker.sock"


def docker_sockets() -> tuple[str, ...]:
    """The usual sockets, and the one `DOCKER_HOST` names when it is a unix socket."""
    host = os.environ.get("DOCKER_HOST", "")
    extra = (host.removeprefix("unix://"),) if host.startswith("unix://") else ()
    return DOCKER_SOCKETS + extra


class HostPaths:
    def __init__(self, app_folder: Path, sockets: Iterable[str] | None = None) -> None:
        self.folder = PurePosixPath(os.path.normpath(app_folder))
        self.real_folder = PurePosixPath(os.path.realpath(app_folder))
        known = tuple(docker_sockets() if sockets is None else sockets)
        self.sockets = sorted({os.path.normpath(s) for s in known} | {os.path.realpath(s) for s in known})

    def absolute(self, source: str) -> PurePosixPath:
        """A path as written; a relative one (raw compose) is taken from the app folder."""
        path = PurePosixPath(os.path.expanduser(source))
        return PurePosixPath(os.path.normpath(path if path.is_absolute() else self.folder / path))

    def real(self, source: str) -> PurePosixPath:
        return PurePosixPath(os.path.realpath(self.absolute(source)))

    def inside(self, source: str) -> bool:
        return self.real(source).is_relative_to(self.real_folder)

    def is_socket(self, source: str) -> bool:
        return any(p.name.endswith(SOCKET_SUFFIX) for p in (self.absolute(source), self.real(source)))

    def exposed_socket(self, source: str) -> str | None:
        """The Docker socket this path is, or holds (a bound parent folder such as /var/run)."""
        if self.is_socket(source):
            return source
        for folder in (self.absolute(source), self.real(source)):
            held = next((s for s in self.sockets if PurePosixPath(s).is_relative_to(folder)), None)
            if held is not None:
                return held
        return None

    def describe(self, source: str) -> str:
        """The path, and where it leads when a link inside the app folder leads out of it."""
        written, real = self.absolute(source), self.real(source)
        if written.is_relative_to(self.folder) and not real.is_relative_to(self.real_folder):
            return f"{source} (a link to {real})"
        return source
