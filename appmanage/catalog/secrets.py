"""Which settings are secret, and the mask that stands for them wherever they are shown.

One rule: a key is secret when its catalog parameter says so, and also when the catalog
(no longer) knows the key or the app, since nothing then says it is safe to show. The
API hides such values (`settings`, previews), job logs mask them (`jobs/masking.py`).
"""

from __future__ import annotations

from collections.abc import Mapping

from appmanage.catalog.model import CatalogApp

MASK = "********"


def is_secret(catalog_app: CatalogApp | None, key: str) -> bool:
    param = catalog_app.parameter(key) if catalog_app is not None else None
    return param is None or param.secret


def secret_values(catalog_app: CatalogApp | None, settings: Mapping[str, str]) -> list[str]:
    """The non-empty values of the secret settings."""
    return [str(value) for key, value in settings.items() if value and is_secret(catalog_app, key)]
