"""The harness shared by tests/ and bench/: one of each tool, nothing that asserts a
product rule.

- `graphql`: GraphQL over HTTP (in-process TestClient or a real URL, same API), the admin
  token and the query documents the tests share.
- `wsclient`: a graphql-transport-ws client.
- `tokens`: API tokens made through the API.
- `ports`, `waiting`, `run`: free ports, polling, this run's id and fixture folders.
- `processes`: `appmanage serve|worker|watch` as subprocesses (one server, or a Stack).
- `faults`: private Redis and Docker daemons to kill and restart.
- `projects`: compose projects in Docker: what a run left behind, and how to remove it.
- `playwright`: Playwright driving Debian's Chromium (fixtures `page`, `traffic`).
- `databases`: a migrated SQLite file, a private PostgreSQL database (fixture `postgres`).
- `websoft9`: the Websoft9 fixture catalog, its network fixture `w9_network`, container env.

Fixtures defined here are registered for every test by tests/conftest.py.
"""
