"""Host access review: every way a rendered project reaches the host is a named warning kind,
and `APPMANAGE_REFUSE` refuses the kinds it lists at install, redeploy and update alike,
at submission and again in the job right before `up`.

Table-first over parsed `docker compose config` output first; then real templates through
real compose, a real API and a real worker.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from appmanage.catalog.warning_kinds import HOST_ACCESS, WarningKind, parse_refuse, refused, refused_kinds
from appmanage.catalog.warnings import project_warnings, template_warnings
from appmanage.config import Settings
from tests.support.graphql import GraphQLClient
from tests.support.processes import Stack
from tests.support.projects import project_objects, remove_project
from tests.support.run import RUN_ID

IMAGE = "appmanage-local/busybox:1"
SOCKET = "/var/run/docker.sock"


def bind(source: str, target: str = "/mnt") -> dict[str, str]:
    return {"type": "bind", "source": source, "target": target}


def kinds_of(service: dict[str, Any], folder: Path, **top: Any) -> list[tuple[str, str]]:
    project = {"services": {"s": {"image": IMAGE, **service}}, **top}
    return [(w.kind.value, w.detail) for w in project_warnings(project, folder)]


# (what, service, top-level sections, expected (kind, part of the detail) in order)
TABLE: list[tuple[str, dict[str, Any], dict[str, Any], list[tuple[str, str]]]] = [
    ("nothing", {"volumes": [bind("{app}/data"), {"type": "volume", "source": "db", "target": "/db"}]}, {}, []),
    ("privileged", {"privileged": True}, {}, [("privileged", "runs privileged")]),
    ("capabilities", {"cap_add": ["SYS_ADMIN", "NET_RAW"]}, {}, [("capabilities", "SYS_ADMIN, NET_RAW")]),
    (
        "devices, long and short",
        {"devices": [{"source": "/dev/fuse", "target": "/dev/fuse"}, "/dev/kvm:/dev/kvm"]},
        {},
        [("devices", "/dev/fuse, /dev/kvm")],
    ),
    ("device cgroup rules", {"device_cgroup_rules": ["c *:* rmw"]}, {}, [("devices", "c *:* rmw")]),
    (
        "unconfined",
        {"security_opt": ["no-new-privileges:true", "seccomp:unconfined", "apparmor=unconfined", "label:disable"]},
        {},
        [("security-opt", "seccomp:unconfined, apparmor=unconfined, label:disable")],
    ),
    ("host network", {"network_mode": "host"}, {}, [("host-network", "network")]),
    ("host pid", {"pid": "host"}, {}, [("host-pid", "processes")]),
    ("host ipc", {"ipc": "host"}, {}, [("host-ipc", "IPC")]),
    ("host userns", {"userns_mode": "host"}, {}, [("host-userns", "user namespace")]),
    ("host uts", {"uts": "host"}, {}, [("host-uts", "hostname")]),
    ("host cgroup", {"cgroup": "host"}, {}, [("host-cgroup", "cgroup")]),
    ("another container's network", {"network_mode": "container:db1"}, {}, [("container-namespace", "db1")]),
    ("bind, long syntax", {"volumes": [bind("/etc")]}, {}, [("bind-mount", "mounts /etc from outside")]),
    ("bind, short syntax", {"volumes": ["/etc:/host/etc:ro"]}, {}, [("bind-mount", "mounts /etc from outside")]),
    ("bind, short relative inside", {"volumes": ["./data:/data"]}, {}, []),
    ("bind out by ..", {"volumes": [bind("{app}/../other")]}, {}, [("bind-mount", "from outside")]),
    ("bind through a link", {"volumes": [bind("{app}/out/etc")]}, {}, [("bind-mount", "(a link to /etc)")]),
    ("the socket", {"volumes": [bind(SOCKET)]}, {}, [("docker-socket", f"the Docker socket {SOCKET}")]),
    ("the socket, short", {"volumes": [f"{SOCKET}:{SOCKET}"]}, {}, [("docker-socket", SOCKET)]),
    (
        "the socket's folder",
        {"volumes": [bind("/var/run")]},
        {},
        [("docker-socket", f"/var/run, which holds the Docker socket {SOCKET}"), ("bind-mount", "/var/run")],
    ),
    (
        "the root",
        {"volumes": ["/:/host"]},
        {},
        [("docker-socket", "which holds the Docker socket"), ("bind-mount", "mounts / from outside")],
    ),
    (
        "a local volume bound to the host's root",
        {"volumes": [{"type": "volume", "source": "root", "target": "/r"}]},
        {"volumes": {"root": {"driver_opts": {"type": "none", "o": "bind", "device": "/"}}}},
        [("docker-socket", "the volume root, which binds /"), ("host-volume", "the volume root, which binds /")],
    ),
    (
        "a local volume bound to a host folder, short syntax",
        {"volumes": ["srv:/srv"]},
        {"volumes": {"srv": {"driver": "local", "driver_opts": {"o": "rbind,ro", "device": "/srv"}}}},
        [("host-volume", "binds /srv from outside")],
    ),
    (
        "a local volume bound inside the app folder",
        {"volumes": ["own:/own"]},
        {"volumes": {"own": {"driver_opts": {"type": "none", "o": "bind", "device": "{app}/own"}}}},
        [],
    ),
    (
        "an nfs volume",
        {"volumes": ["share:/share"]},
        {"volumes": {"share": {"driver_opts": {"type": "nfs", "o": "addr=10.0.0.1", "device": ":/export"}}}},
        [],
    ),
    (
        "a volume plugin",
        {"volumes": ["p:/p"]},
        {"volumes": {"p": {"driver": "local-persist", "driver_opts": {"mountpoint": "/"}}}},
        [("host-volume", "driver local-persist")],
    ),
    (
        "a secret from a host file",
        {"secrets": [{"source": "shadow", "target": "/run/secrets/x"}, "inside", "env"]},
        {
            "secrets": {
                "shadow": {"file": "/etc/shadow"},
                "inside": {"file": "{app}/s.txt"},
                "env": {"environment": "X"},
            }
        },
        [("host-secret", "reads secret shadow from the host file /etc/shadow")],
    ),
    (
        "a config from a host file",
        {"configs": ["passwd"]},
        {"configs": {"passwd": {"file": "/etc/passwd"}}},
        [("host-config", "reads config passwd from the host file /etc/passwd")],
    ),
    (
        "a build from a host folder",
        {"build": {"context": "/etc", "additional_contexts": {"git": "https://example.com/r.git"}}},
        {},
        [("build-context", "built from /etc")],
    ),
    ("a build inside the app folder", {"build": {"context": "{app}"}, "image": "x"}, {}, []),
    ("an untagged image", {"image": "busybox"}, {}, [("untagged-image", "busybox without a tag")]),
]


def _in(folder: Path, value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("{app}", str(folder))
    if isinstance(value, list):
        return [_in(folder, v) for v in value]
    if isinstance(value, dict):
        return {k: _in(folder, v) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("what", "service", "top", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_each_host_access_form_is_a_warning_naming_the_service(
    tmp_path: Path, what: str, service: dict[str, Any], top: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    folder = tmp_path / "app"
    (folder / "out").mkdir(parents=True)
    (folder / "out" / "etc").symlink_to("/etc")
    found = kinds_of(_in(folder, service), folder, **_in(folder, top))
    assert [kind for kind, _ in found] == [kind for kind, _ in expected], found
    for (_, detail), (_, part) in zip(found, expected, strict=True):
        assert part in detail, (detail, part)
    project = {"services": {"web": {"image": IMAGE, **_in(folder, service)}}, **_in(folder, top)}
    assert all(w.service == "web" and "service web " in str(w) for w in project_warnings(project, folder))


def test_a_template_link_out_of_the_template_is_a_warning(tmp_path: Path) -> None:
    template = tmp_path / "template"
    (template / "conf").mkdir(parents=True)
    (template / "conf" / "main.conf").write_text("x")
    (template / "conf" / "passwd").symlink_to("/etc/passwd")
    (template / "inner").symlink_to("conf/main.conf")
    (template / "app.yaml").symlink_to("/etc/hostname")
    warnings = template_warnings(template, skip_files={"app.yaml"})
    assert [str(w) for w in warnings] == [
        "template-symlink: the template's file conf/passwd links to /etc/passwd, outside it"
    ]
    assert [w.kind for w in template_warnings(template)] == [WarningKind.TEMPLATE_SYMLINK] * 2


def test_refuse_reads_kinds_and_all(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert parse_refuse(" Privileged, host-volume ,") == {"privileged", "host-volume"}
    assert refused_kinds({"all"}) == HOST_ACCESS
    assert WarningKind.UNTAGGED_IMAGE.value not in refused_kinds({"all"})
    assert refused_kinds({"all", "untagged-image"}) == {k.value for k in WarningKind}
    project = {"services": {"a": {"image": "busybox", "cap_add": ["ALL"]}}}
    warnings = project_warnings(project, tmp_path)
    assert [w.kind.value for w in refused(warnings, {"all"})] == ["capabilities"]
    monkeypatch.setenv("APPMANAGE_REFUSE", "ALL")
    assert Settings.from_env().refuse == {"all"}
    monkeypatch.setenv("APPMANAGE_REFUSE", "privileged,host-secrets")
    with pytest.raises(ValueError) as unknown:
        Settings.from_env()
    assert str(unknown.value).startswith("APPMANAGE_REFUSE: unknown warning kinds host-secrets; use all or any of ")
    assert "host-secret," in str(unknown.value)


def test_an_unknown_refused_kind_stops_a_worker_from_starting() -> None:
    env = {**os.environ, "APPMANAGE_REFUSE": "privileged,sudo"}
    done = subprocess.run([sys.executable, "-m", "appmanage", "worker"], env=env, capture_output=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.decode().startswith("appmanage worker: APPMANAGE_REFUSE: unknown warning kinds sudo; use all")


# Real templates, real compose, real API and worker.

# catalog app: (the service's extra lines, top-level sections, the kinds previewInstall names)
DANGEROUS: dict[str, tuple[str, str, set[str]]] = {
    "privileged": ("privileged: true", "", {"privileged"}),
    "caps": ("cap_add: [SYS_ADMIN]", "", {"capabilities"}),
    "devices": ('devices: ["/dev/fuse:/dev/fuse"]', "", {"devices"}),
    "seccomp": ('security_opt: ["seccomp:unconfined", "label:disable"]', "", {"security-opt"}),
    "hostns": (
        "network_mode: host\n    pid: host\n    ipc: host\n    userns_mode: host\n    uts: host",
        "",
        {"host-network", "host-pid", "host-ipc", "host-userns", "host-uts"},
    ),
    "shortbind": ('volumes: ["/etc:/host/etc:ro", "./data:/data"]', "", {"bind-mount"}),
    "longbind": ("volumes:\n      - {type: bind, source: /etc, target: /host/etc}", "", {"bind-mount"}),
    "socket": (f'volumes: ["{SOCKET}:{SOCKET}"]', "", {"docker-socket"}),
    "socketdir": ('volumes: ["/var/run:/host/run"]', "", {"docker-socket", "bind-mount"}),
    "rootvolume": (
        'volumes: ["root:/host"]',
        "volumes:\n  root:\n    driver_opts: {type: none, o: bind, device: /}",
        {"host-volume", "docker-socket"},
    ),
    "shadow": (
        "secrets: [shadow, own]",
        "secrets:\n  shadow: {file: /etc/shadow}\n  own: {file: ./own.txt}",
        {"host-secret"},
    ),
    "passwd": ("configs: [passwd]", "configs:\n  passwd: {file: /etc/passwd}", {"host-config"}),
    "buildetc": ("build: {context: /etc}", "", {"build-context"}),
    "safe": ('volumes: ["./data:/data"]\n    secrets: [own]', "secrets:\n  own: {file: ./own.txt}", set()),
}
GATE_V1 = """services:
  web:
    image: appmanage-local/busybox:1
    init: true
    command: ["sh", "-c", "while true; do sleep 1; done"]
    volumes: ["${DATA_DIR}:/data"]
