"""The dashboard, AppManage's browser client of its own GraphQL API, served at `/`.

Its sources are `src/` (Preact with htm, graphql-ws; no JSX, no CDN). `scripts/dashboard-assets.sh`
(`make assets`) installs the npm packages pinned in `package.json` and `package-lock.json` and
bundles `src/` with esbuild into `static/` (git-ignored), served at `ASSETS_URL`; `page.html`
loads them from there only.
"""

from appmanage.dashboard.page import ASSETS_URL, assets_ready, dashboard_page, dashboard_routes

__all__ = ["ASSETS_URL", "assets_ready", "dashboard_page", "dashboard_routes"]
