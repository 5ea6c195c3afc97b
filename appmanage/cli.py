"""The `appmanage` command."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from appmanage.auth.bearer import admin_token_problem
from appmanage.auth.commands import add_token_parser, token_command
from appmanage.config import Settings
from appmanage.logs import setup_logging

SERVICES = frozenset({"run", "serve", "worker", "watch", "agent"})  # commands that refuse a weak admin token


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="appmanage", description="Run self-hosted apps on a Docker host.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="the API and the agent (workers, event watcher) in the foreground until Ctrl-C")
    commands.add_parser("serve", help="the GraphQL API")
    agent = commands.add_parser("agent", help="the workers and the event watcher of one Docker host")
    agent.add_argument(
        "--host", default="local", help="the Docker host it serves (default: local; DOCKER_HOST picks its engine)"
    )
    agent.add_argument("--api", action="store_true", help="serve the API too, from a forked child (`appmanage run`)")
    worker = commands.add_parser("worker", help="one RQ worker running AppManage's jobs")
    worker.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    worker.add_argument("--host", default="local", help="the Docker host whose queue it takes (default: local)")
    commands.add_parser("watch", help="follow Docker's events and announce app status changes")
    commands.add_parser("migrate", help="bring the database schema up to date")
    export = commands.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    export.add_argument("--output", type=Path, help="write to this file instead")
    add_token_parser(commands)
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in SERVICES:  # a service never loads the API client (~6 MB)
        from appmanage.client.commands import add_client_parsers, run_client

        add_client_parsers(commands)  # API clients: apps, install, logs, ... (appmanage/client/)
    args = parser.parse_args(argv)
    if getattr(args, "client", None) is not None:
        return run_client(args)

    try:
        settings = Settings.from_env()
    except ValueError as exc:  # an APPMANAGE_* value that cannot be used, e.g. an unknown APPMANAGE_REFUSE kind
        print(f"appmanage {args.command}: {exc}", file=sys.stderr)
        return 2
    if args.command in SERVICES and (problem := admin_token_problem(settings)):
        print(f"appmanage {args.command}: {problem}", file=sys.stderr)
        return 2
    handlers: dict[str, Callable[[Settings], int]] = {
        "run": run_all,
        "serve": serve,
        "agent": lambda s: agent_command(s, args.host, args.api),
        "worker": lambda s: run_worker(dataclasses.replace(s, agent_host=args.host), burst=args.burst),
        "watch": watch,
        "migrate": migrate,
        "export-schema": lambda s: export_schema(args.output),
        "token": lambda s: token_command(s, args),
    }
    return int(handlers[args.command](settings) or 0)


def serve(settings: Settings) -> int:
    from appmanage.agent import migrate_in_child
    from appmanage.forking import limit_malloc_arenas

    limit_malloc_arenas()
    setup_logging(settings, "api")
    if code := migrate_in_child(settings):  # before any import or thread of the API
        print(f"appmanage serve: migrating the database failed (exit code {code}; its error is above)", file=sys.stderr)
        return code

    from appmanage.serving import serve_api

    return serve_api(settings)


def run_worker(settings: Settings, burst: bool = False) -> int:
    from appmanage.agent import run_worker as work

    return work(settings, burst=burst)


def watch(settings: Settings) -> int:
    from appmanage.agent import run_watcher

    return run_watcher(settings)


def agent_command(settings: Settings, host: str, api: bool = False) -> int:
    from appmanage.agent import HOST_NAME, run_agent

    if not HOST_NAME.match(host):
        print(f"appmanage agent: host name {host!r}: use lowercase letters, digits, '.', '_' or '-'", file=sys.stderr)
        return 2
    return run_agent(settings, host, api=api)


def migrate(settings: Settings) -> int:
    from appmanage.services import Services

    services = Services(settings)
    services.db.migrate()
    services.close()
    return 0


def export_schema(output: Path | None) -> int:
    from appmanage.schema.schema import schema

    text = schema.as_str() + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)
    return 0


def run_all(settings: Settings) -> int:
    """The API and the agent as supervised children; Ctrl-C stops them all. Once the
    database is migrated this process becomes the supervisor (exec), which imports
    nothing heavy: what this one imported to check and migrate is gone with it."""
    setup_logging(settings, "run")
    migrate(settings)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "appmanage.supervisor"])


if __name__ == "__main__":
    sys.exit(main())
