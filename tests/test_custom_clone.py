"""A clone of an operator's own compose app publishes fresh host ports where the copied ones
are taken, without touching their compose file: the port map in the row, the override's
`!override` ports list (catalog/custom_ports.py). The pure parts first, then a busybox httpd
on a named volume backed up and restored as a new app while it runs."""

from __future__ import annotations

import subprocess
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from appmanage.catalog.custom_ports import PORT_MAP_KEY, port_map_of, remap, with_port_map
from appmanage.catalog.custom_project import override_text
from appmanage.config import Settings
from tests.support.graphql import GraphQLClient
from tests.support.ports import free_port
from tests.support.waiting import wait_for

BUSYBOX = "appmanage-local/busybox:1"
COMPOSE = """# my notes, served as they are
services:
  web:
    image: {image}
    init: true
    command: ["httpd", "-f", "-p", "80", "-h", "/www"]
    ports:
      - "127.0.0.1:{port}:80"  # the one I chose
    volumes:
      - notes:/www
volumes:
  notes:
"""
INSTALL = """mutation($input: InstallAppInput!) { installApp(input: $input) {
    __typename ... on JobAccepted { job { id } } ... on Error { message } } }"""
ACCEPTED = "__typename ... on JobAccepted { job { id } } ... on Error { message }"
BACKUP_APP = f"mutation($name: String!) {{ backupApp(name: $name) {{ {ACCEPTED} }} }}"
RESTORE_APP = f"""mutation($name: String!, $backupId: ID!, $asName: String) {{
    restoreApp(name: $name, backupId: $backupId, asName: $asName) {{ {ACCEPTED} }} }}"""
EDIT = f"""mutation($name: String!, $compose: String!) {{ editApp(name: $name, compose: $compose) {{
    {ACCEPTED} }} }}"""
BACKUPS = "query($app: String) { backups(app: $app) { id } }"
APP = """query($name: String!) { app(name: $name) {
    status compose { compose } ports { hostIp hostPort containerPort } settings(reveal: true) { key value } } }"""


def test_a_clone_remaps_taken_ports_and_keeps_its_map_through_clones() -> None:
    taken = {8080, 8081, 9000}

    def choose(port: int) -> int:
        while port in taken:
            port += 1
        taken.add(port)
        return port

    ports, first = remap([8080, 7000], {}, choose)
    assert (ports, first) == ([7000, 8082], {8080: 8082})
    settings = with_port_map({}, first)
    assert settings == {PORT_MAP_KEY: "8080=8082"}
    ports, second = remap([7000, 8082], port_map_of(settings), choose)
    assert (ports, second) == ([7001, 8083], {7000: 7001, 8080: 8083})
    assert with_port_map({PORT_MAP_KEY: "1=2", "other": "x"}, {}) == {"other": "x"}


def test_the_override_replaces_only_the_remapped_services_ports() -> None:
    web = [
        {"mode": "ingress", "host_ip": "127.0.0.1", "target": 80, "published": "8080", "protocol": "tcp"},
        {"mode": "ingress", "target": 81, "protocol": "tcp"},
    ]
    project = {"services": {"web": {"ports": web}, "db": {"ports": [{"target": 5432, "published": "5432"}]}}}
    text = override_text("copy", project, {8080: 8090})
    assert "ports: !override" in text
    loaded = yaml.safe_load(text.replace("!override", ""))["services"]
    assert loaded["web"]["ports"] == [{**web[0], "published": "8090"}, web[1]]
    assert "ports" not in loaded["db"] and loaded["db"]["labels"] == {"io.appmanage.app": "copy"}
    assert "!override" not in override_text("copy", project)


def fetch(port: int, path: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/{path}", timeout=5) as response:
        text: str = response.read().decode().strip()
        return text


def serves(port: int, text: str) -> None:
    def answers() -> bool:
        try:
            return fetch(port, "note.txt") == text
        except OSError:
            return False

    wait_for(answers, 30, f"port {port} to serve {text}")


def run_job(api: GraphQLClient, mutation: str, field: str, **variables: Any) -> str:
    result = api.execute(mutation, **variables)[field]
    assert result["__typename"] == "JobAccepted", result
    job = api.wait_job(result["job"]["id"], timeout=120)
    assert job["state"] == "SUCCEEDED", job
    return str(result["job"]["id"])


@pytest.mark.docker
def test_a_clone_of_a_running_custom_app_gets_a_fresh_port(
    api: GraphQLClient, settings: Settings, app_name: Callable[[str], str]
) -> None:
    name, clone, port = app_name("own"), app_name("copy"), free_port()
    compose = COMPOSE.format(image=BUSYBOX, port=port)
    run_job(api, INSTALL, "installApp", input={"name": name, "compose": compose})
    api.wait_status(name, "RUNNING")
    subprocess.run(
        ["docker", "run", "--rm", "-v", f"{name}_notes:/www", BUSYBOX, "sh", "-c", "echo kept > /www/note.txt"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    serves(port, "kept")
    run_job(api, BACKUP_APP, "backupApp", name=name)
    [backup] = api.execute(BACKUPS, app=name)["backups"]
    api.wait_status(name, "RUNNING")

    run_job(api, RESTORE_APP, "restoreApp", name=name, backupId=backup["id"], asName=clone)
    api.wait_status(clone, "RUNNING")
    copied = api.execute(APP, name=clone)["app"]
    [(host_ip, clone_port, target)] = {(p["hostIp"], p["hostPort"], p["containerPort"]) for p in copied["ports"]}
    assert (host_ip, target) == ("127.0.0.1", 80) and clone_port != port
    assert copied["compose"]["compose"] == compose
    assert (settings.app_dir(clone) / "compose.yaml").read_bytes() == compose.encode()
    assert {"key": PORT_MAP_KEY, "value": f"{port}={clone_port}"} in copied["settings"]
    serves(clone_port, "kept")
    serves(port, "kept")

    redeployed = api.act("redeployApp", name=clone)
    assert api.wait_job(redeployed["job"]["id"])["state"] == "SUCCEEDED", redeployed
    api.wait_status(clone, "RUNNING")
    serves(clone_port, "kept")
    edited = api.execute(EDIT, name=clone, compose=compose)["editApp"]  # the operator's own port again
    assert edited["__typename"] == "ConflictError" and str(port) in edited["message"], edited

    for app in (clone, name):
        removed = api.act("uninstallApp", name=app, purgeData=True)
        assert api.wait_job(removed["job"]["id"])["state"] == "SUCCEEDED"
        assert api.app(app) is None
