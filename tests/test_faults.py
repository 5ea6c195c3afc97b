"""Faults against real processes: nothing stuck, nothing lost, recovered within seconds."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator

import pytest

from appmanage.config import Settings
from tests.support.faults import PrivateDocker, PrivateRedis
from tests.support.graphql import GraphQLClient
from tests.support.ports import free_port
from tests.support.processes import Stack
from tests.support.waiting import elapsed_until, wait_for
from tests.support.wsclient import GraphQLWebSocket

pytestmark = pytest.mark.docker

STATUS = "subscription($name: String) { appStatusChanged(name: $name) { cursor app status previous } }"


@pytest.fixture
def stacks(settings: Settings) -> Iterator[Callable[..., Stack]]:
    made: list[Stack] = []

    def make(**extra_env: str) -> Stack:
        stack = Stack.create(settings, **extra_env)
        made.append(stack)
        return stack

    yield make
    for stack in made:
        stack.remove()


def running_job(api: GraphQLClient, job_id: str) -> dict[str, object]:
    def check() -> dict[str, object] | None:
        job = api.job(job_id)
        return job if job["state"] == "RUNNING" and "compose up" in (job["step"] or "") else None

    return wait_for(check, 30, f"job {job_id} to run compose up")


def test_worker_killed_mid_job_is_failed_within_seconds(
    stacks: Callable[..., Stack], app_name: Callable[[str], str]
) -> None:
    stack = stacks().start(workers=2, watcher=False)
    api = stack.client()
    name = app_name("killed")
    job = running_job(api, api.install("slowpoke", name)["job"]["id"])
    assert api.app(name)["status"] == "INSTALLING"
    worker = api.execute("query($id: ID!) { job(id: $id) { worker } }", id=job["id"])["job"]["worker"]
    worker_pid = int(worker.rsplit(":", 1)[1])

    os.kill(worker_pid, signal.SIGKILL)
    took = elapsed_until(lambda: api.job(str(job["id"]))["state"] == "FAILED", 15, "the job to be FAILED")
    failed = api.job(str(job["id"]))
    assert "worker lost" in failed["error"]
    assert "containers left" in failed["error"] or "no containers" in failed["error"]
    app = api.app(name)
    assert app["status"] == "FAILED", app
    assert "worker lost" in app["statusReason"]
    removal = api.act("uninstallApp", name=name)
    assert removal["__typename"] == "JobAccepted"
    assert api.wait_job(removal["job"]["id"])["state"] == "SUCCEEDED"
    print(f"worker lost detected after {took:.1f} s")


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    redis = PrivateRedis()
    redis.start()
    yield redis
    redis.kill()


@pytest.fixture
def private_docker() -> Iterator[PrivateDocker]:
    docker = PrivateDocker()
    docker.start()
    docker.load_images()
    yield docker
    docker.remove()


HEALTH = "{ health { docker redis database workers } }"


def test_redis_restarted_empty_requeues_queued_jobs_from_their_rows(
    stacks: Callable[..., Stack], private_redis: PrivateRedis, app_name: Callable[[str], str]
) -> None:
    stack = stacks(APPMANAGE_REDIS_URL=private_redis.url).start(workers=1, watcher=True)
    api = stack.client()
    name = app_name("requeue")
    api.wait_job(api.install("hello", name, HTTP_PORT=str(free_port()))["job"]["id"])
    api.wait_status(name, "RUNNING")

    for worker in stack.workers:
        stack.kill(worker, signal.SIGTERM)
    stack.workers = []
    stop = api.act("stopApp", name=name)
    assert stop["__typename"] == "JobAccepted"
    job_id = stop["job"]["id"]

    private_redis.kill()
    assert api.execute(HEALTH)["health"]["redis"] is False
    app = api.app(name)
    assert app is not None and app["status"] == "STOPPING", "queries answer from the database and Docker"
    refused_or_queued = api.act("restartApp", name=name)
    assert refused_or_queued["__typename"] == "ConflictError"

    stack.start(workers=1, watcher=False, api=False)  # a worker that starts while Redis is away waits for it
    time.sleep(1)
    assert all(worker.poll() is None for worker in stack.workers)
    private_redis.start()
    assert api.wait_job(job_id, timeout=30)["state"] == "SUCCEEDED"
    assert api.wait_status(name, "EXITED")["statusReason"] == "stopped by the operator"
    log = api.job(job_id)["log"]
    assert log.count("» docker compose stop") == 1, "the job ran once"
    assert api.execute(HEALTH)["health"]["redis"] is True


def test_docker_stopped_apps_are_unknown_then_right_again(
    stacks: Callable[..., Stack], private_docker: PrivateDocker, app_name: Callable[[str], str]
) -> None:
    stack = stacks(DOCKER_HOST=private_docker.host).start(workers=1, watcher=True)
    api = stack.client()
    name = app_name("dockerdown")
    api.wait_job(api.install("hello", name, HTTP_PORT=str(free_port()))["job"]["id"])
    api.wait_status(name, "RUNNING")

    with GraphQLWebSocket(stack.ws, {"Authorization": f"Bearer {stack.settings.admin_token}"}) as ws:
        ws.subscribe("status", STATUS, name=name)
        ws.barrier()
        private_docker.stop()
        app = api.app(name)
        assert app is not None and app["status"] == "UNKNOWN"
        assert api.execute(HEALTH)["health"]["docker"] is False
        refused = api.act("stopApp", name=name)
        assert refused["__typename"] in ("ActionNotAllowedError", "ServiceUnavailableError")
        assert "Docker" in refused["message"]
        unknown = ws.next_until("status", lambda r: r["appStatusChanged"]["status"] == "UNKNOWN", timeout=15)

        private_docker.start()
        took = elapsed_until(lambda: api.app(name)["status"] == "RUNNING", 10, "the app to be RUNNING again")
        back = ws.next_until("status", lambda r: r["appStatusChanged"]["status"] == "RUNNING", timeout=10)
        # dockerd stops the containers on its way down: the watcher may see them exit first
        assert unknown[-1]["appStatusChanged"]["previous"] in ("RUNNING", "EXITED")
        assert {r["appStatusChanged"]["status"] for r in unknown[:-1]} <= {"EXITED"}
        assert back[-1]["appStatusChanged"]["previous"] == "UNKNOWN"
    print(f"statuses right {took:.1f} s after Docker came back")


def test_api_killed_clients_resume_from_their_cursor(
    stacks: Callable[..., Stack], app_name: Callable[[str], str]
) -> None:
    stack = stacks().start(workers=1, watcher=True)
    api = stack.client()
    name = app_name("apikill")
    events = "subscription($after: String) { events(after: $after) { ... on AppStatusEvent { cursor app status } } }"
    with GraphQLWebSocket(stack.ws, {"Authorization": f"Bearer {stack.settings.admin_token}"}) as ws:
        ws.subscribe("all", events, after=None)
        ws.barrier()
        job_id = api.install("hello", name, HTTP_PORT=str(free_port()))["job"]["id"]
        seen = ws.next_until("all", lambda r: r["events"].get("status") == "INSTALLING")
        cursor = seen[-1]["events"]["cursor"]
    stack.kill(stack.api)
    wait_for(lambda: _job_state(stack, job_id) == "SUCCEEDED", 60, "the install to finish while the API is down")
    stack.start_api()
    assert api.job(job_id)["state"] == "SUCCEEDED", "nothing was lost"
    with GraphQLWebSocket(stack.ws, {"Authorization": f"Bearer {stack.settings.admin_token}"}) as ws:
        ws.subscribe("again", events, after=cursor)
        missed = ws.next_until("again", lambda r: r["events"].get("status") == "RUNNING", timeout=20)
        assert missed[-1]["events"]["app"] == name


def _job_state(stack: Stack, job_id: str) -> str:
    import sqlite3

    with sqlite3.connect(stack.settings.data_dir / "appmanage.db") as connection:
        (state,) = connection.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return str(state)


def test_everything_killed_at_once_like_a_host_reboot(
    stacks: Callable[..., Stack],
    private_docker: PrivateDocker,
    private_redis: PrivateRedis,
    app_name: Callable[[str], str],
) -> None:
    stack = stacks(DOCKER_HOST=private_docker.host, APPMANAGE_REDIS_URL=private_redis.url)
    stack.start(workers=1, watcher=True)
    api = stack.client()
    running, stopped, busy = app_name("rb-run"), app_name("rb-stop"), app_name("rb-busy")
    for name in (running, stopped):
        api.wait_job(api.install("hello", name, HTTP_PORT=str(free_port()))["job"]["id"])
    api.wait_job(api.act("stopApp", name=stopped)["job"]["id"])
    install = running_job(api, api.install("slowpoke", busy)["job"]["id"])
    queued = api.act("restartApp", name=running)["job"]
    assert api.job(queued["id"])["state"] == "QUEUED"

    stack.stop(signal.SIGKILL)
    private_redis.kill()
    private_docker.stop()

    private_docker.start()
    private_redis.start()
    stack.start(workers=1, watcher=True)
    wait_for(lambda: api.job(str(install["id"]))["state"] == "FAILED", 20, "the interrupted install to be FAILED")
    assert "worker lost" in api.job(str(install["id"]))["error"]
    assert api.wait_job(queued["id"], timeout=30)["state"] == "SUCCEEDED"
    assert api.job(queued["id"])["log"].count("» docker compose restart") == 1
    assert api.wait_status(running, "RUNNING", timeout=10)
    assert api.app(stopped)["status"] == "EXITED"
    assert api.app(stopped)["statusReason"] == "stopped by the operator"
    assert api.wait_status(busy, "FAILED", timeout=10)["availableActions"] == ["REDEPLOY", "UNINSTALL"]


def test_many_writers_never_see_a_locked_database(stacks: Callable[..., Stack], app_name: Callable[[str], str]) -> None:
    """The API and four workers writing at once: 200 jobs, each logging, with reads between."""
    total = int(os.environ.get("APPMANAGE_SOAK_JOBS", "200"))
    stack = stacks().start(workers=4, watcher=True)
    api = stack.client()
    names = [app_name(f"w{index}") for index in range(8)]
    for name in names:
        api.install("hello", name, HTTP_PORT=str(free_port()))
    for name in names:
        api.wait_status(name, "RUNNING", timeout=120)
    done: list[dict[str, object]] = []
    started = time.monotonic()
    while len(done) < total:
        for name in names:
            result = api.act("restartApp", name=name)
            if result["__typename"] == "JobAccepted":
                done.append(result["job"])
        api.execute("{ apps { name status } }")
        time.sleep(0.05)
    finished = [api.wait_job(str(job["id"]), timeout=300) for job in done]
    took = time.monotonic() - started
    assert [j for j in finished if j["state"] != "SUCCEEDED"] == []
    assert "database is locked" not in stack.service_log()
    print(f"{len(finished)} jobs in {took:.0f} s without a locked database")
