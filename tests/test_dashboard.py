"""The dashboard at `/` in Debian's Chromium driven by Playwright, against the real API,
workers and watcher: an install through the generated form goes RUNNING live, Stop in the
table brings EXITED live, a failed install shows Docker's error as the API words it, and a
VIEWER token sees no action buttons. Elements are found by their accessible names. No request
leaves AppManage and no JavaScript error is thrown. Screenshots go to $APPMANAGE_SCREENSHOTS
(docs/screenshots for the README) when it is set; the first load time is printed (run with
-s to see it)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from appmanage.dashboard import page as dashboard
from appmanage.enums import Role
from tests.support.graphql import ADMIN_TOKEN, GraphQLClient
from tests.support.playwright import Traffic, in_chromium
from tests.support.ports import free_port
from tests.support.processes import Server
from tests.support.tokens import create_token

SCREENSHOTS = os.environ.get("APPMANAGE_SCREENSHOTS")
JOB_MS = 120_000  # an install pulls and starts containers on a shared machine
CHANGE_MS = 60_000  # a stop or start

pytestmark = pytest.mark.docker


@pytest.fixture
def admin(server: Server) -> GraphQLClient:
    return GraphQLClient.over_http(server.base)


def sign_in(page: Page, base: str, token: str) -> None:
    assert dashboard.assets_ready(), "the dashboard is not built: run `make assets`"
    page.goto(f"{base}/")
    page.get_by_label("Token").fill(token)
    page.get_by_label("Token").press("Enter")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def nav(page: Page, name: str) -> Locator:
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def app_row(page: Page, name: str) -> Locator:
    """The apps table's row whose row header is the app's name."""
    header = page.get_by_role("rowheader", name=name, exact=True)
    return page.get_by_role("table").get_by_role("row").filter(has=header)


def status(scope: Locator) -> Locator:
    """The status text (RUNNING, EXITED…) shown inside `scope`, without its reason."""
    return scope.locator(".status")


def screenshot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=Path(SCREENSHOTS) / f"{name}.png")


def first_load_ms(page: Page) -> float:
    """A reload, timed from navigation to the apps table rendered with the API's rows."""
    url = page.url.split("#")[0] + "#/apps"
    page.goto("about:blank")
    page.goto(url)
    mark = page.wait_for_function("performance.getEntriesByName('appmanage:apps-rendered')[0]?.startTime")
    elapsed: float = mark.json_value()
    return elapsed


