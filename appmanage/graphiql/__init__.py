"""GraphiQL served by AppManage itself, so it works on a machine without internet.

`scripts/graphiql-assets.sh` (`make assets`) installs the npm packages pinned in
`package.json` and `package-lock.json` and copies the browser files into `static/`
(git-ignored); `page.html` loads them from `ASSETS_URL` only.
"""

from appmanage.graphiql.page import ASSETS_URL, assets_mount, graphiql_page

__all__ = ["ASSETS_URL", "assets_mount", "graphiql_page"]
