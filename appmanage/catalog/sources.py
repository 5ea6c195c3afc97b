"""The catalog: every configured source folder, each app folder detected by its format."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from appmanage.catalog.model import CatalogApp, CatalogProblem
from appmanage.catalog.native import TemplateError, is_native_app, load_native_app
from appmanage.catalog.websoft9 import app_folders, is_websoft9_library, load_websoft9_app

Loader = Callable[[Path, str], CatalogApp]


@dataclass
class Catalog:
    apps: dict[str, CatalogApp] = field(default_factory=dict)
    problems: list[CatalogProblem] = field(default_factory=list)

    def get(self, name: str) -> CatalogApp | None:
        return self.apps.get(name)

    def search(self, text: str | None) -> list[CatalogApp]:
        apps = sorted(self.apps.values(), key=lambda a: a.name)
        if not text:
            return apps
        needle = text.lower()
        return [a for a in apps if needle in f"{a.name} {a.title} {a.description or ''}".lower()]

    @classmethod
    def load(cls, folders: Iterable[Path]) -> Catalog:
        catalog = cls()
        for folder in folders:
            catalog._load_source(folder)
        return catalog

    def _load_source(self, root: Path) -> None:
        source = str(root)
        if not root.is_dir():
            self.problems.append(CatalogProblem(source, "", "the catalog folder does not exist"))
            return
        for folder, load in _app_folders(root):
            try:
                app = load(folder, source)
            except (TemplateError, OSError, ValueError) as exc:
                self.problems.append(CatalogProblem(source, folder.name, str(exc)))
                continue
            if app.name in self.apps:
                first = self.apps[app.name].source
                self.problems.append(CatalogProblem(source, app.name, f"the name is taken by {first}"))
                continue
            self.apps[app.name] = app


def _app_folders(root: Path) -> list[tuple[Path, Loader]]:
    """A Websoft9 library gives every app folder to its loader; a native catalog only the
    folders that have a manifest."""
    if is_websoft9_library(root):
        return [(folder, load_websoft9_app) for folder in app_folders(root)]
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    return [(folder, load_native_app) for folder in folders if is_native_app(folder)]
