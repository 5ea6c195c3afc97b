"""Every operation on real Docker: the transitions it causes and the refusals around it."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import docker
import pytest
from redis import Redis
from rq import SimpleWorker
from starlette.testclient import TestClient

from appmanage.app import create_app
from appmanage.config import Settings
from appmanage.jobs.queue import job_queue
from tests.support.graphql import GraphQLClient
from tests.support.ports import free_port
from tests.support.projects import app_page as page
from tests.support.projects import project_objects
from tests.support.waiting import wait_for

pytestmark = pytest.mark.docker


def installed(api: GraphQLClient, name: str, catalog_app: str = "hello", **settings: str) -> dict[str, Any]:
    job = api.install(catalog_app, name, **settings)["job"]
    assert api.wait_job(job["id"])["state"] == "SUCCEEDED"
    return api.wait_status(name, "RUNNING", "RESTARTING", "UNHEALTHY")


def done(api: GraphQLClient, result: dict[str, Any], state: str = "SUCCEEDED") -> dict[str, Any]:
    assert result["__typename"] == "JobAccepted", result
    job = api.wait_job(result["job"]["id"])
    assert job["state"] == state, job
    return job


def test_stop_start_restart(api: GraphQLClient, app_name: Callable[[str], str]) -> None:
    name, port = app_name("cycle"), free_port()
    installed(api, name, HTTP_PORT=str(port))

    stop = api.act("stopApp", name=name)
    assert stop["app"]["status"] == "STOPPING"
    assert done(api, stop)["kind"] == "STOP"
    app = api.wait_status(name, "EXITED")
    assert app["statusReason"] == "stopped by the operator"
    assert app["availableActions"] == ["START", "RESTART", "REDEPLOY", "UNINSTALL", "LOGS"]

    refused = api.act("updateApp", name=name, version="1")
    assert refused["__typename"] == "ActionNotAllowedError"
    assert refused["status"] == "EXITED"
    assert refused["allowed"] == app["availableActions"]

    start = api.act("startApp", name=name)
    assert start["app"]["status"] == "STARTING"
    done(api, start)
    api.wait_status(name, "RUNNING")
    assert "version 2" in wait_for(lambda: _page(port), 10, "the page")

    done(api, api.act("restartApp", name=name))
    api.wait_status(name, "RUNNING")


def _page(port: int) -> str | None:
    try:
        return page(port)
    except OSError:
        return None


def test_redeploy_changes_editable_settings_only(api: GraphQLClient, app_name: Callable[[str], str]) -> None:
    name, old_port, new_port = app_name("redeploy"), free_port(), free_port()
    installed(api, name, "duo", HTTP_PORT=str(old_port))

    refused = api.act("redeployApp", name=name, settings=[{"key": "DB_PASSWORD", "value": "changed"}])
    assert refused["__typename"] == "ValidationError"
    assert refused["field"] == "DB_PASSWORD"
    bad = api.act("redeployApp", name=name, settings=[{"key": "HTTP_PORT", "value": "70000"}])
    assert bad["__typename"] == "ValidationError"

    done(api, api.act("redeployApp", name=name, settings=[{"key": "HTTP_PORT", "value": str(new_port)}]))
    app = api.wait_status(name, "RUNNING")
    assert [p["hostPort"] for p in app["ports"]] == [new_port]
    assert {"key": "HTTP_PORT", "value": str(new_port), "secret": False} in app["settings"]
    assert "duo" in wait_for(lambda: _page(new_port), 10, "the page on the new port")


def test_redeploy_repairs_a_failed_app(api: GraphQLClient, app_name: Callable[[str], str]) -> None:
    name = app_name("repair")
    installed(api, name, HTTP_PORT=str(free_port()))
    client = docker.from_env()
    for container in client.api.containers(all=True, filters={"label": f"com.docker.compose.project={name}"}):
        client.api.remove_container(container["Id"], force=True)
    client.close()
    app = api.wait_status(name, "FAILED")
    assert app["statusReason"] == "the app has no containers"
    assert api.act("startApp", name=name)["__typename"] == "ActionNotAllowedError"
    done(api, api.act("redeployApp", name=name))
    api.wait_status(name, "RUNNING")


def test_update_then_failed_update_rolls_back(api: GraphQLClient, app_name: Callable[[str], str]) -> None:
    name, port = app_name("update"), free_port()
    job = api.install("hello", name, version="1", HTTP_PORT=str(port))["job"]
    assert api.wait_job(job["id"])["state"] == "SUCCEEDED"
    assert "version 1" in wait_for(lambda: _page(port), 10, "version 1")

    update = api.act("updateApp", name=name, version="2")
    assert update["app"]["status"] == "UPDATING"
    done(api, update)
    assert api.wait_status(name, "RUNNING")["version"] == "2"
    assert "version 2" in wait_for(lambda: _page(port), 10, "version 2")

    unknown = api.act("updateApp", name=name, version="9")
    assert unknown["__typename"] == "NotFoundError"

    failed = done(api, api.act("updateApp", name=name, version="3"), state="FAILED")
    assert "rolled back to 2" in failed["error"]
    assert any("rolled back to 2" in line for line in failed["log"])
    assert any("does-not-exist" in line or "hello:3" in line or "Error" in line for line in failed["log"])
    app = api.wait_status(name, "RUNNING")
    assert app["version"] == "2"
    assert "version 2" in wait_for(lambda: _page(port), 10, "version 2 after the failed update")


def test_uninstall_from_restarting_and_exited(api: GraphQLClient, app_name: Callable[[str], str]) -> None:
    crashy = app_name("crashy")
    api.wait_job(api.install("crashy", crashy)["job"]["id"])
    api.wait_status(crashy, "RESTARTING")
    done(api, api.act("uninstallApp", name=crashy))
    assert api.app(crashy) is None
    assert project_objects(crashy) == ([], [])

    stopped = app_name("stopped")
    installed(api, stopped, HTTP_PORT=str(free_port()))
    done(api, api.act("stopApp", name=stopped))
    api.wait_status(stopped, "EXITED")
    done(api, api.act("uninstallApp", name=stopped))
    assert api.app(stopped) is None


def test_unknown_app_and_job(api: GraphQLClient) -> None:
    assert api.act("stopApp", name="nothing-here")["__typename"] == "NotFoundError"
    assert api.act("cancelJob", id="0" * 32)["__typename"] == "NotFoundError"


def test_cancel_a_running_install(api: GraphQLClient, app_name: Callable[[str], str]) -> None:
    name = app_name("slow")
    job = api.install("slowpoke", name)["job"]
    wait_for(
        lambda: api.job(job["id"])["state"] == "RUNNING" and "compose up" in (api.job(job["id"])["step"] or ""),
        30,
        "the install to run",
    )

    conflict = api.act("stopApp", name=name)
    assert conflict["__typename"] == "ConflictError"
    assert job["id"] in conflict["message"]

    canceled = api.act("cancelJob", id=job["id"])
    assert canceled["__typename"] == "JobCanceled"
    final = api.wait_job(job["id"], timeout=30)
    assert final["state"] == "CANCELED"
    app = api.wait_status(name, "FAILED")
    assert app["statusReason"] == "canceled"
    assert app["availableActions"] == ["REDEPLOY", "UNINSTALL"]
    assert project_objects(name)[0] == [], "the canceled install removed what it started"

    again = api.act("cancelJob", id=job["id"])
    assert again["__typename"] == "ActionNotAllowedError"
    done(api, api.act("uninstallApp", name=name))


def test_cancel_a_queued_job_it_never_runs(
    settings: Settings, api: GraphQLClient, app_name: Callable[[str], str]
) -> None:
    """The same database, but a queue no worker listens to: the job stays QUEUED."""
    idle = Settings(**{**settings.__dict__, "namespace": settings.namespace + "-idle"})
    name = app_name("queued")
    with TestClient(create_app(idle)) as client:
        idle_api = GraphQLClient(client)
        job = idle_api.install("hello", name, HTTP_PORT=str(free_port()))["job"]
        assert idle_api.job(job["id"])["state"] == "QUEUED"
        canceled = idle_api.act("cancelJob", id=job["id"])
        assert canceled["__typename"] == "JobCanceled"
        assert canceled["job"]["state"] == "CANCELED"

        redis = Redis.from_url(idle.redis_url)
        queue = job_queue(redis, idle.namespace)
        assert job["id"] not in queue.job_ids
        SimpleWorker([queue], connection=redis).work(burst=True)
        redis.close()

    assert api.job(job["id"])["state"] == "CANCELED"
    assert api.job(job["id"])["startedAt"] is None
    app = api.wait_status(name, "FAILED")
    assert app["statusReason"] == "canceled"
    assert project_objects(name)[0] == []
    done(api, api.act("uninstallApp", name=name))


def test_racing_mutations_on_one_app_accept_exactly_one(api: GraphQLClient, app_name: Callable[[str], str]) -> None:
    name = app_name("race")
    installed(api, name, HTTP_PORT=str(free_port()))
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: api.act("restartApp", name=name), range(8)))
    kinds = sorted(r["__typename"] for r in results)
    assert kinds.count("JobAccepted") == 1, kinds
    assert set(kinds) == {"JobAccepted", "ConflictError"}
    accepted = next(r for r in results if r["__typename"] == "JobAccepted")
    done(api, accepted)
    jobs = api.app(name)["jobs"]
    assert [j["kind"] for j in jobs] == ["RESTART", "INSTALL"]


def test_job_log_lives_in_the_database(settings: Settings, api: GraphQLClient, app_name: Callable[[str], str]) -> None:
    name = app_name("logs")
    app = installed(api, name, HTTP_PORT=str(free_port()))
    job_id = app["jobs"][0]["id"]
    redis = Redis.from_url(settings.redis_url)
    for key in redis.scan_iter(match=f"rq:*{job_id}*"):
        redis.delete(key)
    redis.close()
    log = api.job(job_id)["log"]
    assert log[0] == "» render the app folder"
    tail = api.execute("query($id: ID!) { job(id: $id) { log(tail: 2) } }", id=job_id)["job"]["log"]
    assert tail == log[-2:]


def test_app_logs_interleave_services_in_time_order(api: GraphQLClient, app_name: Callable[[str], str]) -> None:
    name = app_name("applogs")
    installed(api, name, "duo", HTTP_PORT=str(free_port()))
    query = """query($n: String!, $s: String, $t: Int) {
        appLogs(name: $n, service: $s, tail: $t) { service timestamp line }
    }"""
    lines = api.execute(query, n=name, t=50)["appLogs"]
    assert {"init", "worker"} <= {line["service"] for line in lines}
    stamps = [line["timestamp"] for line in lines]
    assert stamps == sorted(stamps)
    only = api.execute(query, n=name, s="init", t=50)["appLogs"]
    assert [line["line"] for line in only] == ["initialized"]
    huge = api.execute(query, n=name, t=10**9)["appLogs"]
    assert len(huge) <= 10_000


def test_jobs_of_different_apps_run_in_parallel(api: GraphQLClient, app_name: Callable[[str], str]) -> None:
    first, second = app_name("para1"), app_name("para2")
    jobs = [api.install("slowpoke", first)["job"], api.install("slowpoke", second)["job"]]
    wait_for(lambda: all(api.job(j["id"])["state"] == "RUNNING" for j in jobs), 30, "both installs running at once")
    for job in jobs:
        assert api.act("cancelJob", id=job["id"])["__typename"] == "JobCanceled"
    for job in jobs:
        assert api.wait_job(job["id"], timeout=30)["state"] == "CANCELED"
