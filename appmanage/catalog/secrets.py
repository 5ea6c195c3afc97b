"""Which settings are secret, and the mask that stands for them wherever they are shown.

One rule: a key is secret when its catalog parameter says so, and also when the catalog
(no longer) knows the key or the app, since nothing then says it is safe to show. The
API hides such values (`settings`, previews), job logs mask them (`jobs/masking.py`).
An operator's own compose app has no catalog: its `.env` keys that look secret are.
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


SECRET_WORDS = ("PASS", "SECRET", "TOKEN", "KEY", "CREDENTIAL", "AUTH", "PRIVATE", "SALT", "CERT")
"""An operator's own `.env` has no catalog to say which keys are secret: a key that holds one
of these words is (PASSWORD, DB_PASSWD, API_KEY, JWT_SECRET, ...)."""


def looks_secret(key: str) -> bool:
    upper = key.upper()
    return any(word in upper for word in SECRET_WORDS)


def custom_secret_values(env: Mapping[str, str]) -> list[str]:
    """The non-empty values of the secret-looking keys of a custom app's `.env`."""
    return [value for key, value in env.items() if value and looks_secret(key)]
