"""Growth is bounded: old finished jobs are pruned, a verbose job makes few stream entries,
and `events(after:)` replays a long stream page by page, in order, without gap or duplicate."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import func, select

from appmanage.config import Settings
from appmanage.enums import JobKind, JobState
from appmanage.event_stream import Event, EventHub, EventPublisher, stream_name, unpack
from appmanage.jobs.context import JobContext, job_payload
from appmanage.jobs.recovery import prune_when_due
from appmanage.services import Services
from appmanage.storage import retention
from appmanage.storage.database import Database
from appmanage.storage.models import App, Job, JobLogLine
from appmanage.storage.retention import prune_finished_jobs
from tests.support.processes import Stack
from tests.support.services import private_services
from tests.support.wsclient import GraphQLWebSocket

NOW = datetime.now(UTC)
EVENTS = """subscription($after: String) {
    events(after: $after) { __typename ... on AppStatusEvent { cursor app } ... on JobEvent { cursor line } }
}"""


def add_job(db: Database, app: str, state: JobState, age_days: float, lines: int = 3) -> str:
    with db.write() as session:
        when = NOW - timedelta(days=age_days)
        job = Job(
            id=secrets.token_hex(16),
            app_name=app,
            kind=JobKind.START,
            state=state,
            params={},
            created_at=when,
            finished_at=None if state in (JobState.QUEUED, JobState.RUNNING) else when,
        )
        session.add(job)
        session.flush()
        session.add_all(JobLogLine(job_id=job.id, line=f"line {i}") for i in range(lines))
        return job.id


def prunes_old_finished_jobs_only(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retention, "JOB_BATCH", 3)  # several batches of jobs and of lines
    monkeypatch.setattr(retention, "LINE_BATCH", 4)
    with db.write() as session:
        session.add(App(name="kept", catalog_app="hello", source="test", version="1"))
    old = [add_job(db, "kept", JobState.SUCCEEDED, 60 - i) for i in range(7)]
    last_finished = add_job(db, "kept", JobState.FAILED, 40)
    running = add_job(db, "kept", JobState.RUNNING, 50)
    recent = add_job(db, "other", JobState.SUCCEEDED, 10)
    removed_apps_last = add_job(db, "gone", JobState.SUCCEEDED, 45)  # its app no longer exists

    assert prune_finished_jobs(db, timedelta(days=30)) == len(old) + 1

    with db.read() as session:
        left = set(session.scalars(select(Job.id)))
        lines = dict(session.execute(select(JobLogLine.job_id, func.count()).group_by(JobLogLine.job_id)).all())
    assert left == {last_finished, running, recent}
    assert set(lines) == left and set(lines.values()) == {3}, "the kept jobs keep their lines, the others lose them"
    assert removed_apps_last not in left
    assert prune_finished_jobs(db, timedelta(days=30)) == 0


def test_prunes_old_finished_jobs_and_their_lines(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    prunes_old_finished_jobs_only(database, monkeypatch)


@pytest.fixture
def services(settings: Settings, tmp_path: Path, database_url: str) -> Iterator[Services]:
    """In-process clients on a private database (each backend) and Redis namespace (the real Redis)."""
    with private_services(settings, tmp_path, database_url=database_url, job_retention_days=30) as services:
        yield services


@pytest.mark.docker
def test_the_recovery_loop_prunes_once_per_period(services: Services) -> None:
    add_job(services.db, "gone", JobState.CANCELED, 31)
    add_job(services.db, "gone", JobState.SUCCEEDED, 29)
    assert prune_when_due(services) == 1
    add_job(services.db, "gone", JobState.FAILED, 90)
    assert prune_when_due(services) == 0, "the next pass waits for the period to end"


@pytest.mark.docker
def test_a_burst_of_log_lines_makes_few_stream_entries(services: Services) -> None:
    with services.db.write() as session:
        session.add(App(name="loud", catalog_app="hello", source="test", version="1"))
        job = Job(id=secrets.token_hex(16), app_name="loud", kind=JobKind.UPDATE, state=JobState.RUNNING, params={})
        session.add(job)
    stream = stream_name(services.settings.namespace)
    services.stream.publish("job", {"job": job_payload(job), "line": None})
    before = services.redis.xlen(stream)
    newest = services.redis.xrevrange(stream, count=1)[0][0].decode()

    context = JobContext(services, job)
    sent = [f"pulling layer {i:05d}" for i in range(10_000)]
    for line in sent:
        context.log(line)
    context.flush()

    entries = services.redis.xlen(stream) - before
    print(f"10,000 log lines made {entries} stream entries")
    assert entries <= 100, entries
    replayed = [
        event.data["line"]
        for cursor, fields in services.redis.xrange(stream, min="(" + newest)
        for event in unpack(Event.decode(cursor, fields))
    ]
    assert replayed == sent, "subscribers get every line, in order"
    with services.db.read() as session:
        saved = list(session.scalars(select(JobLogLine.line).where(JobLogLine.job_id == job.id)))
    assert saved == sent


def publish_long_stream(publisher: EventPublisher, entries: int) -> None:
    job = {
        "id": "j" * 32,
        "app": "longish",
        "kind": "UPDATE",
        "state": "RUNNING",
        "step": "pull",
        "progress": 0.1,
        "error": None,
        "worker": None,
        "created_at": NOW.isoformat(),
        "started_at": None,
        "finished_at": None,
    }
    for i in range(entries):
        if i % 3:
            publisher.publish("job", {"job": job, "lines": [f"{i}-a", f"{i}-b", f"{i}-c"]})
        else:
            publisher.publish("status", {"app": "longish", "status": "UPDATING", "reason": None})


def expected_cursors(redis: Redis, stream: str, after: str) -> list[str]:
    return [
        event.cursor
        for cursor, fields in redis.xrange(stream, min="(" + after)
        for event in unpack(Event.decode(cursor, fields))
        if event.kind != "stream-start"
    ]


@pytest.mark.docker
def test_replay_reads_the_stream_in_pages(services: Services) -> None:
    publish_long_stream(services.stream, 1_500)
    stream = stream_name(services.settings.namespace)
    first = services.redis.xrange(stream, count=1)[0][0].decode()
    expected = expected_cursors(services.redis, stream, first)

    async def replay(after: str) -> tuple[list[str], list[int]]:
        hub = EventHub(services.settings.redis_url, services.settings.namespace)
        reads: list[int] = []
        original = hub._commands.xrange

        async def counted(*args: Any, **kwargs: Any) -> Any:
            page = await original(*args, **kwargs)
            reads.append(len(page))
            return page

        hub._commands.xrange = counted  # type: ignore[method-assign]
        cursors: list[str] = []
        try:
            async for event in hub.replay(after):
                if not cursors:
                    assert reads == [reads[0]] and reads[0] < 1_500, "the first event comes after one page"
                cursors.append(event.cursor)
        finally:
            await hub.close()
        return cursors, reads

    cursors, reads = asyncio.run(replay(first))
    assert cursors == expected
    assert len(reads) >= 3 and max(reads) <= 500, reads

    middle = next(c for c in expected if "." in c)  # the first line of a batched entry
    resumed, _ = asyncio.run(replay(middle))
    assert resumed == expected[expected.index(middle) + 1 :], "a cursor inside an entry resumes after that line"


@pytest.mark.docker
def test_events_after_replays_a_long_stream_in_order_without_gap_or_duplicate(settings: Settings) -> None:
    stack = Stack.create(settings).start(workers=0, watcher=False, api=True)
    redis = Redis.from_url(stack.settings.redis_url)
    try:
        publisher = EventPublisher(redis, stack.settings.namespace)
        publish_long_stream(publisher, 3_000)
        stream = stream_name(stack.settings.namespace)
        first = redis.xrange(stream, count=2)[1][0].decode()
        expected = expected_cursors(redis, stream, first)
        with GraphQLWebSocket(stack.ws, token=stack.settings.admin_token) as ws:
            ws.subscribe("all", EVENTS, after=first)
            got = ws.next_until("all", lambda r: r["events"]["cursor"] == expected[-1], timeout=60)
        cursors = [r["events"]["cursor"] for r in got]
        assert cursors == expected, "every event once, in order"
        lines = [r["events"]["line"] for r in got if r["events"]["__typename"] == "JobEvent"]
        assert lines[:3] == ["1-a", "1-b", "1-c"]
        print(f"replayed {len(cursors)} events from {len(set(c.partition('.')[0] for c in cursors))} entries")
    finally:
        redis.close()
        stack.remove()
