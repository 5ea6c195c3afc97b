"""App folders are written whole and swapped in: old files go, the app's data stays, a
crash leaves the previous folder, and template links that leave the template are refused."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from appmanage.catalog import render as render_module
from appmanage.catalog.folder_swap import UNFINISHED
from appmanage.catalog.model import CatalogApp
from appmanage.catalog.render import render
from appmanage.catalog.symlinks import outside_links
from appmanage.errors import ValidationFailed


def template(folder: Path, files: dict[str, str]) -> CatalogApp:
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return CatalogApp(
        name="tpl",
        title="Template",
        versions=("1",),
        default_version="1",
        parameters=(),
        source=str(folder.parent),
        folder=folder,
        compose_file="compose.yaml",
    )


def siblings(target: Path) -> list[str]:
    return sorted(p.name for p in target.parent.iterdir() if p.name != target.name)


def test_a_new_render_replaces_the_template_files_and_keeps_the_apps_data(tmp_path: Path) -> None:
    target = tmp_path / "apps" / "myapp"
    first = template(
        tmp_path / "v1", {"compose.yaml": "v1", "old.txt": "only in v1", "conf/a.conf": "a1", "conf/gone.conf": "g"}
    )
    render(first, target, "myapp", "1", {"PASSWORD": "p1"})
    (target / "data").mkdir()
    (target / "data" / "db.bin").write_text("rows")
    (target / "conf" / "runtime.log").write_text("written by the app")

    second = template(tmp_path / "v2", {"compose.yaml": "v2", "conf/a.conf": "a2"})
    assert render(second, target, "myapp", "1", {"PASSWORD": "p2"}) == target / "compose.yaml"

    assert (target / "compose.yaml").read_text() == "v2"
    assert not (target / "old.txt").exists(), "a file of the older version lingers"
    assert not (target / "conf" / "gone.conf").exists()
    assert (target / "conf" / "a.conf").read_text() == "a2"
    assert (target / "data" / "db.bin").read_text() == "rows"
    assert (target / "conf" / "runtime.log").read_text() == "written by the app"
    assert 'PASSWORD="p2"' in (target / ".env").read_text()
    assert stat.S_IMODE((target / ".env").stat().st_mode) == 0o600
    assert siblings(target) == []


def test_a_crash_mid_render_leaves_the_previous_folder_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "apps" / "myapp"
    render(template(tmp_path / "v1", {"compose.yaml": "v1", "a.txt": "a1"}), target, "myapp", "1", {"K": "1"})
    before = {p.relative_to(target): p.read_bytes() for p in target.rglob("*") if p.is_file()}

    def disk_full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(render_module, "write_env", disk_full)
    second = template(tmp_path / "v2", {"compose.yaml": "v2", "b.txt": "b2"})
    with pytest.raises(OSError, match="No space"):
        render(second, target, "myapp", "1", {"K": "2"})
    after = {p.relative_to(target): p.read_bytes() for p in target.rglob("*") if p.is_file()}
    assert after == before
    assert siblings(target) == []


def test_what_a_killed_render_left_is_cleaned_up_or_put_back(tmp_path: Path) -> None:
    target = tmp_path / "apps" / "myapp"
    app = template(tmp_path / "v1", {"compose.yaml": "v1"})
    render(app, target, "myapp", "1", {})
    (target / "data").mkdir()
    (target / "data" / "db.bin").write_text("rows")
    unfinished = target.parent / ".myapp.render-dead"
    unfinished.mkdir()
    (unfinished / UNFINISHED).touch()
    (unfinished / "compose.yaml").write_text("half")
    target.rename(target.parent / ".myapp.previous-dead")  # killed between the two renames

    render(app, target, "myapp", "1", {})
    assert (target / "data" / "db.bin").read_text() == "rows"
    assert (target / "compose.yaml").read_text() == "v1"
    assert siblings(target) == []


def test_links_that_leave_the_template_are_listed_and_refused(tmp_path: Path) -> None:
    secret = tmp_path / "host-secret"
    secret.write_text("host only")
    folder = tmp_path / "tpl"
    app = template(folder, {"compose.yaml": "x", "src/about.html": "about"})
    (folder / "etc").symlink_to("/etc")
    (folder / "src" / "shadow").symlink_to(secret)
    (folder / "src" / "up").symlink_to("../../")
    (folder / "src" / "alias.html").symlink_to("about.html")

    assert outside_links(folder) == [("etc", "/etc"), ("src/shadow", str(secret)), ("src/up", str(tmp_path))]
    target = tmp_path / "apps" / "myapp"
    with pytest.raises(ValidationFailed) as refused:
        render(app, target, "myapp", "1", {})
    assert "etc -> /etc" in refused.value.message
    assert f"src/shadow -> {secret}" in refused.value.message
    assert not target.parent.exists(), "nothing is written for a refused template"


def test_links_inside_the_template_are_copied_as_their_content(tmp_path: Path) -> None:
    folder = tmp_path / "tpl"
    app = template(folder, {"compose.yaml": "x", "src/about.html": "about"})
    (folder / "src" / "alias.html").symlink_to("about.html")
    (folder / "www").symlink_to("src")
    assert outside_links(folder) == []

    target = tmp_path / "apps" / "myapp"
    render(app, target, "myapp", "1", {})
    copied = [target / "src" / "alias.html", target / "www", target / "www" / "about.html"]
    assert not any(path.is_symlink() for path in copied)
    assert (target / "src" / "alias.html").read_text() == "about"
    assert (target / "www" / "alias.html").read_text() == "about"
    assert not any(os.path.islink(p) for p in target.rglob("*"))


def test_links_that_loop_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "tpl"
    app = template(folder, {"compose.yaml": "x", "src/a.txt": "a"})
    (folder / "src" / "again").symlink_to(".")
    with pytest.raises(ValidationFailed, match="loops"):
        render(app, tmp_path / "apps" / "myapp", "myapp", "1", {})
