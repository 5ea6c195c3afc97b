"""What one entry of the event stream holds, and cursors into it.

A cursor is a stream entry id (`<milliseconds>-<sequence>`), or `<entry id>.<index>` for a
log line inside a batched job entry that is not its last: `unpack` gives each line of such
an entry its own event, and `cursor_key` orders all cursors, lines within their entry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

STREAM_START = "stream-start"  # first entry of a new stream: cursors from before it are void
WHOLE_ENTRY = 1 << 62  # the index part of a cursor that names a whole entry


@dataclass(frozen=True)
class Event:
    cursor: str
    kind: str
    at: datetime
    data: dict[str, Any]

    @classmethod
    def decode(cls, cursor: Any, fields: Any) -> Event:
        body = json.loads(fields[b"event"])
        return cls(
            cursor=cursor.decode() if isinstance(cursor, bytes) else cursor,
            kind=body.pop("kind"),
            at=datetime.fromisoformat(body.pop("at")),
            data=body,
        )


def cursor_key(cursor: str) -> tuple[int, int, int]:
    """(milliseconds, sequence, line index) for ordering; ValueError when it is no cursor."""
    entry, dot, index = cursor.partition(".")
    millis, _, sequence = entry.partition("-")
    return int(millis), int(sequence or 0), int(index) if dot else WHOLE_ENTRY


def entry_id(cursor: str) -> str:
    return cursor.partition(".")[0]


def unpack(event: Event) -> Iterator[Event]:
    """One event per log line of a batched job entry, in order; other events as they are."""
    lines = event.data.get("lines") if event.kind == "job" else None
    if lines is None:
        yield event
        return
    rest = {k: v for k, v in event.data.items() if k != "lines"}
    if not lines:
        yield Event(event.cursor, event.kind, event.at, {**rest, "line": None})
    last = len(lines) - 1
    for index, line in enumerate(lines):
        cursor = event.cursor if index == last else f"{event.cursor}.{index}"
        yield Event(cursor, event.kind, event.at, {**rest, "line": line})


def lost_after(info: dict[str, Any] | None, after: tuple[int, int, int]) -> bool:
    if info is None:
        return True
    deleted = info.get("max-deleted-entry-id")
    if deleted and cursor_key(deleted.decode()) > after:
        return True
    first = info.get("first-entry")
    if first is None:
        return False
    first_event = Event.decode(first[0], first[1])
    return first_event.kind == STREAM_START and cursor_key(first_event.cursor) > after
