"""The generators behind the subscriptions: live events from the process's hub, replay from the
stream for `events(after:)`, and the containers' own logs followed through Docker.
A job's batched log lines reach subscribers one event per line, in order (`unpack`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from appmanage.enums import JobState
from appmanage.errors import NotFound
from appmanage.event_stream import Event, EventHub, cursor_key, unpack
from appmanage.resolvers.jobs import get_job
from appmanage.services import Services
from appmanage.storage.models import Job


async def status_changes(hub: EventHub, name: str | None) -> AsyncIterator[Event]:
    def accepts(event: Event) -> bool:
        return event.kind == "status" and (name is None or event.data["app"] == name)

    async with hub.subscribe(accepts) as subscriber:
        while True:
            yield await subscriber.next()


async def job_updates(services: Services, hub: EventHub, job_id: str) -> AsyncIterator[Job | Event]:
    """The job as it is, then each change and log line; ends after the job finishes."""

    def accepts(event: Event) -> bool:
        return event.kind == "job" and event.data["job"]["id"] == job_id

    async with hub.subscribe(accepts) as subscriber:
        job = await get_job(services, job_id)
        if job is None:
            raise NotFound(f"no job has the id {job_id}")
        yield job
        finished = job.state.finished
        while not finished:
            entry = await subscriber.next()
            finished = JobState(entry.data["job"]["state"]).finished
            for event in unpack(entry):
                yield event


APP_EVENTS = ("status", "job")  # what `events` carries; hosts have hostStatusChanged


async def all_events(hub: EventHub, after: str | None) -> AsyncIterator[Event]:
    """What came after the cursor, then live; the switch neither skips nor repeats."""
    async with hub.subscribe(lambda event: event.kind in APP_EVENTS) as subscriber:
        last: tuple[int, int, int] | None = None
        if after is not None:
            async for event in hub.replay(after):
                last = cursor_key(event.cursor)
                if event.kind in APP_EVENTS:
                    yield event
        while True:
            for event in unpack(await subscriber.next()):
                if last is None or cursor_key(event.cursor) > last:
                    yield event
