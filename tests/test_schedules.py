"""Schedules on the session's two real workers, with RQ's own scheduler: one job per tick,
ticks that go on after the workers are killed (and Redis lost the armed tick), the end of
a schedule with unscheduleJob and with the app's uninstall. The ticks are every few
seconds (the tests' APPMANAGE_SCHEDULE_SECONDS), not every minute."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import select

from appmanage.apps.schedules import create_schedule, list_schedules
from appmanage.config import Settings
from appmanage.enums import JobKind, Role
from appmanage.errors import ValidationFailed
from appmanage.jobs.queue import queue_name
from appmanage.schedules.cron import checked_cron, next_tick
from appmanage.schedules.tick import take_tick
from appmanage.storage.models import App, Job
from tests.support.graphql import GraphQLClient
from tests.support.ports import free_port
from tests.support.processes import settings_env
from tests.support.services import private_services
from tests.support.tokens import create_token
from tests.support.waiting import wait_for

pytestmark = pytest.mark.docker

TICK_SECONDS = 4
EVERY_TICK = f"* * * * * */{TICK_SECONDS}"  # croniter: seconds are the sixth field
SCHEDULE_FIELDS = "id app kind cron nextRunAt lastRunAt lastError createdAt lastJob { id kind state }"
SCHEDULE = f"""mutation($app: String!, $kind: ScheduleKind!, $cron: String!) {{
    scheduleJob(app: $app, kind: $kind, cron: $cron) {{
        __typename ... on Schedule {{ {SCHEDULE_FIELDS} }} ... on Error {{ message }} ... on ValidationError {{ field }}
    }}
}}"""
UNSCHEDULE = f"""mutation($id: ID!) {{
    unscheduleJob(id: $id) {{ __typename ... on Schedule {{ {SCHEDULE_FIELDS} }} ... on Error {{ message }} }}
}}"""
SCHEDULES = f"query($app: String) {{ schedules(app: $app) {{ {SCHEDULE_FIELDS} }} }}"
SCHEDULED_LINE = re.compile(r"scheduled: \w+ at (\S+) ")
JOBS = "query($name: String!) { app(name: $name) { jobs(first: 100) { id kind state log(tail: 200) } } }"


def schedule(api: GraphQLClient, app: str, kind: str, cron: str) -> dict[str, Any]:
    result: dict[str, Any] = api.execute(SCHEDULE, app=app, kind=kind, cron=cron)["scheduleJob"]
    return result


def schedules(api: GraphQLClient, app: str | None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.execute(SCHEDULES, app=app)["schedules"]
    return found


def scheduled_jobs(api: GraphQLClient, name: str) -> dict[str, dict[str, Any]]:
    """The app's scheduled jobs by the tick that started them (a tick twice fails here)."""
    by_tick: dict[str, dict[str, Any]] = {}
    for job in api.execute(JOBS, name=name)["app"]["jobs"]:
        ticks = [m.group(1) for line in job["log"] if (m := SCHEDULED_LINE.match(line))]
        if ticks:
            assert ticks[0] not in by_tick, f"tick {ticks[0]} started two jobs"
            by_tick[ticks[0]] = job
    return by_tick


def installed(api: GraphQLClient, name: str) -> None:
    job = api.install("hello", name, HTTP_PORT=str(free_port()))["job"]
    assert api.wait_job(job["id"])["state"] == "SUCCEEDED"
    api.wait_status(name, "RUNNING")


def test_a_cron_is_checked() -> None:
    assert checked_cron("  0   3 * * 1 ") == "0 3 * * 1"
    assert checked_cron("@Daily") == "@daily"
    assert checked_cron(EVERY_TICK, seconds_allowed=True) == EVERY_TICK
    for bad, words in [
        (EVERY_TICK, "at most once a minute"),
        ("61 * * * *", "not a valid cron expression"),
        ("0 0 30 2 *", "not a valid cron expression"),
        ("* * *", "has 3 fields"),
        ("", "has 0 fields"),
    ]:
        with pytest.raises(ValidationFailed, match=words):
            checked_cron(bad)


def test_a_tick_is_taken_once_however_many_run_it(database_url: str, settings: Settings, tmp_path: Path) -> None:
    with private_services(settings, tmp_path, database_url=database_url) as services:
        with services.db.write() as session:
            session.add(App(name="ticked", catalog_app="hello", source="test", version="2", installed=True))
            session.add(App(name="own", catalog_app=None, source="custom", version="1", installed=True))
        with pytest.raises(ValidationFailed, match="custom compose app"):
            create_schedule(services, "own", JobKind.UPDATE, "0 3 * * *")
        view = create_schedule(services, "ticked", JobKind.BACKUP, "0 3 * * *")
        at = view.schedule.next_run_at
        assert at is not None
        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(lambda _: take_tick(services, view.schedule.id, at), range(8)))
        assert sorted(o.split()[0] for o in outcomes) == ["job"] + ["taken"] * 7, outcomes
        with services.db.read() as session:
            (job,) = session.scalars(select(Job).where(Job.app_name == "ticked"))
        assert job.kind is JobKind.BACKUP and job.params == {"stop": True}
        later = next_tick("0 3 * * *", at)
        assert take_tick(services, view.schedule.id, later) == "skipped"  # the backup is still QUEUED
        (row,) = list_schedules(services, "ticked")
        assert row.last_job is not None and row.last_job.id == job.id
        assert row.schedule.last_error == f"skipped: job {job.id} (BACKUP) is QUEUED"
        assert row.schedule.last_run_at == later and row.schedule.next_run_at == next_tick("0 3 * * *", later)


