"""The dashboard's page at `/` and its bundled files at `/dashboard-assets`."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
ASSETS_URL = "/dashboard-assets"
ASSETS = ("dashboard.js", "dashboard.css")

ASSETS_MISSING = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>AppManage: dashboard not built</title><link rel="icon" href="data:,"></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>The dashboard is not set up yet</h1>
<p>AppManage serves its dashboard itself, and it has not been built on this machine.
Run <code>make assets</code> (or <code>scripts/dashboard-assets.sh</code>) in the AppManage folder,
then reload this page. It needs the npm registry once; after that, no internet.</p>
<p>The API itself works: GraphiQL is at <a href="graphql">/graphql</a>.</p>
</body>
</html>
"""


def assets_ready() -> bool:
    return all((STATIC_DIR / name).is_file() for name in ASSETS)


def dashboard_page(root_path: str = "") -> HTMLResponse:
    """The dashboard's HTML; it needs no token (the API calls it makes do)."""
    if not assets_ready():
        return HTMLResponse(ASSETS_MISSING, status_code=503)
    stamp = STATIC_DIR / ".stamp"
    version = stamp.read_text().strip()[:12] if stamp.is_file() else "dev"
    html = (HERE / "page.html").read_text().replace("{{ assets }}", root_path + ASSETS_URL)
    return HTMLResponse(html.replace("{{ version }}", version), headers={"Cache-Control": "no-cache"})


async def _page(request: Request) -> HTMLResponse:
    return dashboard_page(request.scope.get("root_path", ""))


def dashboard_routes() -> list[BaseRoute]:
    return [
        Route("/", _page, methods=["GET"], name="dashboard"),
        Mount(ASSETS_URL, app=StaticFiles(directory=STATIC_DIR, check_dir=False), name="dashboard-assets"),
    ]