def assert_served_locally(traffic: Traffic, base: str) -> None:
    local = urlsplit(base).netloc
    remote = [url for url in traffic.requests if urlsplit(url).netloc != local]
    assert not remote, f"the dashboard asked other hosts: {remote}"
    assert not traffic.errors, f"JavaScript errors: {traffic.errors}"


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
def test_install_through_the_form_goes_running_live_and_stop_in_the_table_goes_exited(
    server: Server, page: Page, traffic: Traffic, admin: GraphQLClient, app_name: Callable[[str], str]
) -> None:
    name = app_name("dash")
    sign_in(page, server.base, ADMIN_TOKEN)
    print(f"\ndashboard first load: {first_load_ms(page):.0f} ms to the apps table")
    page.evaluate("window.sameDocument = true")

    nav(page, "Install").click()
    page.get_by_role("searchbox", name="Search the catalog").fill("hello")
    page.get_by_role("link", name="Install Hello", exact=True).click()
    page.get_by_label("Name *", exact=True).fill(name)
    page.get_by_label("HTTP port on 127.0.0.1 *", exact=True).fill(str(free_port()))
    page.get_by_role("button", name="Preview", exact=True).click()
    preview = page.get_by_role("region", name="Preview")
    expect(preview).to_contain_text("No host access warnings")
    screenshot(page, "install-preview")

    preview.get_by_role("button", name="Confirm install").click()
    job = page.get_by_role("region", name=f"Job INSTALL of {name}")
    expect(job.get_by_role("heading", level=2)).to_contain_text("INSTALL")
    expect(status(job.locator(".app-status"))).to_have_text("RUNNING", timeout=JOB_MS)
    expect(job.locator(".job-state")).to_have_text("SUCCEEDED")

    nav(page, "Apps").click()
    row = app_row(page, name)
    expect(status(row)).to_have_text("RUNNING")
    filters = page.locator("form.filters")
    filters.get_by_label("Host").select_option("local")
    expect(row).to_contain_text("local")
    filters.get_by_label("Status").select_option("EXITED")
    expect(row).not_to_be_attached()
    filters.get_by_label("Status").select_option("")
    expect(row).to_be_visible()
    screenshot(page, "apps")
    row.get_by_role("button", name="Stop", exact=True).click()
    expect(status(row)).to_have_text(re.compile(r"^(STOPPING|EXITED)$"))
    expect(status(row)).to_have_text("EXITED", timeout=CHANGE_MS)
    assert (admin.app(name) or {})["status"] == "EXITED"
    expect(row.get_by_role("button", name="Start", exact=True)).to_be_enabled()
    assert page.evaluate("window.sameDocument"), "the page was reloaded: status must arrive live"

    row.get_by_role("button", name="Start", exact=True).click()
    expect(status(row)).to_have_text("RUNNING", timeout=CHANGE_MS)
    row.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_label("Container logs")).to_contain_text("|")
    # Playwright's selector parser ends a pattern at a bare slash: they are escaped.
    ports = page.get_by_role("link", name=re.compile(r"^http:\/\/127\.0\.0\.1:\d+\/$"))
    expect(ports.first).to_be_visible()
    screenshot(page, "app")
    assert_served_locally(traffic, server.base)


@in_chromium
def test_a_failed_install_shows_dockers_error_as_the_api_words_it(
    server: Server, page: Page, traffic: Traffic, admin: GraphQLClient, app_name: Callable[[str], str]
) -> None:
    name = app_name("dashbroken")
    sign_in(page, server.base, ADMIN_TOKEN)
    page.evaluate("location.hash = '#/install/broken'")
    page.get_by_label("Name *", exact=True).fill(name)
    page.get_by_role("button", name="Preview", exact=True).click()
    page.get_by_role("region", name="Preview").get_by_role("button", name="Confirm install").click()
    job = page.get_by_role("region", name=f"Job INSTALL of {name}")
    expect(job.locator(".job-state")).to_have_text("FAILED", timeout=JOB_MS)
    expect(job.locator(".job-error")).not_to_be_empty()
    shown = job.locator(".job-error").text_content() or ""
    screenshot(page, "install-failed")
    log = job.get_by_label("Job log").text_content() or ""
    assert log.count("» docker compose up") == 1, f"the log read and the live lines overlap:\n{log}"
    apps = admin.execute("{ apps { name activeJob { id } jobs(first: 1) { error } } }")["apps"]
    error = next(app["jobs"][0]["error"] for app in apps if app["name"] == name)
    assert shown == error
    assert "Error response from daemon" in shown or "does-not-exist" in shown, shown
    assert_served_locally(traffic, server.base)


@in_chromium
def test_a_viewer_token_sees_no_action_buttons(
    server: Server, page: Page, admin: GraphQLClient, app_name: Callable[[str], str]
) -> None:
    name = app_name("dashview")
    accepted = admin.install("hello", name, "1", HTTP_PORT=str(free_port()))
    assert accepted["__typename"] == "JobAccepted", accepted
    admin.wait_status(name, "RUNNING", timeout=120)
    viewer = create_token(admin, Role.VIEWER)

    sign_in(page, server.base, viewer["secret"])
    main = page.get_by_role("main")
    row = app_row(page, name)
    expect(status(row)).to_have_text("RUNNING")
    expect(main.get_by_role("button")).to_have_count(0)
    row.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("article", name=name)).to_be_visible()
    expect(page.get_by_label("Container logs")).to_be_attached()
    expect(main.get_by_role("button")).to_have_count(0)
    expect(main.locator("form.update")).to_have_count(0)
    page.evaluate("location.hash = '#/install'")
    expect(page.get_by_role("heading", name="Install an app")).to_be_visible()
    expect(main.get_by_role("listitem").first).to_be_visible()
    expect(main.get_by_role("link", name=re.compile(r"^Install "))).to_have_count(0)


