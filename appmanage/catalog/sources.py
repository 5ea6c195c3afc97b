"""The catalog: every configured source folder, each app folder detected by its format."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from appmanage.catalog.model import CatalogApp, CatalogProblem
from appmanage.catalog.native import TemplateError, is_native_app, load_native_app


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
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if not is_native_app(folder):
                continue
            try:
                app = load_native_app(folder, source)
            except TemplateError as exc:
                self.problems.append(CatalogProblem(source, folder.name, str(exc)))
                continue
            if app.name in self.apps:
                first = self.apps[app.name].source
                self.problems.append(CatalogProblem(source, app.name, f"the name is taken by {first}"))
                continue
            self.apps[app.name] = app
