"""The dashboard at `/` in headless Chromium, against the real API, workers and watcher: an
install through the generated form goes RUNNING live, Stop in the table brings EXITED live,
a failed install shows Docker's error as the API words it, and a VIEWER token sees no
action buttons. Screenshots go to $APPMANAGE_SCREENSHOTS (docs/screenshots for the README)
when it is set; the first load time is printed (run with -s to see it)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from appmanage.dashboard import page as dashboard
from appmanage.enums import Role
from tests.support.browser import Page, chromium_page, find_chromium
from tests.support.graphql import ADMIN_TOKEN, GraphQLClient
from tests.support.ports import free_port
from tests.support.processes import Server
from tests.support.tokens import create_token

CHROMIUM = find_chromium()
SCREENSHOTS = os.environ.get("APPMANAGE_SCREENSHOTS")

pytestmark = pytest.mark.docker
in_chromium = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (scripts/ensure-browser.sh)")

# Clicks the element whose accessible name (aria-label or text) is `name` among `selector`
# inside `scope`; in the page itself, so rows that live events move cannot dodge the click.
CLICK = """((scope, selector, name) => {
  const root = scope ? document.querySelector(scope) : document;
  if (!root) return null;
  const named = (e) => (e.getAttribute('aria-label') || e.textContent).trim() === name;
  const found = [...root.querySelectorAll(selector)].find(named);
  if (!found || found.disabled) return null;
  found.click();
  return true;
})"""


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    assert CHROMIUM is not None
    assert dashboard.assets_ready(), "the dashboard is not built: run `make assets`"
    async with chromium_page(CHROMIUM) as opened:
        await opened.send(
            "Emulation.setDeviceMetricsOverride", width=1280, height=860, deviceScaleFactor=1, mobile=False
        )
        yield opened


@pytest.fixture
def admin(server: Server) -> GraphQLClient:
    return GraphQLClient.over_http(server.base)


async def click(page: Page, name: str, within: str | None = None, selector: str = "button, a") -> None:
    await page.wait_for(f"{CLICK}({json.dumps(within)}, {json.dumps(selector)}, {json.dumps(name)})")


async def type_into(page: Page, selector: str, text: str) -> None:
    """Focuses the field, empties it and types `text` as a person would."""
    await page.wait_for(f"!!document.querySelector({json.dumps(selector)})")
    await page.evaluate(
        f"(() => {{ const e = document.querySelector({json.dumps(selector)}); e.focus(); e.select(); }})()"
    )
    await page.send("Input.insertText", text=text)


async def press_enter(page: Page) -> None:
    for kind in ("keyDown", "keyUp"):
        await page.send(
            "Input.dispatchKeyEvent", type=kind, key="Enter", code="Enter", windowsVirtualKeyCode=13, text="\r"
        )


async def sign_in(page: Page, base: str, token: str) -> None:
    await page.goto(f"{base}/")
    await type_into(page, "input#token", token)
    await press_enter(page)
    await page.wait_for("!!document.querySelector('nav[aria-label=Main]')")


def row_status(name: str) -> str:
    """JavaScript: the status text in the apps table's row of `name`, or null."""
    return f"document.querySelector('tr[data-app={json.dumps(name)}] .status')?.textContent"


async def screenshot(page: Page, name: str) -> None:
    if not SCREENSHOTS:
        return
    shot = await page.send("Page.captureScreenshot", format="png", captureBeyondViewport=False)
    await asyncio.to_thread(save_png, Path(SCREENSHOTS) / f"{name}.png", shot["data"])


def save_png(path: Path, data: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(data))


async def first_load_ms(page: Page) -> float:
    """A reload, timed from navigation to the apps table rendered with the API's rows."""
    url = (await page.evaluate("location.href")).split("#")[0] + "#/apps"
    await page.goto("about:blank")
    await page.goto(url)
    mark = "performance.getEntriesByName('appmanage:apps-rendered')[0]?.startTime"
    elapsed: float = await page.wait_for(mark)
    return elapsed


def assert_served_locally(page: Page, base: str) -> None:
    local = urlsplit(base).netloc
    remote = [url for url in page.traffic.requests.values() if urlsplit(url).netloc != local]
    assert not remote, f"the dashboard asked other hosts: {remote}"
    assert not page.traffic.errors, f"JavaScript errors: {page.traffic.errors}"


