"""Subscriptions: each field follows its generator (`resolvers/subscriptions.py`) and
shapes what it yields (`schema/feed_types.py`) once per entry for all its subscribers
(`schema/shared_results.py`)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from appmanage.errors import NotFound
from appmanage.event_stream import Event as StreamEntry
from appmanage.resolvers import apps, hosts, subscriptions
from appmanage.runtime.log_follow import follow_logs
from appmanage.schema.apps import LogLine
from appmanage.schema.context import Info
from appmanage.schema.errors import not_found
from appmanage.schema.feed_types import AppStatusEvent, Event, JobEvent, shape_event
from appmanage.schema.hosts import HostStatusEvent
from appmanage.schema.jobs import Job
from appmanage.schema.permissions import CanView
from appmanage.schema.shared_results import shared_payload


@strawberry.type
class Subscription:
    @strawberry.subscription(
        permission_classes=[CanView], description="Every status change of one app, or of all apps when name is null."
    )
    async def app_status_changed(self, info: Info, name: str | None = None) -> AsyncGenerator[AppStatusEvent, None]:
        async for entry in subscriptions.status_changes(info.context.hub, name):
            yield shared_payload(AppStatusEvent.from_entry, entry, info.context.hub)

    @strawberry.subscription(
        permission_classes=[CanView],
        description="The job as it is, then each change and log line; ends after it finishes.",
    )
    async def job_updated(self, info: Info, id: strawberry.ID) -> AsyncGenerator[JobEvent, None]:
        hub = info.context.hub
        async for update in subscriptions.job_updates(info.context.services, hub, str(id)):
            if isinstance(update, StreamEntry):
                yield shared_payload(JobEvent.from_entry, update, hub)
            else:
                yield JobEvent(
                    cursor=hub.last_cursor or "0-0", job=Job.from_row(update), line=None, at=update.created_at
                )

    @strawberry.subscription(
        permission_classes=[CanView],
        description="The last `tail` lines, then the containers' logs as they come; only apps AppManage "
        "manages (a NOT_FOUND error for any other name).",
    )
    async def app_logs(
        self, info: Info, name: str, service: str | None = None, tail: int | None = 0
    ) -> AsyncGenerator[LogLine, None]:
        services = info.context.services
        try:
            await apps.require_managed(services, name)
        except NotFound as exc:
            raise not_found(exc) from exc
        async for entry in follow_logs(
            services.containers, name, service, min(tail or 0, services.settings.max_list_size)
        ):
            yield LogLine.from_entry(entry)

    @strawberry.subscription(
        permission_classes=[CanView], description="Each status change of one host, or of all hosts when name is null."
    )
    async def host_status_changed(self, info: Info, name: str | None = None) -> AsyncGenerator[HostStatusEvent, None]:
        async for entry in hosts.host_changes(info.context.hub, name):
            yield shared_payload(HostStatusEvent.from_entry, entry, info.context.hub)

    @strawberry.subscription(
        permission_classes=[CanView], description="Replays what came after the cursor, then continues live."
    )
    async def events(self, info: Info, after: str | None = None) -> AsyncGenerator[Event, None]:
        async for entry in subscriptions.all_events(info.context.hub, after):
            yield shared_payload(shape_event, entry, info.context.hub)
