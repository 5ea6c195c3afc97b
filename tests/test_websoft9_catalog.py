"""The Websoft9 catalog format without Docker: loading, settings, rendering, problems,
requirements and warnings."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from appmanage.catalog.dotenv import parse_env
from appmanage.catalog.model import Requirements
from appmanage.catalog.params import resolve_settings
from appmanage.catalog.render import render
from appmanage.catalog.requirements import unmet
from appmanage.catalog.sources import Catalog
from appmanage.catalog.warnings import WarningKind, project_warnings
from appmanage.config import SHIPPED_CATALOG, Settings
from appmanage.enums import ParameterType
from appmanage.errors import ValidationFailed
from tests.support.websoft9 import BROKEN, WEBSOFT9, fixture_catalog


def test_a_websoft9_app_folder_loads_as_it_is() -> None:
    catalog = fixture_catalog()
    assert catalog.problems == []
    app = catalog.apps["w9hello"]
    assert (app.title, app.versions, app.default_version) == ("Hello (Websoft9 format)", ("1", "2"), "1")
    assert app.source == str(WEBSOFT9)
    assert app.requirements == Requirements(cpu=1, memory=1, disk=1)
    assert app.version_env["2"] == {"W9_VERSION": "2", "W9_DIST": "community"}
    assert (app.name_keys, app.network_keys, app.env_template) == (("W9_ID",), ("W9_NETWORK",), ".env")
    params = {p.key: p for p in app.parameters}
    assert list(params) == ["W9_POWER_PASSWORD", "W9_HTTP_PORT_SET", "W9_URL", "W9_NETWORK"]
    port = params["W9_HTTP_PORT_SET"]
    assert (port.type, port.default, port.editable, port.label) == (ParameterType.PORT, "9001", True, "HTTP port")
    password = params["W9_POWER_PASSWORD"]
    assert (password.secret, password.default, password.editable) == (True, None, False)
    assert params["W9_URL"].default_from == "{host}:{W9_HTTP_PORT_SET}"
    assert params["W9_NETWORK"].default == "websoft9"


def test_a_secret_that_refers_to_another_stays_derived() -> None:
    app = fixture_catalog().apps["w9hello"]
    assert app.parameter("W9_LOGIN_PASSWORD") is None
    assert app.parameter("W9_RCODE") is None
    assert fixture_catalog().apps["w9risky"].parameter("W9_RCODE") is not None


def test_settings_generate_secrets_and_derive_the_url() -> None:
    app = fixture_catalog().apps["w9hello"]
    values = resolve_settings(app, {"W9_HTTP_PORT_SET": "18080"}, host="box.example")
    assert values["W9_URL"] == "box.example:18080"
    assert values["W9_POWER_PASSWORD"] not in ("", "Fixture!Pass1")
    assert values["W9_NETWORK"] == "websoft9"
    given = resolve_settings(app, {"W9_URL": "apps.example.com"}, host="box.example")
    assert given["W9_URL"] == "apps.example.com"
    with pytest.raises(ValidationFailed) as invalid:
        resolve_settings(app, {"W9_NETWORK": "no spaces"})
    assert invalid.value.field == "W9_NETWORK"


def test_render_sets_name_version_and_settings_and_keeps_every_other_line(tmp_path: Path) -> None:
    app = fixture_catalog().apps["w9hello"]
    values = {"W9_POWER_PASSWORD": "s3cret$x", "W9_HTTP_PORT_SET": "18080", "W9_URL": "h:18080", "W9_NETWORK": "n1"}
    render(app, tmp_path, "myhello", "2", values)
    text = (tmp_path / ".env").read_text()
    env = parse_env(text)
    assert (env["W9_ID"], env["W9_VERSION"], env["W9_DIST"]) == ("myhello", "2", "community")
    assert env["W9_HTTP_PORT_SET"] == "18080"
    assert 'W9_POWER_PASSWORD="s3cret\\$x"' in text
    assert "W9_LOGIN_PASSWORD=$W9_POWER_PASSWORD\n" in text
    assert 'GREETING="hello from $W9_ID"\n' in text
    assert "#### --  Not allowed to edit below environments" in text
    assert (tmp_path / "src" / "about.html").is_file()
    assert (tmp_path / "variables.json").is_file()


def test_unreadable_templates_are_problems_not_crashes() -> None:
    catalog = Catalog.load([BROKEN])
    assert catalog.apps == {}
    problems = {p.app: p.message for p in catalog.problems}
    assert all(p.source == str(BROKEN) for p in catalog.problems)
    assert problems["badyaml"].startswith("docker-compose.yml cannot be read")
    assert problems["servicelist"] == "docker-compose.yml: services must be a mapping"
    assert problems["noenv"].startswith(".env cannot be read")
    assert problems["missingenvfile"] == "docker-compose.yml: service web needs the missing env_file extra.env"
    assert problems["noversions"].startswith("no versions")


def test_a_name_in_two_sources_is_a_problem(tmp_path: Path) -> None:
    library = tmp_path / "library"
    shutil.copytree(WEBSOFT9, library / "apps")
    catalog = Catalog.load([WEBSOFT9, library])
    assert sorted(catalog.apps) == ["w9big", "w9hello", "w9risky"]
    assert all(a.source == str(WEBSOFT9) for a in catalog.apps.values())
    assert {(p.source, p.app) for p in catalog.problems} == {
        (str(library), "w9big"),
        (str(library), "w9hello"),
        (str(library), "w9risky"),
    }
    assert catalog.problems[0].message == f"the name is taken by {WEBSOFT9}"


def test_sources_are_detected_per_catalog_folder() -> None:
    catalog = Catalog.load([SHIPPED_CATALOG, WEBSOFT9])
    assert catalog.apps["hello"].env_template is None
    assert catalog.apps["w9hello"].env_template == ".env"


def test_env_values_read_as_compose_reads_them() -> None:
    env = parse_env("A='x # y'\nB=\"q\"\nC=plain # comment\n# D=no\nE=$A-z\nexport F=1\n")
    assert env == {"A": "x # y", "B": "q", "C": "plain", "E": "$A-z", "F": "1"}


def test_unmet_requirements_name_both_numbers() -> None:
    needs = Requirements(cpu=4, memory=8, disk=10)
    assert unmet(needs, cpu=8, memory=7.7, disk=100) == []
    assert unmet(needs, cpu=2, memory=3.5, disk=2.25) == [
        "needs 4 CPU cores, this host has 2",
        "needs 8 GB of memory, this host has 3.5",
        "needs 10 GB of free disk, this host has 2.2",
    ]


def test_warnings_from_a_rendered_project() -> None:
    folder = Path("/data/apps/x")
    project = {
        "services": {
            "a": {
                "image": "busybox",
                "privileged": True,
                "network_mode": "host",
                "pid": "host",
                "volumes": [
                    {"type": "bind", "source": "/var/run/docker.sock", "target": "/var/run/docker.sock"},
                    {"type": "bind", "source": "/etc", "target": "/host/etc"},
                    {"type": "bind", "source": "/data/apps/x/src/a.conf", "target": "/a.conf"},
                    {"type": "bind", "source": "/data/apps/x/../y", "target": "/y"},
                    {"type": "volume", "source": "data", "target": "/data"},
                ],
            },
            "b": {"image": "registry:5000/team/tool:1.2"},
            "c": {"image": "tool@sha256:abc"},
            "d": {"image": "x-d", "build": {"context": "."}},
        }
    }
    warnings = project_warnings(project, folder)
    assert [(w.kind, w.service) for w in warnings] == [
        (WarningKind.PRIVILEGED, "a"),
        (WarningKind.HOST_NETWORK, "a"),
        (WarningKind.HOST_PID, "a"),
        (WarningKind.DOCKER_SOCKET, "a"),
        (WarningKind.BIND_MOUNT, "a"),
        (WarningKind.BIND_MOUNT, "a"),
        (WarningKind.UNTAGGED_IMAGE, "a"),
    ]
    assert str(warnings[4]) == "bind-mount: service a mounts /etc from outside the app folder"


def test_refuse_accepts_only_warning_kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APPMANAGE_REFUSE", "privileged, Docker-Socket")
    assert Settings.from_env().refuse == {"privileged", "docker-socket"}
    monkeypatch.setenv("APPMANAGE_REFUSE", "privileged,sudo")
    with pytest.raises(ValueError, match="sudo"):
        Settings.from_env()
