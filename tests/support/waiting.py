"""Polling until something holds, with a deadline and a message that says what was awaited."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(check: Callable[[], T | None], timeout: float, what: str, interval: float = 0.2) -> T:
    """The first truthy result of `check`; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def elapsed_until(check: Callable[[], object], timeout: float, what: str) -> float:
    """Seconds until `check` holds."""
    started = time.monotonic()
    wait_for(check, timeout, what)
    return time.monotonic() - started
