"""Playwright driving Debian's Chromium (nothing downloaded: `executable_path`, never
`playwright install`), through the sync API so it never meets pytest-asyncio's loop. The
fixture `page` gives a fresh page in its own browser; `traffic` records what that page asked
for and what came back, every websocket frame and every uncaught JavaScript error."""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Page, Request, Response, ViewportSize, WebSocket, expect, sync_playwright

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
VIEWPORT = ViewportSize(width=1280, height=860)
TIMEOUT_MS = 30_000  # for each action and each expect: the machine is shared, pages are small

T = TypeVar("T")


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


CHROMIUM = find_chromium()
in_chromium = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (scripts/ensure-browser.sh)")


@dataclass
class Traffic:
    """What a page asked for (URLs, websockets included), the statuses and failures that came
    back, the JSON frames of its websockets and its uncaught JavaScript errors."""

    requests: list[str] = field(default_factory=list)
    responses: list[tuple[str, int]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    frames_sent: list[dict[str, Any]] = field(default_factory=list)
    frames_received: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("request", self._request)
        page.on("response", self._response)
        page.on("requestfailed", lambda request: self.failures.append((request.url, request.failure or "?")))
        page.on("websocket", self._websocket)
        page.on("pageerror", lambda error: self.errors.append(error.stack or str(error)))

    def _request(self, request: Request) -> None:
        if not request.url.startswith("data:"):
            self.requests.append(request.url)

    def _response(self, response: Response) -> None:
        if not response.url.startswith("data:"):
            self.responses.append((response.url, response.status))

    def _websocket(self, socket: WebSocket) -> None:
        self.requests.append(socket.url)
        socket.on("framesent", lambda payload: _record_frame(self.frames_sent, payload))
        socket.on("framereceived", lambda payload: _record_frame(self.frames_received, payload))


def _record_frame(frames: list[dict[str, Any]], payload: str | bytes) -> None:
    with contextlib.suppress(ValueError):
        frames.append(json.loads(payload))


def wait_until(page: Page, check: Callable[[], T | None], what: str, seconds: float = 30) -> T:
    """The first truthy result of `check`, asked every 100 ms while the page's events flow
    (the sync API delivers them only while it waits)."""
    deadline = time.monotonic() + seconds
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")
        page.wait_for_timeout(100)
    return result


@pytest.fixture
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture
def page(traffic: Traffic) -> Iterator[Page]:
    """A page in a fresh headless Chromium (own profile, gone after), watched by `traffic`."""
    assert CHROMIUM is not None, "needs Debian's chromium (scripts/ensure-browser.sh)"
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_FLAGS))
        try:
            opened = browser.new_page(viewport=VIEWPORT, device_scale_factor=1)
            opened.set_default_timeout(TIMEOUT_MS)
            traffic.watch(opened)
            yield opened
        finally:
            browser.close()
