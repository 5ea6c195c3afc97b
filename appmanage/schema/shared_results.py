"""One execution and one JSON encoding per stream entry and operation, shared by every
subscriber that asks the same.

A thousand `appStatusChanged` subscribers ask one selection of one entry: each used to run
graphql-core over its own copy of the payload and to encode its own `next` message. Now a
subscription field shapes an entry once (`shared_payload`), the executor
(`SharedEventExecutor`) runs an operation once per shared payload, and the websocket
handler encodes a result's data once (`encoded_next`).

An execution is reused only when everything it may depend on is equal: the operation's
text and name, its coerced variables, the caller's role (permissions) and the payload
itself, by identity (the cache keeps the payload alive, so its id cannot be reused).
The caches are small and bounded: a subscriber that falls further behind executes for
itself, with the same answer.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Any, TypeVar, cast

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from appmanage.event_stream import Event as StreamEntry
from appmanage.event_stream import EventHub
from graphql import ExecutionResult

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

KEPT_ENTRIES = 256  # entries (and their shapes, results and encodings) kept for late subscribers


class Bounded(OrderedDict[K, V]):
    """A mapping that forgets its oldest items beyond `size`."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def keep(self, key: K, value: V) -> V:
        self[key] = value
        if len(self) > self.size:
            self.popitem(last=False)
        return value


_payloads: Bounded[tuple[Callable[[Any], Any], object, str], Any] = Bounded(KEPT_ENTRIES)
_shared: Bounded[int, Any] = Bounded(KEPT_ENTRIES)  # id -> the shared payload itself
_results: Bounded[tuple[int, Hashable], tuple[Any, ExecutionResult]] = Bounded(KEPT_ENTRIES * 4)
_encodings: Bounded[int, tuple[Any, str]] = Bounded(KEPT_ENTRIES * 4)


def shared_payload(shape: Callable[[StreamEntry], T], entry: StreamEntry, hub: EventHub) -> T:
    """`shape(entry)`, made once for all the subscribers of the hub (a cursor names an
    entry of one stream only)."""
    key = (shape, hub, entry.cursor)
    payload = _payloads.get(key)
    if payload is None:
        payload = _payloads.keep(key, shape(entry))
        _shared.keep(id(payload), payload)
    return cast(T, payload)


def _is_shared(payload: Any) -> bool:
    return _shared.get(id(payload)) is payload


def _variables_key(variables: Mapping[str, Any]) -> str:
    return json.dumps(variables, sort_keys=True, default=repr) if variables else ""


class SharedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, executing a subscription event once per equal operation."""

    _operation_key: Hashable = None
    _reused: ExecutionResult | None = None

    def operation_key(self) -> Hashable:
        if self._operation_key is None:
            location = self.operation.loc
            text = location.source.body if location is not None else repr(self.operation)
            name = self.operation.name.value if self.operation.name else None
            role = getattr(self.context_value, "role", None)
            variables = _variables_key(self.variable_values.coerced)
            self._operation_key = (self.schema, text, name, variables, role)
        return self._operation_key

    def build_per_event_executor(self, payload: Any) -> SharedEventExecutor:
        executor = cast(SharedEventExecutor, super().build_per_event_executor(payload))
        executor._reused = None
        if _is_shared(payload):
            known = _results.get((id(payload), self.operation_key()))
            if known is not None and known[0] is payload:
                executor._reused = known[1]
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        if self._reused is not None:
            return self._reused
        result = super().execute_operation(serially)
        payload = self.root_value
        if not _is_shared(payload):
            return result
        key = (id(payload), self.operation_key())
        if not self.is_awaitable(result):
            _results.keep(key, (payload, cast(ExecutionResult, result)))
            return result

        async def remembered() -> Any:
            done = await cast(Awaitable[ExecutionResult], result)
            _results.keep(key, (payload, done))
            return done

        return remembered()


def encoded_next(message: Mapping[str, Any]) -> str | None:
    """The JSON of a `next` message carrying only data, its data encoded once; None for
    any other message."""
    payload = message.get("payload")
    if message.get("type") != "next" or not isinstance(payload, dict) or payload.keys() != {"data"}:
        return None
    data = payload["data"]
    known = _encodings.get(id(data))
    if known is None or known[0] is not data:
        known = _encodings.keep(id(data), (data, json.dumps({"data": data})))
    return f'{{"id": {json.dumps(message["id"])}, "type": "next", "payload": {known[1]}}}'