"""
PREVIEW = """query($input: InstallAppInput!) { previewInstall(input: $input) {
    __typename ... on InstallPreview { warnings } ... on Error { message }
} }"""
REFUSE = "privileged,bind-mount"


def _template(folder: Path, compose: str, manifest: str = 'versions: ["1"]\n') -> None:
    folder.mkdir(parents=True)
    (folder / "app.yaml").write_text(manifest)
    (folder / "compose.yaml").write_text(compose)
    (folder / "own.txt").write_text("own")


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("trust-catalog")
    for name, (service, top, _) in DANGEROUS.items():
        _template(
            root / name, f"services:\n  tool:\n    image: {IMAGE}\n    command: [sleep, '3600']\n    {service}\n{top}\n"
        )
    _template(root / "linked", f"services:\n  tool:\n    image: {IMAGE}\n")
    (root / "linked" / "leak").symlink_to("/etc/passwd")
    gate = root / "gate"
    manifest = 'versions: ["1", "2"]\nparameters:\n  - {key: DATA_DIR, default: ./data, editable: true}\n'
    _template(gate, 'services:\n  web:\n    extends: {file: "v${APP_VERSION}.yaml", service: web}\n', manifest)
    (gate / "v1.yaml").write_text(GATE_V1)
    (gate / "v2.yaml").write_text(GATE_V1 + "    privileged: true\n")
    return root


@pytest.fixture(scope="module")
def stack(settings: Settings, catalog: Path) -> Iterator[Stack]:
    """One worker refusing REFUSE, on its own data folder; no API process (the tests drive
    in-process APIs with and without the refusal)."""
    running = Stack.create(replace(settings, catalogs=(catalog,)), APPMANAGE_REFUSE=REFUSE)
    try:
        running.start(workers=1, watcher=False, api=False)
        yield running
    finally:
        running.remove()


def _api(settings: Settings) -> Iterator[GraphQLClient]:
    from appmanage.app import create_app

    with TestClient(create_app(settings)) as client:
        yield GraphQLClient(client)


@pytest.fixture(scope="module")
def open_api(stack: Stack) -> Iterator[GraphQLClient]:
    """An API that refuses nothing: what it lets through, the worker must still refuse."""
    yield from _api(stack.settings)


@pytest.fixture(scope="module")
def guarded_api(stack: Stack) -> Iterator[GraphQLClient]:
    yield from _api(replace(stack.settings, refuse=parse_refuse(REFUSE)))


@pytest.fixture
def names() -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    for name in made:
        remove_project(name)


def _name(names: list[str], short: str) -> str:
    name = f"{RUN_ID}-{short}-{secrets.token_hex(2)}"[:31].rstrip("-")
    names.append(name)
    return name


def _preview(api: GraphQLClient, catalog_app: str, name: str, **settings: str) -> dict[str, Any]:
    given = [{"key": k, "value": v} for k, v in settings.items()]
    result: dict[str, Any] = api.execute(PREVIEW, input={"catalogApp": catalog_app, "name": name, "settings": given})[
        "previewInstall"
    ]
    return result


@pytest.mark.docker
def test_real_compose_previews_name_each_form(open_api: GraphQLClient, names: list[str]) -> None:
    for catalog_app, (_, _, expected) in DANGEROUS.items():
        result = _preview(open_api, catalog_app, _name(names, "pv"))
        assert result["__typename"] == "InstallPreview", (catalog_app, result)
        kinds = {str(w).split(":", 1)[0] for w in result["warnings"]}
        assert kinds == expected, (catalog_app, result["warnings"])
        assert all(": service tool " in w for w in result["warnings"])
    linked = _preview(open_api, "linked", _name(names, "pv"))
    assert linked["__typename"] == "ValidationError"
    assert "leak -> /etc/passwd" in linked["message"]


@pytest.mark.docker
def test_refused_install_fails_at_submission_and_in_the_job(
    stack: Stack, open_api: GraphQLClient, guarded_api: GraphQLClient, names: list[str]
) -> None:
    name = _name(names, "ri")
    refused_install = guarded_api.install("privileged", name)
    assert refused_install["__typename"] == "ValidationError"
    assert refused_install["message"] == "refused by APPMANAGE_REFUSE: privileged: service tool runs privileged"
    assert guarded_api.app(name) is None

    accepted = open_api.install("shortbind", name)
    assert accepted["__typename"] == "JobAccepted", accepted
    job = open_api.wait_job(accepted["job"]["id"])
    assert job["state"] == "FAILED"
    assert job["error"] == (
        "refused by APPMANAGE_REFUSE: bind-mount: service tool mounts /etc from outside the app folder"
    )
    assert "host access: bind-mount: service tool mounts /etc from outside the app folder" in job["log"]
    assert project_objects(name) == ([], [])


@pytest.mark.docker
def test_refused_redeploy_and_update_leave_the_app_running(
    stack: Stack, open_api: GraphQLClient, guarded_api: GraphQLClient, names: list[str]
) -> None:
    name = _name(names, "ru")
    accepted = guarded_api.install("gate", name, version="1")
    assert accepted["__typename"] == "JobAccepted", accepted
    assert guarded_api.wait_job(accepted["job"]["id"])["state"] == "SUCCEEDED"
    guarded_api.wait_status(name, "RUNNING")
    containers = {c.id for c in project_objects(name)[0]}  # type: ignore[attr-defined]
    env_file = stack.settings.app_dir(name) / ".env"
    rendered = env_file.read_text()

    update = guarded_api.act("updateApp", name=name, version="2")
    assert update["__typename"] == "ValidationError"
    assert update["message"] == "refused by APPMANAGE_REFUSE: privileged: service web runs privileged"
    redeploy = guarded_api.act("redeployApp", name=name, settings=[{"key": "DATA_DIR", "value": "/etc"}])
    assert redeploy["__typename"] == "ValidationError"
    assert (
        redeploy["message"]
        == "refused by APPMANAGE_REFUSE: bind-mount: service web mounts /etc from outside the app folder"
    )

    for mutation, arguments, reason in (
        ("updateApp", {"version": "2"}, "privileged: service web runs privileged"),
        ("redeployApp", {"settings": [{"key": "DATA_DIR", "value": "/etc"}]}, "bind-mount: service web mounts /etc"),
    ):
        slipped = open_api.act(mutation, name=name, **arguments)
        assert slipped["__typename"] == "JobAccepted", slipped
        job = open_api.wait_job(slipped["job"]["id"])
        assert job["state"] == "FAILED", job
        assert f"refused by APPMANAGE_REFUSE: {reason}" in job["error"]
        app = open_api.wait_status(name, "RUNNING")
        assert app["version"] == "1"
        assert {s["key"]: s["value"] for s in app["settings"]}["DATA_DIR"] == "./data"
        assert {c.id for c in project_objects(name)[0]} == containers  # type: ignore[attr-defined]
    assert env_file.read_text() == rendered
