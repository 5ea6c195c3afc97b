"""Following a job to its end: over the `jobUpdated` subscription, or by polling the `job`
query when the websocket cannot be used. In a terminal a progress bar is drawn on stderr;
elsewhere each new step is one line on stderr, so stdout stays the command's answer."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from appmanage.client import documents
from appmanage.client.transport import ClientError, Transport

FINISHED = frozenset({"SUCCEEDED", "FAILED", "CANCELED"})
BAR_WIDTH = 30
POLL_SECONDS = 1.0


class ProgressBar:
    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stderr
        self.live = self.out.isatty()
        self._last_step: str | None = None

    def show(self, job: dict[str, Any]) -> None:
        step = job.get("step") or job["state"].lower()
        if self.live:
            fraction = job.get("progress") or (1.0 if job["state"] in FINISHED else 0.0)
            done = round(max(0.0, min(1.0, fraction)) * BAR_WIDTH)
            bar = "#" * done + "-" * (BAR_WIDTH - done)
            line = f"{job['kind'].lower()} {job['app']} [{bar}] {fraction:4.0%} {step}"[:120]
            self.out.write("\r\033[K" + line)
            self.out.flush()
        elif step != self._last_step:
            print(f"{job['kind'].lower()} {job['app']}: {step}", file=self.out, flush=True)
        self._last_step = step

    def line(self, text: str) -> None:
        """A log line above the bar."""
        self.out.write(("\r\033[K" if self.live else "") + text + "\n")
        self.out.flush()

    def end(self) -> None:
        if self.live:
            self.out.write("\n")
            self.out.flush()


def job_updates(transport: Transport, job_id: str) -> Iterator[tuple[dict[str, Any], str | None]]:
    """(job, new log line or None) until the job has finished; polls when the websocket fails."""
    job: dict[str, Any] | None = None
    try:
        for data in transport.subscribe(documents.FOLLOW_JOB, id=job_id):
            event = data["jobUpdated"]
            job = event["job"]
            yield job, event.get("line")
            if job["state"] in FINISHED:
                return
    except ClientError:
        pass
    while job is None or job["state"] not in FINISHED:
        found = transport.execute(documents.JOB_ONE, id=job_id, tail=0)["job"]
        if found is None:
            raise ClientError(f"job {job_id} is gone")
        if job is None or found != job:
            yield found, None
        job = found
        if job["state"] not in FINISHED:
            time.sleep(POLL_SECONDS)


def follow_job(
    transport: Transport, job_id: str, bar: ProgressBar | None = None, on_line: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """The job as it ended, drawn on `bar` meanwhile; each log line to `on_line`."""
    job: dict[str, Any] = {}
    try:
        for job, line in job_updates(transport, job_id):
            if line is not None and on_line is not None:
                on_line(line)
            if bar is not None:
                bar.show(job)
    finally:
        if bar is not None:
            bar.end()
    return job