CUSTOM_COMPOSE = """services:
  idle:
    image: appmanage-local/busybox:1
    init: true
    command: ["sleep", "3600"]
"""
INSTALL_CUSTOM = """mutation($input: InstallAppInput!) { installApp(input: $input) {
  __typename ... on JobAccepted { job { id } } ... on Error { message } } }"""


def subscription_ids(traffic: Traffic, field: str) -> set[str]:
    return {
        str(frame["id"])
        for frame in traffic.frames_sent
        if frame.get("type") == "subscribe" and field in frame.get("payload", {}).get("query", "")
    }


def completed_ids(traffic: Traffic) -> set[str]:
    return {str(frame["id"]) for frame in traffic.frames_sent if frame.get("type") == "complete"}


@in_chromium
def test_an_apps_page_shows_live_stats_backs_up_and_schedules(
    server: Server, page: Page, traffic: Traffic, admin: GraphQLClient, app_name: Callable[[str], str]
) -> None:
    name, custom = app_name("dashnotes"), app_name("dashcustom")
    accepted = admin.install("notes", name, "1", HTTP_PORT=str(free_port()))
    assert accepted["__typename"] == "JobAccepted", accepted
    mine = admin.execute(INSTALL_CUSTOM, input={"name": custom, "compose": CUSTOM_COMPOSE})["installApp"]
    assert mine["__typename"] == "JobAccepted", mine
    admin.wait_status(name, "RUNNING", timeout=120)
    admin.wait_status(custom, "RUNNING", timeout=120)

    sign_in(page, server.base, ADMIN_TOKEN)
    expect(app_row(page, custom).get_by_role("cell").nth(2)).to_have_text("custom")
    app_row(page, name).get_by_role("link", name=name, exact=True).click()
    article = page.get_by_role("article", name=name)
    stats = article.get_by_role("table", name="Live stats")
    expect(stats.get_by_role("rowheader")).to_have_text(["web", "writer", "Total"], timeout=CHANGE_MS)
    total = stats.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Total"))
    expect(total.get_by_role("cell").first).to_have_text(re.compile(r"^\d+\.\d %$"))
    expect(total.get_by_role("cell").nth(1)).to_have_text(re.compile(r"^[\d.]+ (KiB|MiB) / [\d.]+ (MiB|GiB)"))
    expect(article.get_by_text("No backups yet.")).to_be_visible()
    expect(article.get_by_role("heading", name="Update", exact=True)).to_have_count(0)  # notes has one version

    article.get_by_role("button", name="Back up now").click()
    job = page.get_by_role("region", name=f"Job BACKUP of {name}")
    expect(job.locator(".job-state")).to_have_text("SUCCEEDED", timeout=JOB_MS)
    job.get_by_role("link", name=name, exact=True).click()
    backups = article.get_by_role("table", name="Backups")
    expect(backups.get_by_role("row")).to_have_count(2)
    expect(backups.get_by_role("row").nth(1)).to_contain_text("backup")
    expect(backups.get_by_role("button", name="Restore")).to_be_visible()

    schedules = article.get_by_role("region", name="Schedules")
    schedules.get_by_label("Cron (UTC)").fill("not a cron")
    schedules.get_by_role("button", name="Add schedule").click()
    expect(schedules.get_by_role("alert")).to_contain_text("cron")
    schedules.get_by_label("Kind").select_option("RESTART")
    schedules.get_by_label("Cron (UTC)").fill("15 4 * * 0")
    schedules.get_by_role("button", name="Add schedule").click()
    expect(schedules.get_by_role("table", name="Schedules").get_by_role("rowheader")).to_have_text(["RESTART"])
    article.get_by_role("heading", name="Resources").evaluate("heading => heading.scrollIntoView()")
    expect(stats.get_by_role("rowheader")).to_have_text(["web", "writer", "Total"], timeout=CHANGE_MS)
    screenshot(page, "app-day-two")
    schedules.get_by_role("button", name="Remove restart at 15 4 * * 0").click()
    expect(schedules.get_by_text("No schedules.")).to_be_visible()

    opened = subscription_ids(traffic, "appStats")
    assert opened, "the page did not subscribe to appStats"
    nav(page, "Apps").click()
    expect(app_row(page, name)).to_be_visible()
    for _ in range(50):  # Playwright hands over the frames sent as the page unmounts on its next calls
        if opened <= completed_ids(traffic):
            break
        page.wait_for_timeout(100)
    assert opened <= completed_ids(traffic), "the stats subscription outlived the app's page"
    assert_served_locally(traffic, server.base)


