"""Commands behind the mutations (and the install preview): install, start, stop, restart,
redeploy, update, uninstall, cancel. Those that start a job print it, or with `--wait`
follow it to its end and exit 1 when it fails or is canceled."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from appmanage.client import documents, output
from appmanage.client.custom_input import custom_input
from appmanage.client.progress import ProgressBar, follow_job
from appmanage.client.session import OK, REFUSED, Session
from appmanage.client.transport import ApiError, check_result

FAILED_LOG_LINES = 20


def settings_input(pairs: list[str] | None) -> list[dict[str, str]] | None:
    if not pairs:
        return None
    parsed = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ApiError("UsageError", f"--set wants KEY=VALUE, not {pair!r}")
        parsed.append({"key": key, "value": value})
    return parsed


def install_input(args: argparse.Namespace) -> dict[str, Any]:
    if args.compose:
        return custom_input(args)
    if not args.catalog_app or not args.name:
        raise ApiError("UsageError", "name the catalog app and the app: CATALOG_APP --name NAME (or --compose FILE)")
    return {
        "catalogApp": args.catalog_app,
        "name": args.name,
        "version": args.version,
        "settings": settings_input(args.set),
    }


def install(session: Session, args: argparse.Namespace) -> int:
    data = session.transport.execute(documents.INSTALL, input=install_input(args))
    return started(session, data["installApp"])


def preview(session: Session, args: argparse.Namespace) -> int:
    data = session.transport.execute(documents.PREVIEW, input=install_input(args))
    result = check_result(data["previewInstall"], "InstallPreview")
    if session.json:
        output.as_json(result)
        return OK
    output.table(result["settings"], [("SETTING", output.field("key")), ("VALUE", output.field("value"))])
    print()
    for warning in result["warnings"]:
        print(f"warning: {warning}")
    print(result["compose"].rstrip())
    return OK


def lifecycle(mutation: str, document: str) -> Any:
    def act(session: Session, args: argparse.Namespace) -> int:
        data = session.transport.execute(document, name=args.name)
        return started(session, data[mutation])

    return act


def redeploy(session: Session, args: argparse.Namespace) -> int:
    data = session.transport.execute(documents.REDEPLOY, name=args.name, settings=settings_input(args.set))
    return started(session, data["redeployApp"])


def update(session: Session, args: argparse.Namespace) -> int:
    data = session.transport.execute(documents.UPDATE, name=args.name, version=args.version)
    return started(session, data["updateApp"])


def uninstall(session: Session, args: argparse.Namespace) -> int:
    data = session.transport.execute(documents.UNINSTALL, name=args.name, purge=args.purge)
    return started(session, data["uninstallApp"])


def cancel(session: Session, args: argparse.Namespace) -> int:
    data = session.transport.execute(documents.CANCEL, id=args.job_id)
    job = check_result(data["cancelJob"], "JobCanceled")["job"]
    if session.json:
        output.as_json(job)
    else:
        print(f"job {job['id']} ({job['kind'].lower()} {job['app']}): {job['state']}")
    return OK


def started(session: Session, result: dict[str, Any]) -> int:
    """A JobAccepted answer: printed, or followed to its end with `--wait`."""
    job = check_result(result, "JobAccepted")["job"]
    if not session.wait:
        if session.json:
            output.as_json(result)
        else:
            print(f"job {job['id']}: {job['kind'].lower()} {job['app']} {job['state']}")
        return OK
    bar = None if session.json else ProgressBar()
    ended = follow_job(session.transport, job["id"], bar)
    if session.json:
        output.as_json(ended)
    else:
        print(f"job {ended['id']}: {ended['kind'].lower()} {ended['app']} {ended['state']}")
    if ended["state"] == "SUCCEEDED":
        return OK
    report_failure(session, ended)
    return REFUSED


def report_failure(session: Session, job: dict[str, Any]) -> None:
    log = session.transport.execute(documents.JOB_ONE, id=job["id"], tail=FAILED_LOG_LINES)["job"]["log"]
    for line in log:
        print(f"  | {line}", file=sys.stderr)
    output.fail(f"job {job['id']} {job['state']}: {job.get('error') or 'no reason given'}")
