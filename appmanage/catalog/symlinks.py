"""Symlinks in a template's files: which of them point outside the template.

A template is third-party content; a link in it to `/etc/shadow` or `../../other-app`
would copy or mount a host file into the app. Rendering refuses such links, and the
host-access review names them (warning kind `template-symlink`). The template folder
itself may be a link (a catalog laid out with links); what it holds is judged against
the folder it resolves to.
"""

from __future__ import annotations

import os
from pathlib import Path


def outside_links(folder: Path) -> list[tuple[str, str]]:
    """(path relative to `folder`, resolved target) of every symlink under `folder` whose
    target lies outside it, in path order; a link that loops counts as outside."""
    root = folder.resolve()
    found: list[tuple[str, str]] = []
    for current, directories, files in os.walk(folder):
        for entry in [*directories, *files]:
            path = Path(current) / entry
            if path.is_symlink():
                target = link_target(path)
                if target is None or not target.is_relative_to(root):
                    found.append((path.relative_to(folder).as_posix(), str(target or os.readlink(path))))
    return sorted(found)


def link_target(path: Path) -> Path | None:
    """Where a link leads, every link on the way followed; None when it loops."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return None
