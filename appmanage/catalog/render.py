"""Render a catalog app into its app folder: the template's files and a private `.env`.

The folder is written whole beside its place, then swapped in (`folder_swap.py`): files
of an older version do not linger, a crash mid-render leaves the previous folder as it
was, and what the app itself wrote into its folder (a bind-mounted `./data`) is kept.

Template files are copied as regular files and folders, never as links: a link that
points inside the template is copied as what it points to; a template with a link that
points outside it (`catalog/symlinks.py`) is refused, as is one whose links loop.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

from appmanage.catalog.folder_swap import scratch_folder, swap_in, write_manifest
from appmanage.catalog.model import CatalogApp
from appmanage.catalog.symlinks import link_target, outside_links
from appmanage.errors import ValidationFailed

ENV_FILE = ".env"
CATALOG_APP_FILE = ".appmanage-catalog-app"
WRITTEN_LINE = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def render(app: CatalogApp, target: Path, name: str, version: str, values: Mapping[str, str]) -> Path:
    """Write the app folder and return the compose file in it."""
    _refuse_outside_links(app)
    scratch = scratch_folder(target)
    try:
        root = app.folder.resolve()
        for source in sorted(app.folder.iterdir()):
            if source.name in app.skip_files or source.name == ENV_FILE:
                continue
            _copy(app, root, source, scratch / source.name, frozenset({root}))
        identity = {"APP_NAME": name, "APP_VERSION": version, **dict.fromkeys(app.name_keys, name)}
        env = {**identity, **app.version_env.get(version, {}), **values}
        write_env(scratch / ENV_FILE, _template_lines(app), env)
        (scratch / CATALOG_APP_FILE).write_text(f"{app.name}\n")
        write_manifest(scratch)
        swap_in(scratch, target)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return target / app.compose_file


def _refuse_outside_links(app: CatalogApp) -> None:
    copied = [(path, to) for path, to in outside_links(app.folder) if _top(path) not in app.skip_files]
    if copied:
        links = ", ".join(f"{path} -> {to}" for path, to in copied)
        raise ValidationFailed(
            f"the template of {app.name} ({app.folder}) has links that point outside it: {links}; "
            "it is not rendered: replace the links by the files themselves in the catalog"
        )


def _top(path: str) -> str:
    return path.split("/", 1)[0]


def _copy(app: CatalogApp, root: Path, source: Path, destination: Path, copying: frozenset[Path]) -> None:
    """A file, or a folder with everything in it, links replaced by what they point to."""
    real = link_target(source) if source.is_symlink() else source.resolve()
    if real is None or not real.is_relative_to(root):
        raise ValidationFailed(f"the template of {app.name} has a link that loops or leaves it: {source}")
    if real.is_dir():
        if real in copying:
            raise ValidationFailed(f"the template of {app.name} has a link that loops: {source}")
        destination.mkdir()
        shutil.copystat(real, destination)
        for entry in sorted(real.iterdir()):
            _copy(app, root, entry, destination / entry.name, copying | {real})
    elif real.is_file():
        shutil.copy2(real, destination)
    else:
        what = "points to nothing" if source.is_symlink() else "is neither a file nor a folder"
        raise ValidationFailed(f"the template of {app.name} has {source.relative_to(app.folder)}, which {what}")


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


def read_written_env(path: Path) -> dict[str, str]:
    """The values `write_env` wrote to `path` (its quoted lines), unescaped."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = WRITTEN_LINE.fullmatch(line)
        if match is not None:
            values[match.group(1)] = re.sub(r"\\(.)", r"\1", match.group(2))
    return values


def rendered_catalog_app(folder: Path) -> str | None:
    """The catalog app an app folder was rendered from; None for folders from before
    this was recorded."""
    try:
        return (folder / CATALOG_APP_FILE).read_text().strip() or None
    except OSError:
        return None
