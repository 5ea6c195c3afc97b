"""The catalog's resolvers: its apps (searched in memory) and the templates it could not read."""

from __future__ import annotations

from appmanage.catalog.model import CatalogApp, CatalogProblem
from appmanage.services import Services


def catalog_apps(services: Services, search: str | None) -> list[CatalogApp]:
    return list(services.catalog.search(search))


def catalog_app(services: Services, name: str) -> CatalogApp | None:
    return services.catalog.get(name)


def catalog_problems(services: Services) -> list[CatalogProblem]:
    return list(services.catalog.problems)
