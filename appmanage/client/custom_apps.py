"""Commands of the operator's own compose apps: the files an install or edit sends, `edit`,
and `compose` (prints the app's compose file and `.env`)."""

from __future__ import annotations

import argparse

from appmanage.client import output
from appmanage.client.actions import started
from appmanage.client.custom_input import read_text
from appmanage.client.documents import ACCEPTED
from appmanage.client.session import OK, Session
from appmanage.client.transport import ApiError

EDIT = f"""mutation Edit($name: String!, $compose: String!, $env: String) {{
  editApp(name: $name, compose: $compose, env: $env) {{ {ACCEPTED} }} }}"""
COMPOSE = "query Compose($name: String!) { app(name: $name) { name source compose { compose env } } }"


def edit(session: Session, args: argparse.Namespace) -> int:
    compose = read_text(args.compose, "--compose")
    env = read_text(args.env, "--env") if args.env else None
    data = session.transport.execute(EDIT, name=args.name, compose=compose, env=env)
    return started(session, data["editApp"])


def compose(session: Session, args: argparse.Namespace) -> int:
    found = session.transport.execute(COMPOSE, name=args.name)["app"]
    if found is None:
        raise ApiError("NotFoundError", f"no app named {args.name!r}")
    files = found["compose"]
    if files is None:
        raise ApiError(
            "ValidationError", f"{args.name} is a catalog app ({found['source']}): it has no compose of yours"
        )
    if session.json:
        output.as_json(files)
        return OK
    print(files["compose"], end="" if files["compose"].endswith("\n") else "\n")
    if files["env"] is not None:
        print("\n# .env")
        print(files["env"], end="" if files["env"].endswith("\n") else "\n")
    return OK
