from __future__ import annotations

from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
ASSETS_URL = "/graphiql-assets"
ASSETS = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "graphiql.min.css",
    "graphql-ws.min.js",
)

ASSETS_MISSING = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>AppManage GraphiQL: assets not built</title><link rel="icon" href="data:,"></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>GraphiQL is not set up yet</h1>
<p>AppManage serves GraphiQL's files itself, and they have not been fetched on this machine.
Run <code>make assets</code> (or <code>scripts/graphiql-assets.sh</code>) in the AppManage folder,
then reload this page. It needs the npm registry once; after that, no internet.</p>
<p>The API itself works: POST GraphQL requests to this URL.</p>
</body>
</html>
"""


def assets_ready() -> bool:
    return all((STATIC_DIR / name).is_file() for name in ASSETS)


def graphiql_page(root_path: str = "") -> HTMLResponse:
    """The GraphiQL page; it talks to the URL it was served from."""
    if not assets_ready():
        return HTMLResponse(ASSETS_MISSING, status_code=503)
    html = (HERE / "page.html").read_text().replace("{{ assets }}", root_path + ASSETS_URL)
    return HTMLResponse(html)


def assets_mount() -> Mount:
    return Mount(ASSETS_URL, app=StaticFiles(directory=STATIC_DIR, check_dir=False), name="graphiql-assets")
