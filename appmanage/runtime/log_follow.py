"""Follow the logs of a compose project's containers, as they come, across restarts.

One thread per running container reads its Docker log stream and hands lines to the
event loop; the project's containers are listed again every few seconds, so a restarted
or recreated container is picked up where its stream left off. Leaving closes every
stream, which ends its thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import docker
from docker.errors import DockerException
from requests.exceptions import RequestException

from appmanage.runtime.containers import ContainerInfo, ContainerReader, LogEntry, parse_log_line

RELIST_SECONDS = 2.0
BUFFER = 10_000


class _Follower:
    def __init__(self, api: Any, container: ContainerInfo, since: datetime, sink: Any) -> None:
        self.container = container
        self.last = since
        self._api = api
        self._sink = sink
        self._stream: Any = None
        self._closed = False
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"logs-{container.name}")

    def _run(self) -> None:
        partial = b""
        try:
            self._stream = self._api.logs(
                self.container.id, stream=True, follow=True, timestamps=True, since=self.last.timestamp()
            )
            if self._closed:
                self._stream.close()
            for chunk in self._stream:
                lines = (partial + chunk).split(b"\n")
                partial = lines.pop()
                for raw in lines:
                    entry = parse_log_line(self.container.service, raw.decode("utf-8", errors="replace"))
                    if entry.timestamp is None or entry.timestamp > self.last:
                        self.last = entry.timestamp or self.last
                        self._sink(entry)
        except (DockerException, RequestException, OSError, ValueError, AttributeError):
            pass

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()

    def close(self) -> None:
        self._closed = True
        if self._stream is not None:
            with contextlib.suppress(Exception):
                self._stream.close()


async def follow_logs(reader: ContainerReader, project: str, service: str | None, tail: int) -> AsyncIterator[LogEntry]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[LogEntry] = asyncio.Queue(BUFFER)
    api = await asyncio.to_thread(lambda: docker.from_env(timeout=None).api)
    followers: dict[str, _Follower] = {}
    since: dict[str, datetime] = {}
    started = datetime.now(UTC)

    def sink(entry: LogEntry) -> None:
        loop.call_soon_threadsafe(_put, queue, entry)

    def containers() -> list[ContainerInfo]:
        found = reader.by_project(project).get(project, [])
        return [c for c in found if service is None or c.service == service]

    async def relist() -> None:
        while True:
            for container in await asyncio.to_thread(containers):
                follower = followers.get(container.id)
                if container.state in ("running", "restarting") and (follower is None or not follower.alive):
                    start = follower.last if follower else since.get(container.service, started)
                    followers[container.id] = _Follower(api, container, start, sink)
                    followers[container.id].thread.start()
            await asyncio.sleep(RELIST_SECONDS)

    for entry in await asyncio.to_thread(lambda: reader.logs(containers(), tail)) if tail > 0 else []:
        if entry.timestamp is not None:
            since[entry.service] = max(entry.timestamp, since.get(entry.service, started))
        yield entry
    watcher = asyncio.create_task(relist())
    try:
        while True:
            yield await queue.get()
    finally:
        watcher.cancel()
        for follower in followers.values():
            follower.close()
        await asyncio.to_thread(api.close)


def _put(queue: asyncio.Queue[LogEntry], entry: LogEntry) -> None:
    with contextlib.suppress(asyncio.QueueFull):
        queue.put_nowait(entry)