GREETING_COMPOSE = """# mine, kept byte for byte
services:
  idle:
    image: {image}
    init: true
    environment:
      GREETING: ${{GREETING}}
    command: ["sleep", "3600"]
"""


@in_chromium
def test_install_from_a_compose_file_and_a_failed_edit_rolls_back_in_the_page(
    server: Server, page: Page, traffic: Traffic, admin: GraphQLClient, app_name: Callable[[str], str]
) -> None:
    name = app_name("dashown")
    compose, env = GREETING_COMPOSE.format(image="appmanage-local/busybox:1"), "GREETING=hi\nAPI_TOKEN=t0ken\n"
    sign_in(page, server.base, ADMIN_TOKEN)
    nav(page, "Install").click()
    page.get_by_role("link", name="Install from a compose file").click()
    page.get_by_label("Name *", exact=True).fill(name)
    page.get_by_label("Compose file *", exact=True).fill(compose)
    page.get_by_label(".env (optional)", exact=True).fill(env)
    page.get_by_role("button", name="Preview", exact=True).click()
    preview = page.get_by_role("region", name="Preview")
    expect(preview).to_contain_text("No host access warnings")
    expect(preview.locator("pre")).to_contain_text("GREETING: hi", use_inner_text=False)
    preview.get_by_role("button", name="Confirm install").click()
    job = page.get_by_role("region", name=f"Job INSTALL of {name}")
    expect(status(job.locator(".app-status"))).to_have_text("RUNNING", timeout=JOB_MS)
    expect(job.locator(".job-state")).to_have_text("SUCCEEDED")

    job.get_by_role("link", name=name, exact=True).click()
    files = page.get_by_role("region", name="Compose files")
    expect(files.get_by_label("Compose file *", exact=True)).to_have_value(compose)
    expect(files.get_by_label(".env (optional)", exact=True)).to_have_value(env)
    expect(page.get_by_role("heading", name="Update", exact=True)).to_have_count(0)

    files.get_by_label("Compose file *", exact=True).fill(GREETING_COMPOSE.format(image="appmanage-local/no-such:1"))
    files.get_by_role("button", name="Save and recreate").click()
    edit = files.get_by_role("region", name=f"Job EDIT of {name}")
    expect(edit.locator(".job-state")).to_have_text("FAILED", timeout=JOB_MS)
    expect(edit.locator(".job-error")).to_contain_text("rolled back to the previous compose files")
    expect(files.get_by_role("status")).to_contain_text("The edit failed")
    expect(files.get_by_label("Compose file *", exact=True)).to_have_value(compose)
    expect(status(page.get_by_role("article", name=name))).to_have_text("RUNNING", timeout=CHANGE_MS)
    screenshot(page, "custom-app-edit-failed")
    assert (admin.app(name) or {})["status"] == "RUNNING"
    assert_served_locally(traffic, server.base)