def test_what_scheduleJob_refuses(api: GraphQLClient, app_name: Callable[[str], str]) -> None:
    bad = schedule(api, app_name("nope"), "RESTART", "61 * * * *")
    assert bad["__typename"] == "ValidationError" and bad["field"] == "cron", bad
    assert "not a valid cron expression" in bad["message"]
    missing = schedule(api, app_name("nope"), "RESTART", "0 3 * * *")
    assert missing["__typename"] == "NotFoundError", missing

    viewer = GraphQLClient(api.client, create_token(api, Role.VIEWER)["secret"])
    assert viewer.execute(SCHEDULES, app=None)["schedules"] is not None
    forbidden = viewer.post(SCHEDULE, app="x", kind="RESTART", cron="0 3 * * *").json()
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_one_job_per_tick_with_two_workers_until_unscheduled(
    api: GraphQLClient, app_name: Callable[[str], str], settings: Settings, workers: list[subprocess.Popen[bytes]]
) -> None:
    name = app_name("sched")
    installed(api, name)
    made = schedule(api, name, "RESTART", EVERY_TICK)
    assert made["__typename"] == "Schedule", made
    assert made["app"] == name and made["kind"] == "RESTART" and made["lastRunAt"] is None
    assert [s["id"] for s in schedules(api, name)] == [made["id"]]

    # three ticks: each starts one RESTART job, or is skipped while the last one runs
    wait_for(lambda: len(scheduled_jobs(api, name)) >= 3, 6 * TICK_SECONDS, "three scheduled restarts")
    jobs = scheduled_jobs(api, name)
    assert {j["kind"] for j in jobs.values()} == {"RESTART"}
    ticks = sorted(datetime.fromisoformat(t) for t in jobs)
    assert all((b - a).total_seconds() % TICK_SECONDS == 0 for a, b in pairwise(ticks))
    (now,) = schedules(api, name)
    assert now["lastRunAt"] and now["nextRunAt"] > now["lastRunAt"]
    assert now["lastJob"]["kind"] == "RESTART"

    # kill both workers (the scheduler with one of them) and lose the armed tick in Redis
    for worker in workers:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    redis = Redis.from_url(settings.redis_url)
    try:
        redis.delete(f"rq:scheduled:{queue_name(settings.namespace)}")
    finally:
        redis.close()
    before = len(scheduled_jobs(api, name))
    env = settings_env(settings)
    for index in range(len(workers)):
        command = [sys.executable, "-m", "appmanage", "worker"]
        workers[index] = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    restarted = time.monotonic()
    # a restart the kill cut stays RUNNING until recovery (the watcher) fails it: ticks are skipped till then
    wait_for(lambda: len(scheduled_jobs(api, name)) > before, 30, "a tick after the workers' restart")
    print(f"a scheduled job {time.monotonic() - restarted:.1f} s after the workers' restart")

    gone = api.execute(UNSCHEDULE, id=made["id"])["unscheduleJob"]
    assert gone["__typename"] == "Schedule" and gone["id"] == made["id"]
    assert schedules(api, name) == []
    after = len(scheduled_jobs(api, name))  # a tick that runs now finds no schedule
    time.sleep(2 * TICK_SECONDS)
    assert len(scheduled_jobs(api, name)) == after
    again = api.execute(UNSCHEDULE, id=made["id"])["unscheduleJob"]
    assert again["__typename"] == "NotFoundError"


def test_update_skips_a_tick_at_the_default_version_and_uninstall_removes_schedules(
    api: GraphQLClient, app_name: Callable[[str], str]
) -> None:
    name = app_name("sched")
    installed(api, name)  # hello at its default version, 2
    update = schedule(api, name, "UPDATE", EVERY_TICK)
    assert update["__typename"] == "Schedule", update
    daily = schedule(api, name, "BACKUP", "@daily")
    assert daily["__typename"] == "Schedule", daily
    assert {s["id"] for s in schedules(api, name)} == {update["id"], daily["id"]}
    assert {s["id"] for s in schedules(api, None)} >= {update["id"], daily["id"]}

    def skipped() -> dict[str, Any] | None:
        found = next(s for s in schedules(api, name) if s["id"] == update["id"])
        return found if found["lastRunAt"] else None

    assert wait_for(skipped, 3 * TICK_SECONDS, "a tick of the update")["lastError"] == "already at version 2"
    assert scheduled_jobs(api, name) == {}

    uninstall = api.act("uninstallApp", name=name)
    assert api.wait_job(uninstall["job"]["id"])["state"] == "SUCCEEDED"
    assert schedules(api, name) == []
