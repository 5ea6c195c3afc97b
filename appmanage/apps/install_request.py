"""What installApp and previewInstall are asked, read once from their input: a catalog app
with its version and settings, or the operator's own compose file with its `.env`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from appmanage.apps.custom import check_source
from appmanage.apps.settings_input import GivenSetting, given_settings
from appmanage.catalog.custom_project import CustomFiles


@dataclass(frozen=True)
class InstallRequest:
    name: str
    host: str | None = None
    """None: placement chooses."""
    catalog_app: str | None = None
    version: str | None = None
    given: dict[str, str] = field(default_factory=dict)
    files: CustomFiles | None = None
    """The operator's own files; None for a catalog app."""

    @classmethod
    def of(
        cls,
        name: str,
        catalog_app: str | None = None,
        version: str | None = None,
        settings: Iterable[GivenSetting] | None = None,
        host: str | None = None,
        compose: str | None = None,
        env: str | None = None,
    ) -> InstallRequest:
        """Exactly one source (`check_source`), each setting given once."""
        given = given_settings(settings)
        check_source(catalog_app, compose, env, version, bool(given))
        files = None if compose is None else CustomFiles(compose, env)
        return cls(name, host, catalog_app, version, given, files)
