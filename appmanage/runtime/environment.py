"""The environment of every subprocess AppManage starts against Docker (compose, the
docker CLI): what reaching Docker needs, and nothing of AppManage's own.

Compose lets the shell environment win over an app's `.env`, so passing `os.environ` on
would hand a template AppManage's secrets (`${APPMANAGE_ADMIN_TOKEN}`) and let a
worker's `HTTP_PORT` or `DB_PASSWORD` silently override every app's settings. An app's
variables come from its own `.env` only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

KEPT = frozenset({"PATH", "HOME"})
KEPT_PREFIXES = ("DOCKER_",)
PROXIES = frozenset(
    name
    for base in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "FTP_PROXY")
    for name in (base, base.lower())
)
FIXED = {"COMPOSE_STATUS_STDOUT": "1"}


def subprocess_environment(source: Mapping[str, str] | None = None) -> dict[str, str]:
    """PATH, HOME, DOCKER_* and the proxy variables of `source` (our own environment by
    default), plus the fixed settings compose needs from us."""
    environ = os.environ if source is None else source
    kept = {key: value for key, value in environ.items() if _kept(key)}
    return {**kept, **FIXED}


def _kept(key: str) -> bool:
    return key in KEPT or key in PROXIES or key.startswith(KEPT_PREFIXES)