def test_without_its_assets_the_page_says_how_to_build_them(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(dashboard, "STATIC_DIR", tmp_path)
    response = dashboard.dashboard_page()
    assert response.status_code == 503
    assert b"make assets" in response.body
    assert b"<script" not in response.body


def test_the_dashboard_is_at_the_root_and_graphiql_stays_at_graphql(server: Server) -> None:
    root = httpx.get(f"{server.base}/", timeout=10)
    assert root.status_code == 200
    assert '<div id="dashboard">' in root.text
    bundle = httpx.get(f"{server.base}{dashboard.ASSETS_URL}/dashboard.js", timeout=10)
    assert bundle.status_code == 200 and "javascript" in bundle.headers["content-type"]
    graphiql = httpx.get(f"{server.base}/graphql", headers={"Accept": "text/html"}, timeout=10)
    assert "graphiql" in graphiql.text.lower()


@in_chromium
async def test_install_through_the_form_goes_running_live_and_stop_in_the_table_goes_exited(
    server: Server, page: Page, admin: GraphQLClient, app_name: Callable[[str], str]
) -> None:
    name = app_name("dash")
    await sign_in(page, server.base, ADMIN_TOKEN)
    print(f"\ndashboard first load: {await first_load_ms(page):.0f} ms to the apps table")
    await page.evaluate("window.sameDocument = true")

    await click(page, "Install", within="nav")
    await type_into(page, "input[type=search]", "hello")
    await click(page, "Install Hello", within=".catalog")
    await type_into(page, "#app-name", name)
    await type_into(page, "#setting-HTTP_PORT", str(free_port()))
    await click(page, "Preview", within="form.install")
    await page.wait_for("document.querySelector('.preview')?.textContent.includes('No host access warnings')")
    await screenshot(page, "install-preview")

    await click(page, "Confirm install", within=".preview")
    await page.wait_for("document.querySelector('.job h2')?.textContent.includes('INSTALL')")
    await page.wait_for("document.querySelector('.app-status .status')?.textContent === 'RUNNING'", 120)
    assert "SUCCEEDED" in await page.wait_for(
        "document.querySelector('.job-state')?.textContent === 'SUCCEEDED' && 'SUCCEEDED'", 30
    )

    await click(page, "Apps", within="nav")
    assert await page.wait_for(row_status(name)) == "RUNNING"
    await screenshot(page, "apps")
    await click(page, "Stop", within=f"tr[data-app='{name}']")
    await page.wait_for(f"{row_status(name)} === 'STOPPING' || {row_status(name)} === 'EXITED'", 30)
    await page.wait_for(f"{row_status(name)} === 'EXITED'", 60)
    assert (await asyncio.to_thread(admin.app, name) or {})["status"] == "EXITED"
    row = f"document.querySelector('tr[data-app={json.dumps(name)}]')"
    assert "Start" in await page.wait_for(f"[...{row}.querySelectorAll('button')].map((b) => b.textContent).join(',')")
    assert await page.evaluate("window.sameDocument"), "the page was reloaded: status must arrive live"

    await click(page, "Start", within=f"tr[data-app='{name}']")
    await page.wait_for(f"{row_status(name)} === 'RUNNING'", 60)
    await click(page, name, within="table.apps")
    await page.wait_for("document.querySelector('pre[aria-label=\"Container logs\"]')?.textContent.includes('|')", 30)
    assert await page.evaluate("!!document.querySelector('a[href^=\"http://127.0.0.1:\"]')"), "ports are links"
    await screenshot(page, "app")
    assert_served_locally(page, server.base)


@in_chromium
async def test_a_failed_install_shows_dockers_error_as_the_api_words_it(
    server: Server, page: Page, admin: GraphQLClient, app_name: Callable[[str], str]
) -> None:
    name = app_name("dashbroken")
    await sign_in(page, server.base, ADMIN_TOKEN)
    await page.evaluate("location.hash = '#/install/broken'")
    await type_into(page, "#app-name", name)
    await click(page, "Preview", within="form.install")
    await click(page, "Confirm install", within=".preview")
    await page.wait_for("document.querySelector('.job-state')?.textContent === 'FAILED'", 120)
    shown = await page.wait_for("document.querySelector('.job-error')?.textContent")
    await screenshot(page, "install-failed")
    log = await page.evaluate("document.querySelector('pre[aria-label=\"Job log\"]').textContent")
    assert log.count("» docker compose up") == 1, f"the log read and the live lines overlap:\n{log}"
    job = (await asyncio.to_thread(admin.execute, "{ apps { name activeJob { id } jobs(first: 1) { error } } }"))[
        "apps"
    ]
    error = next(app["jobs"][0]["error"] for app in job if app["name"] == name)
    assert shown == error
    assert "Error response from daemon" in shown or "does-not-exist" in shown, shown


@in_chromium
async def test_a_viewer_token_sees_no_action_buttons(
    server: Server, page: Page, admin: GraphQLClient, app_name: Callable[[str], str]
) -> None:
    name = app_name("dashview")
    accepted = await asyncio.to_thread(admin.install, "hello", name, "1", HTTP_PORT=str(free_port()))
    assert accepted["__typename"] == "JobAccepted", accepted
    await asyncio.to_thread(admin.wait_status, name, "RUNNING", timeout=120)
    viewer = await asyncio.to_thread(create_token, admin, Role.VIEWER)

    await sign_in(page, server.base, viewer["secret"])
    assert await page.wait_for(row_status(name)) == "RUNNING"
    assert await page.evaluate("document.querySelectorAll('main button').length") == 0
    await click(page, name, within="table.apps")
    await page.wait_for("!!document.querySelector('#app-title')")
    await page.wait_for("!!document.querySelector('pre[aria-label=\"Container logs\"]')")
    assert await page.evaluate("document.querySelectorAll('main button, main form.update').length") == 0
    await page.evaluate("location.hash = '#/install'")
    await page.wait_for("document.querySelectorAll('.catalog li').length > 0")
    assert await page.evaluate("document.querySelectorAll('.catalog a.button').length") == 0
