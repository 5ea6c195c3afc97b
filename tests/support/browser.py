"""Headless Chromium driven over the Chrome DevTools Protocol, with nothing but `websockets`:
no driver binary to match, nothing downloaded. It records what the page requests, so a test
can see every URL, status and failure, and every websocket frame."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.request import urlopen

from websockets.asyncio.client import ClientConnection, connect

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
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Traffic:
    """What the page asked for and what came back, from the Network domain's events."""

    requests: dict[str, str] = field(default_factory=dict)
    responses: list[tuple[str, int]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    frames_sent: list[dict[str, Any]] = field(default_factory=list)
    frames_received: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def record(self, method: str, params: dict[str, Any]) -> None:
        if method == "Network.requestWillBeSent":
            if not params["request"]["url"].startswith("data:"):
                self.requests[params["requestId"]] = params["request"]["url"]
        elif method == "Network.webSocketCreated":
            self.requests[params["requestId"]] = params["url"]
        elif method == "Network.responseReceived":
            if not params["response"]["url"].startswith("data:"):
                self.responses.append((params["response"]["url"], params["response"]["status"]))
        elif method == "Network.loadingFailed":
            self.failures.append((self.requests.get(params["requestId"], "?"), params["errorText"]))
        elif method in ("Network.webSocketFrameSent", "Network.webSocketFrameReceived"):
            frames = self.frames_sent if method.endswith("Sent") else self.frames_received
            with contextlib.suppress(ValueError):
                frames.append(json.loads(params["response"]["payloadData"]))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.errors.append(details.get("exception", {}).get("description") or details["text"])


class Page:
    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.traffic = Traffic()
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._loaded = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.socket:
            message = json.loads(raw)
            if "id" in message:
                future = self._pending.pop(message["id"])
                if "error" in message:
                    future.set_exception(RuntimeError(f"{message['error']}"))
                else:
                    future.set_result(message.get("result", {}))
            elif message["method"] == "Page.loadEventFired":
                self._loaded.set()
            else:
                self.traffic.record(message["method"], message.get("params", {}))

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[self._next_id] = future
        await self.socket.send(json.dumps({"id": self._next_id, "method": method, "params": params}))
        return await asyncio.wait_for(future, 30)

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression!r} threw {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, seconds: float = 30) -> Any:
        """The first truthy value of a JavaScript expression, checked every 100 ms."""
        return await poll(lambda: self.evaluate(expression), expression, seconds)

    async def wait_until(self, check: Callable[[], Any], what: str, seconds: float = 30) -> Any:
        async def checked() -> Any:
            return check()

        return await poll(checked, what, seconds)

    async def goto(self, url: str) -> None:
        self._loaded.clear()
        await self.send("Page.navigate", url=url)
        await asyncio.wait_for(self._loaded.wait(), 30)

    async def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element."""
        box = await self.wait_for(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return null;"
            " const r = e.getBoundingClientRect(); return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            await self.send("Input.dispatchMouseEvent", type=kind, x=box["x"], y=box["y"], button="left", clickCount=1)

    async def close(self) -> None:
        self._reader.cancel()
        await self.socket.close()


async def poll(value: Callable[[], Awaitable[Any]], what: str, seconds: float) -> Any:
    """The first truthy result of `value`, asked every 100 ms for at most `seconds`."""
    try:
        async with asyncio.timeout(seconds):
            while True:
                if result := await value():
                    return result
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}") from None


@contextlib.asynccontextmanager
async def chromium_page(executable: str) -> AsyncIterator[Page]:
    """A fresh headless Chromium (own profile, removed after) and its one page, recording traffic."""
    profile = Path(tempfile.mkdtemp(prefix="appmanage-chromium-"))
    process = await asyncio.create_subprocess_exec(
        executable,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    page: Page | None = None
    try:
        port = await _devtools_port(profile, process)
        targets = json.loads(await asyncio.to_thread(_get, f"http://127.0.0.1:{port}/json/list"))
        url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        page = Page(await connect(url, max_size=None, ping_interval=None))
        for domain in ("Page", "Network", "Runtime"):
            await page.send(f"{domain}.enable")
        yield page
    finally:
        if page is not None:
            await page.close()
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()
        shutil.rmtree(profile, ignore_errors=True)


async def _devtools_port(profile: Path, process: asyncio.subprocess.Process) -> int:
    announced = profile / "DevToolsActivePort"

    async def announcement() -> str:
        if process.returncode is not None:
            raise RuntimeError(f"chromium exited with {process.returncode}")
        return announced.read_text().strip() if announced.is_file() else ""

    return int((await poll(announcement, "chromium's DevTools port", 30)).split()[0])


def _get(url: str) -> str:
    with urlopen(url, timeout=10) as response:
        return str(response.read().decode())
