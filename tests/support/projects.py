"""Compose projects in Docker: what one holds, its page, and removing everything a run
made (projects, networks, volumes whose project starts with the run's prefix, and the Redis
keys of its namespaces)."""

from __future__ import annotations

import subprocess
import urllib.request
from collections.abc import Iterable
from contextlib import suppress

import docker
from redis import Redis

from appmanage.runtime.compose import detect_compose_command
from appmanage.runtime.containers import PROJECT_LABEL


def app_page(port: int) -> str:
    """The page an app serves on 127.0.0.1:`port`."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
        text: str = response.read().decode()
        return text


def project_objects(name: str) -> tuple[list[object], list[object]]:
    """The containers and networks of compose project `name`."""
    client = docker.from_env()
    label = f"{PROJECT_LABEL}={name}"
    try:
        return (
            client.containers.list(all=True, filters={"label": label}),
            client.networks.list(filters={"label": label}),
        )
    finally:
        client.close()


def remove_project(name: str) -> None:
    subprocess.run(
        [*detect_compose_command(), "-p", name, "down", "--volumes", "--remove-orphans", "--timeout", "1"],
        capture_output=True,
        timeout=120,
    )


def remove_projects(prefix: str, also: Iterable[str] = ()) -> list[str]:
    """Compose down every project starting with `prefix` that Docker knows, or that is named
    in `also` (app folders a killed worker may have left half made); then their networks
    and volumes. The projects removed."""
    engine = docker.from_env()
    client = engine.api
    try:
        known = {
            (c.get("Labels") or {}).get(PROJECT_LABEL, "")
            for c in client.containers(all=True, filters={"label": PROJECT_LABEL})
        }
        removed = sorted(p for p in known | set(also) if p.startswith(prefix))
        for project in removed:
            remove_project(project)
        for network in client.networks(filters={"label": PROJECT_LABEL}):
            if (network.get("Labels") or {}).get(PROJECT_LABEL, "").startswith(prefix):
                with suppress(docker.errors.APIError):
                    client.remove_network(network["Id"])
        for volume in client.volumes(filters={"label": PROJECT_LABEL}).get("Volumes") or []:
            if (volume.get("Labels") or {}).get(PROJECT_LABEL, "").startswith(prefix):
                with suppress(docker.errors.APIError):
                    client.remove_volume(volume["Name"], force=True)
        return removed
    finally:
        engine.close()


def delete_keys(redis_url: str, namespaces: Iterable[str]) -> None:
    """Every Redis key of these namespaces, RQ's included."""
    redis = Redis.from_url(redis_url)
    try:
        for namespace in namespaces:
            for pattern in (f"{namespace}*", f"rq:*{namespace}*"):
                for key in redis.scan_iter(match=pattern):
                    redis.delete(key)
    finally:
        redis.close()
