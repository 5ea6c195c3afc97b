"""A stream entry is shaped, executed and encoded once for all the subscribers that ask the
same, and only for them: the schema's subscriptions on a real hub reading a real Redis."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncGenerator
from typing import Any, cast

import pytest
from redis import Redis

from appmanage.config import Settings
from appmanage.enums import Role
from appmanage.event_stream import EventHub, EventPublisher, stream_name
from appmanage.schema.context import Context
from appmanage.schema.feed_types import AppStatusEvent
from appmanage.schema.schema import build_schema
from appmanage.schema.shared_results import encoded_next
from appmanage.services import Services

pytestmark = pytest.mark.docker  # needs Redis

WIDE = "subscription($name: String) { appStatusChanged(name: $name) { cursor app status previous at } }"
NARROW = "subscription($name: String) { appStatusChanged(name: $name) { status } }"
SAME_FOR = 20


async def first_results(redis_url: str, namespace: str, name: str, subscribers: list[tuple[str, Role]]) -> list[Any]:
    """Each subscriber's first result of one status event published after all are listening."""
    schema = build_schema()
    hub = EventHub(redis_url, namespace)
    redis = Redis.from_url(redis_url)
    streams: list[AsyncGenerator[Any, None]] = []
    try:
        await hub.start()
        for query, role in subscribers:
            context = Context(services=cast(Services, None), hub=hub, role=role)
            stream = await schema.subscribe(query, variable_values={"name": name}, context_value=context)
            streams.append(cast(AsyncGenerator[Any, None], stream))
        firsts = [asyncio.ensure_future(anext(stream)) for stream in streams]
        for _ in range(200):
            if hub.connected and hub.subscriber_count == len(subscribers):
                break
            await asyncio.sleep(0.05)
        assert hub.subscriber_count == len(subscribers)
        publisher = EventPublisher(redis, namespace)
        await asyncio.to_thread(publisher.publish, "status", {"app": name, "status": "RUNNING", "previous": None})
        return list(await asyncio.wait_for(asyncio.gather(*firsts), 20))
    finally:
        for stream in streams:
            await stream.aclose()
        await hub.close()
        redis.delete(stream_name(namespace))
        redis.close()


def test_one_entry_is_shaped_and_executed_once_per_operation_and_role(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    shaped = []
    original = AppStatusEvent.from_entry

    def counting(entry: Any) -> AppStatusEvent:
        shaped.append(entry.cursor)
        return original(entry)

    monkeypatch.setattr(AppStatusEvent, "from_entry", counting)
    namespace, name = f"{settings.namespace}-{uuid.uuid4().hex[:8]}", "shared"
    subscribers = [(WIDE, Role.VIEWER)] * SAME_FOR + [(WIDE, Role.ADMIN), (NARROW, Role.VIEWER)]

    results = asyncio.run(first_results(settings.redis_url, namespace, name, subscribers))

    assert all(not result.errors for result in results), [r.errors for r in results]
    assert len(shaped) == 1, f"the entry was shaped {len(shaped)} times"
    viewers, admin, narrow = results[:SAME_FOR], results[SAME_FOR], results[SAME_FOR + 1]
    assert all(r.data is viewers[0].data for r in viewers), "one execution for the same operation and role"
    assert admin.data is not viewers[0].data and admin.data == viewers[0].data, "another role executes for itself"
    event = viewers[0].data["appStatusChanged"]
    assert event["app"] == name and event["status"] == "RUNNING" and event["previous"] is None
    assert narrow.data == {"appStatusChanged": {"status": "RUNNING"}}, "each gets only its own selection"


def test_a_next_message_is_encoded_as_json_would() -> None:
    data = {"appStatusChanged": {"status": "RUNNING", "app": 'a "quoted" ünïcode'}}
    for operation_id in ("s1", 'odd "id"'):
        message = {"id": operation_id, "type": "next", "payload": {"data": data}}
        assert json.loads(cast(str, encoded_next(message))) == message
        assert encoded_next(message) == json.dumps(message)
    assert encoded_next({"id": "x", "type": "next", "payload": {"data": None, "errors": []}}) is None
    assert encoded_next({"type": "connection_ack"}) is None
