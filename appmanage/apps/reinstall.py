"""Installing a name again over what an uninstall without purge kept: its volumes (found
by compose's project label) and its app folder with the `.env` of its settings.

The settings that pair with the data are the secret and the non-editable parameters
(passwords, database users: what "cannot be changed after install"). When the same
catalog app is installed again under the name, and the operator gives no different value
for one of those, they are taken from the kept `.env`, so a new install never meets old
data with a fresh generated password. When they cannot be taken (another catalog app,
the operator gives another value, no kept `.env`), and volumes of the name survive, the
install is refused with a Conflict that names the volumes. Editable settings (ports,
URLs) follow what the operator gives, as for any install.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from appmanage.catalog.model import CatalogApp
from appmanage.catalog.render import ENV_FILE, read_written_env, rendered_catalog_app
from appmanage.errors import Conflict, Unavailable
from appmanage.runtime.containers import DockerUnavailable
from appmanage.runtime.volumes import project_volumes
from appmanage.services import Services


def settings_over_kept_data(
    services: Services, catalog_app: CatalogApp, name: str, given: Mapping[str, str]
) -> dict[str, str]:
    """`given` with the kept values of the settings bound to the data added; raises
    Conflict when volumes survive and those settings cannot be reused."""
    folder = services.settings.app_dir(name)
    try:
        volumes = project_volumes(services.containers.api, name)
    except DockerUnavailable as exc:
        raise Unavailable(f"Docker does not answer, so nothing can be installed now: {exc}") from exc
    kept, reason = _kept_settings(catalog_app, folder, given)
    if kept is not None:
        return {**given, **kept}
    if volumes:
        listed = ", ".join(volumes)
        raise Conflict(
            f"volumes of an earlier install named {name} are kept ({listed}), and {reason}: "
            "a new install would pair new settings with the old data. Install the same catalog app "
            f"without giving other values for its secrets, or remove the volumes first (docker volume rm {listed})"
        )
    return dict(given)


def _kept_settings(
    catalog_app: CatalogApp, folder: Path, given: Mapping[str, str]
) -> tuple[dict[str, str] | None, str]:
    """The kept values to reuse, or None and why they cannot be."""
    try:
        env = read_written_env(folder / ENV_FILE)
    except OSError:
        return None, f"their settings are not kept in {folder / ENV_FILE}"
    bound = [p for p in catalog_app.parameters if p.secret or not p.editable]
    earlier = rendered_catalog_app(folder)
    if earlier is not None and earlier != catalog_app.name:
        return None, f"they belong to the catalog app {earlier}, not {catalog_app.name}"
    if earlier is None and any(p.secret and p.key not in env for p in bound):
        return None, f"the settings kept in {folder / ENV_FILE} are not those of {catalog_app.name}"
    differing = [p.key for p in bound if p.key in given and p.key in env and given[p.key] != env[p.key]]
    if differing:
        return None, f"other values are given for {', '.join(differing)}"
    return {p.key: env[p.key] for p in bound if p.key in env and p.key not in given}, ""
