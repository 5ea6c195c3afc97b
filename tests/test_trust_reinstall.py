"""Reinstalling a name whose volumes outlived an uninstall without purge: the kept settings
are reused, or the install is refused naming the volumes; never a fresh password on old
data (the shipped `duo`: a named volume and a generated DB_PASSWORD, on real Docker)."""

from __future__ import annotations

from collections.abc import Callable

import docker
import pytest

from appmanage.config import Settings
from tests.support.graphql import GraphQLClient
from tests.support.ports import free_port
from tests.support.websoft9 import container_env

pytestmark = pytest.mark.docker


def worker_password(project: str) -> str:
    client = docker.from_env()
    try:
        labels = [f"com.docker.compose.project={project}", "com.docker.compose.service=worker"]
        (worker,) = client.containers.list(filters={"label": labels})
        name = str(worker.name)
    finally:
        client.close()
    return container_env(name)["DB_PASSWORD"]


def volumes_of(project: str) -> list[str]:
    client = docker.from_env()
    try:
        return sorted(v.name for v in client.volumes.list(filters={"label": f"com.docker.compose.project={project}"}))
    finally:
        client.close()


def install(api: GraphQLClient, catalog_app: str, name: str, **settings: str) -> dict[str, object]:
    result = api.install(catalog_app, name, **settings)
    if result["__typename"] == "JobAccepted":
        job = api.wait_job(result["job"]["id"])
        assert job["state"] == "SUCCEEDED", job
        api.wait_status(name, "RUNNING")
    return result


def uninstall(api: GraphQLClient, name: str, purge: bool) -> None:
    result = api.act("uninstallApp", name=name, purgeData=purge)
    assert result["__typename"] == "JobAccepted", result
    assert api.wait_job(result["job"]["id"])["state"] == "SUCCEEDED"


def test_a_reinstall_over_kept_volumes_reuses_the_kept_secret_or_is_refused(
    api: GraphQLClient, app_name: Callable[[str], str], settings: Settings
) -> None:
    name = app_name("again")
    assert install(api, "duo", name, HTTP_PORT=str(free_port()))["__typename"] == "JobAccepted"
    first = worker_password(name)
    uninstall(api, name, purge=False)
    assert volumes_of(name) == [f"{name}_shared"]

    assert install(api, "duo", name, HTTP_PORT=str(free_port()))["__typename"] == "JobAccepted"
    assert worker_password(name) == first, "a fresh password met the old data"
    uninstall(api, name, purge=False)

    for catalog_app, given in (("duo", {"DB_PASSWORD": "another-one"}), ("hello", {})):
        refused = install(api, catalog_app, name, HTTP_PORT=str(free_port()), **given)
        assert refused["__typename"] == "ConflictError", refused
        assert f"{name}_shared" in str(refused["message"])
        assert api.app(name) is None

    assert install(api, "duo", name, HTTP_PORT=str(free_port()), DB_PASSWORD=first)["__typename"] == "JobAccepted"
    uninstall(api, name, purge=True)
    assert volumes_of(name) == []
    assert not settings.app_dir(name).exists()
    assert install(api, "duo", name, HTTP_PORT=str(free_port()))["__typename"] == "JobAccepted"
    assert worker_password(name) != first
