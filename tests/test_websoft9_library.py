"""The sample of the real Websoft9 docker-library in ../shared/catalogs/websoft9: what
`docker compose config` accepts as shipped loads and previews; the rest is reported."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from appmanage.apps import validation
from appmanage.apps.plan import validate_install
from appmanage.catalog.dotenv import parse_env
from appmanage.catalog.sources import Catalog
from appmanage.catalog.websoft9 import app_folders
from appmanage.config import Settings
from appmanage.runtime.compose import detect_compose_command
from appmanage.runtime.host import HostResources
from appmanage.services import Services
from tests.support.graphql import GraphQLClient
from tests.support.ports import free_port
from tests.support.run import RUN_ID

LIBRARY = Path(__file__).resolve().parents[2] / "shared" / "catalogs" / "websoft9"
UNFILLED = re.compile(r"\$\$?\{?W9_")

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(not LIBRARY.is_dir(), reason="../shared/catalogs/websoft9 is not beside this checkout"),
]


def compose_accepts(folder: Path, *files: str) -> bool:
    argv = [*detect_compose_command(), *(a for f in files for a in ("-f", f)), "config", "-q"]
    return subprocess.run(argv, cwd=folder, capture_output=True, timeout=60).returncode == 0


@pytest.fixture(scope="module")
def library() -> Catalog:
    return Catalog.load([LIBRARY])


def test_what_compose_accepts_as_shipped_loads_and_the_rest_is_a_problem(library: Catalog) -> None:
    folders = app_folders(LIBRARY)
    accepted = {f.name for f in folders if compose_accepts(f)}
    problems = {p.app: p.message for p in library.problems}
    assert set(library.apps) == accepted
    assert set(problems) == {f.name for f in folders} - accepted
    assert all(problems.values())
    assert all(p.source == str(LIBRARY) for p in library.problems)


@pytest.fixture
def library_services(settings: Settings, api: GraphQLClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """The test run's services over the library; the host is large enough for every app."""
    monkeypatch.setattr(validation, "host_resources", lambda _: HostResources(cpu=64, memory=256, disk=4096))
    services = Services(replace(settings, catalogs=(LIBRARY,)))
    yield services
    services.close()


@pytest.mark.docker
def test_every_loaded_template_previews_to_a_project_compose_accepts(
    library: Catalog, library_services: Services, settings: Settings, tmp_path: Path
) -> None:
    assert library.apps
    for app in library.apps.values():
        ports: set[int] = set()
        while len(ports) < len(app.port_keys):
            ports.add(free_port())
        given = dict(zip(app.port_keys, map(str, sorted(ports)), strict=True))
        plan = validate_install(library_services, app.name, f"{RUN_ID}-{app.name}", None, given)
        rendered = tmp_path / f"{app.name}.yml"
        rendered.write_text(plan.project.compose)
        assert compose_accepts(tmp_path, rendered.name), app.name
        project: dict[str, Any] = yaml.safe_load(plan.project.compose)
        environments = [s.get("environment") or {} for s in project["services"].values()]
        filled = {key: value for env in environments for key, value in env.items() if key.startswith("W9_")}
        assert all(filled.values()), (app.name, filled)
        template = {k for k in parse_env((app.folder / ".env").read_text()) if k.startswith("W9_")}
        assert not filled or template <= set(filled), (app.name, template - set(filled))
        assert not UNFILLED.search(plan.project.compose), app.name
    assert not list(settings.apps_dir.glob(".preview-*"))
