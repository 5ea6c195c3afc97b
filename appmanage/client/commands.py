"""The client commands as argparse subcommands of `appmanage`, and API_COMMANDS: the
command behind each field of the API's Query, Mutation and Subscription (a test checks
that no field is missing)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from appmanage.client import actions, backups, custom_apps, documents, hosts, reads, schedules, stats
from appmanage.client.output import fail
from appmanage.client.session import REFUSED, UNREACHABLE, Session, add_connection_options, add_wait_option
from appmanage.client.transport import ApiError, ClientError

Handler = Callable[[Session, argparse.Namespace], int]
Subparsers = Any  # argparse's private _SubParsersAction

API_COMMANDS: dict[str, str] = {
    "Query.tokens": "api-token list",
    "Query.catalog": "catalog",
    "Query.catalogApp": "catalog-app",
    "Query.catalogProblems": "catalog-problems",
    "Query.previewInstall": "preview",
    "Query.apps": "apps",
    "Query.appsConnection": "apps --first",
    "Query.app": "app",
    "Query.job": "job",
    "Query.appLogs": "logs",
    "Query.health": "health",
    "Query.viewer": "whoami",
    "Mutation.createToken": "api-token create",
    "Mutation.revokeToken": "api-token revoke",
    "Mutation.installApp": "install",
    "Mutation.startApp": "start",
    "Mutation.stopApp": "stop",
    "Mutation.restartApp": "restart",
    "Mutation.redeployApp": "redeploy",
    "Mutation.updateApp": "update",
    "Mutation.uninstallApp": "uninstall",
    "Mutation.cancelJob": "cancel",
    "Mutation.editApp": "edit",
    "Subscription.appStatusChanged": "apps --follow",
    "Subscription.jobUpdated": "job --follow",
    "Subscription.appLogs": "logs --follow",
    "Subscription.events": "events",
    "Query.hosts": "hosts",
    "Query.host": "host",
    "Mutation.drainHost": "drain",
    "Mutation.undrainHost": "undrain",
    "Subscription.hostStatusChanged": "hosts --follow",
    **stats.API_COMMANDS,
    **backups.API_COMMANDS,
    **schedules.API_COMMANDS,
}


def add_client_parsers(commands: Subparsers) -> frozenset[str]:
    """Adds the client commands; returns their names."""
    names: list[str] = []

    def command(name: str, handler: Handler, help_text: str, wait: bool = False) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = commands.add_parser(name, help=help_text, description=help_text)
        add_connection_options(parser)
        if wait:
            add_wait_option(parser)
        parser.set_defaults(client=handler)
        names.append(name)
        return parser

    apps = command("apps", reads.apps, "installed apps and their status")
    apps.add_argument("--status", help="only apps in this status, e.g. RUNNING")
    apps.add_argument("--follow", action="store_true", help="then print each status change as it happens")
    apps.add_argument("--first", type=int, help="one page of this many apps, in name order")
    apps.add_argument("--after", help="the page after this cursor (with --first)")
    app = command("app", reads.app, "one app: status, services, ports, settings")
    app.add_argument("name")
    app.add_argument("--reveal", action="store_true", help="show secret settings (ADMIN)")
    for name, document, mutation in (
        ("start", documents.START, "startApp"),
        ("stop", documents.STOP, "stopApp"),
        ("restart", documents.RESTART, "restartApp"),
    ):
        command(name, actions.lifecycle(mutation, document), f"{name} an app (a job)", wait=True).add_argument("name")
    for name, handler, help_text in (
        ("install", actions.install, "install an app from the catalog (a job)"),
        ("preview", actions.preview, "an install as it would run (settings, warnings, compose); creates nothing"),
    ):
        parser = command(name, handler, help_text, wait=name == "install")
        parser.add_argument("catalog_app", metavar="CATALOG_APP", nargs="?", help="with --compose: the app's NAME")
        parser.add_argument("--name", help="the app's name: ^[a-z][a-z0-9-]{1,30}$")
        parser.add_argument("--compose", metavar="FILE", help="your own compose file instead of a catalog app")
        parser.add_argument("--env", metavar="FILE", help="with --compose: its .env file")
        parser.add_argument("--version", help="a catalog version (default: the catalog's default)")
        parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="a setting; repeat for more")
    redeploy = command("redeploy", actions.redeploy, "recreate an app, with changed settings (a job)", wait=True)
    redeploy.add_argument("name")
    redeploy.add_argument("--set", action="append", metavar="KEY=VALUE", help="an editable setting; repeat")
    update = command("update", actions.update, "move an app to another catalog version (a job)", wait=True)
    update.add_argument("name")
    update.add_argument("--version", required=True)
    edit = command("edit", custom_apps.edit, "replace your own compose app's files and recreate it (a job)", wait=True)
    edit.add_argument("name")
    edit.add_argument("--compose", metavar="FILE", required=True, help="the new compose file")
    edit.add_argument("--env", metavar="FILE", help="the new .env file (without it: no .env)")
    command("compose", custom_apps.compose, "your own compose app's compose file and .env").add_argument("name")
    uninstall = command("uninstall", actions.uninstall, "remove an app (a job)", wait=True)
    uninstall.add_argument("name")
    uninstall.add_argument("--purge", action="store_true", help="also delete its volumes and data")
    command("cancel", actions.cancel, "cancel a queued or running job").add_argument("job_id", metavar="JOB_ID")
    logs = command("logs", reads.logs, "an app's container logs")
    logs.add_argument("name")
    logs.add_argument("--service", help="one service only")
    logs.add_argument("--tail", type=int, default=100, help="the last N lines (default 100)")
    logs.add_argument("--follow", "-f", action="store_true", help="then the lines as they come")
    jobs = command("jobs", reads.jobs, "recent jobs, newest first")
    jobs.add_argument("--app", help="only this app's jobs")
    jobs.add_argument("--first", type=int, default=20, help="how many (default 20)")
    job = command("job", reads.job, "one job and its log")
    job.add_argument("job_id", metavar="JOB_ID")
    job.add_argument("--tail", type=int, help="only the last N log lines")
    job.add_argument("--follow", "-f", action="store_true", help="follow it to its end; exit 1 unless it succeeds")
    command("catalog", reads.catalog, "the catalogs' apps").add_argument("search", nargs="?", metavar="SEARCH")
    command("catalog-app", reads.catalog_app, "one catalog app and its parameters").add_argument("name")
    command("catalog-problems", reads.catalog_problems, "catalog templates that cannot be read")
    command("health", reads.health, "the API's view of Docker, Redis, the database; exit 1 when one is down")
    command("whoami", reads.whoami, "the role the token grants")
    events = command("events", reads.events, "the event stream, replayed after a cursor then live")
    events.add_argument("--after", metavar="CURSOR", help="resume after this cursor")
    hosts_command = command("hosts", hosts.hosts, "the Docker hosts: status, resources, app count")
    hosts_command.add_argument("--follow", action="store_true", help="then print each host status change")
    command("host", hosts.host, "one Docker host and its facts").add_argument("name")
    for name, draining, help_text in (
        ("drain", True, "a host takes no new installs (ADMIN)"),
        ("undrain", False, "a host takes new installs again (ADMIN)"),
    ):
        drain = command(name, hosts.drain, help_text)
        drain.add_argument("name")
        drain.set_defaults(drain=draining)
    stats.add_parsers(command)
    backups.add_parsers(command)
    schedules.add_parsers(command)
    api_token = command("api-token", reads.api_token, "API tokens over the API (ADMIN); `token` works locally")
    actions_of_token = api_token.add_subparsers(dest="action", required=True)
    token_list = actions_of_token.add_parser("list", help="live tokens")
    create = actions_of_token.add_parser("create", help="a new token; its secret is printed once")
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, choices=["VIEWER", "OPERATOR", "ADMIN"])
    revoke = actions_of_token.add_parser("revoke", help="revoke a token")
    revoke.add_argument("id", metavar="TOKEN_ID")
    for nested in (token_list, create, revoke):
        add_connection_options(nested, nested=True)
    return frozenset(names)


def run_client(args: argparse.Namespace) -> int:
    session = Session.from_args(args)
    try:
        handler: Handler = args.client
        return handler(session, args)
    except ApiError as exc:
        fail(str(exc))
        return REFUSED
    except ClientError as exc:
        fail(str(exc))
        return UNREACHABLE
    except KeyboardInterrupt:
        return 130
    finally:
        session.transport.close()
