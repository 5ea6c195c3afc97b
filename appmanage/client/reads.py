"""Commands behind the queries and subscriptions: apps, app, jobs, job, logs, catalog,
catalog-app, catalog-problems, health, events, and the API's tokens (`api-token`)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from appmanage.client import documents, output
from appmanage.client.output import field
from appmanage.client.progress import FINISHED, ProgressBar, follow_job
from appmanage.client.session import OK, REFUSED, Session
from appmanage.client.transport import ApiError, check_result

APP_COLUMNS: list[output.Column] = [
    ("NAME", field("name")),
    ("STATUS", field("status")),
    ("VERSION", field("version")),
    ("CATALOG", field("catalogApp")),
    ("JOB", lambda app: app["activeJob"] and f"{app['activeJob']['kind']} {app['activeJob']['state']}"),
    ("REASON", field("statusReason")),
]
JOB_COLUMNS: list[output.Column] = [
    ("ID", field("id")),
    ("APP", field("app")),
    ("KIND", field("kind")),
    ("STATE", field("state")),
    ("STEP", field("step")),
    ("CREATED", field("createdAt")),
    ("ERROR", field("error")),
]
JOB_KEYS = ["id", "app", "kind", "state", "step", "progress", "error", "worker", "createdAt", "startedAt", "finishedAt"]


def apps(session: Session, args: argparse.Namespace) -> int:
    if args.first is not None:
        return apps_page(session, args)
    found = session.transport.execute(documents.APPS, status=args.status)["apps"]
    if session.json:
        output.as_json(found)
    else:
        output.table(found, APP_COLUMNS)
    if args.follow:
        for data in session.transport.subscribe(documents.FOLLOW_STATUS, name=None):
            event = data["appStatusChanged"]
            if session.json:
                output.as_json(event, compact=True)
            else:
                print(f"{event['at']}  {event['app']}  {event['previous'] or '-'} -> {event['status']}", flush=True)
    return OK


def apps_page(session: Session, args: argparse.Namespace) -> int:
    """One page of apps in name order; the next page starts after the cursor printed last."""
    page = session.transport.execute(documents.APPS_PAGE, first=args.first, after=args.after, status=args.status)[
        "appsConnection"
    ]
    if session.json:
        output.as_json(page)
        return OK
    output.table([edge["node"] for edge in page["edges"]], APP_COLUMNS)
    info = page["pageInfo"]
    more = f"; next page: --after {info['endCursor']}" if info["hasNextPage"] else ""
    print(f"{len(page['edges'])} of {page['totalCount']} apps{more}")
    return OK


def app(session: Session, args: argparse.Namespace) -> int:
    found = session.transport.execute(documents.APP_ONE, name=args.name, reveal=args.reveal)["app"]
    if found is None:
        raise ApiError("NotFoundError", f"no app named {args.name!r}")
    if session.json:
        output.as_json(found)
        return OK
    output.block(found, ["name", "status", "statusReason", "catalogApp", "version", "availableActions", "createdAt"])
    for title, rows, keys in (
        ("services", found["services"], ["name", "state", "health", "exitCode", "image"]),
        ("ports", found["ports"], ["service", "hostIp", "hostPort", "containerPort", "protocol"]),
        ("settings", found["settings"], ["key", "value", "secret"]),
    ):
        print(f"\n{title}:")
        output.table(rows, [(key.upper(), field(key)) for key in keys])
    return OK


def jobs(session: Session, args: argparse.Namespace) -> int:
    if args.app:
        found = session.transport.execute(documents.JOBS_OF_APP, name=args.app, first=args.first)["app"]
        if found is None:
            raise ApiError("NotFoundError", f"no app named {args.app!r}")
        rows = found["jobs"]
    else:
        every = session.transport.execute(documents.JOBS_OF_ALL, first=args.first)["apps"]
        rows = sorted((job for a in every for job in a["jobs"]), key=lambda j: j["createdAt"], reverse=True)
        rows = rows[: args.first]
    if session.json:
        output.as_json(rows)
    else:
        output.table(rows, JOB_COLUMNS)
    return OK


def job(session: Session, args: argparse.Namespace) -> int:
    found = session.transport.execute(documents.JOB_ONE, id=args.job_id, tail=args.tail)["job"]
    if found is None:
        raise ApiError("NotFoundError", f"no job {args.job_id!r}")
    if not args.follow:
        if session.json:
            output.as_json(found)
        else:
            output.block(found, JOB_KEYS)
            print("\nlog:")
            print("\n".join(found["log"]))
        return OK
    if not session.json:
        print("\n".join(found["log"]), flush=True)
    if found["state"] in FINISHED:
        ended = found
    else:

        def show(line: str) -> None:
            if session.json:
                output.as_json({"line": line}, compact=True)
            else:
                bar.line(line) if bar else print(line, flush=True)

        bar = None if session.json else ProgressBar()
        ended = follow_job(session.transport, args.job_id, bar, show)
    if session.json:
        output.as_json({key: ended.get(key) for key in JOB_KEYS}, compact=True)
    else:
        print(f"job {ended['id']}: {ended['kind'].lower()} {ended['app']} {ended['state']}", file=sys.stderr)
    return OK if ended["state"] == "SUCCEEDED" else REFUSED


def logs(session: Session, args: argparse.Namespace) -> int:
    variables = {"name": args.name, "service": args.service, "tail": args.tail}
    if args.follow:
        for data in session.transport.subscribe(documents.FOLLOW_LOGS, **variables):
            print_log_line(session, data["appLogs"])
        return OK
    for line in session.transport.execute(documents.APP_LOGS, **variables)["appLogs"]:
        print_log_line(session, line)
    return OK


def print_log_line(session: Session, line: dict[str, Any]) -> None:
    if session.json:
        output.as_json(line, compact=True)
    else:
        print(f"{line['service']} | {line['line']}", flush=True)


def catalog(session: Session, args: argparse.Namespace) -> int:
    found = session.transport.execute(documents.CATALOG, search=args.search)["catalog"]
    if session.json:
        output.as_json(found)
        return OK
    columns: list[output.Column] = [
        ("NAME", field("name")),
        ("TITLE", field("title")),
        ("VERSIONS", field("versions")),
        ("DEFAULT", field("defaultVersion")),
        ("SOURCE", field("source")),
    ]
    output.table(found, columns)
    return OK


def catalog_app(session: Session, args: argparse.Namespace) -> int:
    found = session.transport.execute(documents.CATALOG_ONE, name=args.name)["catalogApp"]
    if found is None:
        raise ApiError("NotFoundError", f"no catalog app named {args.name!r}")
    if session.json:
        output.as_json(found)
        return OK
    output.block(found, ["name", "title", "description", "versions", "defaultVersion", "source"])
    print("\nparameters:")
    keys = ["key", "type", "required", "default", "choices", "secret", "editable", "pattern"]
    output.table(found["parameters"], [(key.upper(), field(key)) for key in keys])
    return OK


def catalog_problems(session: Session, args: argparse.Namespace) -> int:
    found = session.transport.execute(documents.CATALOG_PROBLEMS)["catalogProblems"]
    if session.json:
        output.as_json(found)
    else:
        output.table(found, [("SOURCE", field("source")), ("APP", field("app")), ("PROBLEM", field("message"))])
    return OK


def health(session: Session, args: argparse.Namespace) -> int:
    found = session.transport.execute(documents.HEALTH)["health"]
    if session.json:
        output.as_json(found)
    else:
        output.block(found, ["database", "redis", "docker", "workers", "subscribers"])
    return OK if found["database"] and found["redis"] and found["docker"] else REFUSED


def whoami(session: Session, args: argparse.Namespace) -> int:
    found = session.transport.execute(documents.VIEWER)["viewer"]
    if session.json:
        output.as_json(found)
    else:
        print(found["role"])
    return OK


def events(session: Session, args: argparse.Namespace) -> int:
    for data in session.transport.subscribe(documents.EVENTS, after=args.after):
        event = data["events"]
        if session.json:
            output.as_json(event, compact=True)
        elif event["__typename"] == "AppStatusEvent":
            print(f"{event['cursor']}  {event['app']}  status {event['previous'] or '-'} -> {event['status']}")
        else:
            job = event["job"]
            what = event["line"] if event.get("line") is not None else f"{job['state']} {job['step'] or ''}".rstrip()
            print(f"{event['cursor']}  {job['app']}  {job['kind'].lower()} {job['id']}: {what}", flush=True)
    return OK


TOKEN_COLUMNS: list[output.Column] = [
    ("ID", field("id")),
    ("NAME", field("name")),
    ("ROLE", field("role")),
    ("CREATED", field("createdAt")),
    ("LAST USED", field("lastUsedAt")),
]


def api_token(session: Session, args: argparse.Namespace) -> int:
    transport = session.transport
    if args.action == "create":
        created = transport.execute(documents.CREATE_TOKEN, name=args.name, role=args.role)["createToken"]
        result = check_result(created, "TokenCreated")
        if session.json:
            output.as_json(result)
        else:
            print(f"token {result['token']['id']} ({result['token']['role']}); its secret, shown this once:")
            print(result["secret"])
        return OK
    if args.action == "revoke":
        revoked = check_result(transport.execute(documents.REVOKE_TOKEN, id=args.id)["revokeToken"], "ApiToken")
        output.as_json(revoked) if session.json else print(f"token {revoked['id']} ({revoked['name']}) revoked")
        return OK
    found = transport.execute(documents.TOKENS)["tokens"]
    output.as_json(found) if session.json else output.table(found, TOKEN_COLUMNS)
    return OK
