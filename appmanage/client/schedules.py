"""The schedule commands: `schedule APP KIND CRON` (a cron in UTC), `unschedule ID`, and
`schedules [APP]`."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from appmanage.client import output
from appmanage.client.documents import ERROR
from appmanage.client.output import field
from appmanage.client.session import OK, Session
from appmanage.client.transport import check_result

KINDS = ("BACKUP", "RESTART", "UPDATE")
SCHEDULE = "id app kind cron nextRunAt lastRunAt lastError createdAt lastJob { id kind state }"
SCHEDULES = f"query Schedules($app: String) {{ schedules(app: $app) {{ {SCHEDULE} }} }}"
SCHEDULE_JOB = f"""mutation Schedule($app: String!, $kind: ScheduleKind!, $cron: String!) {{
  scheduleJob(app: $app, kind: $kind, cron: $cron) {{ __typename ... on Schedule {{ {SCHEDULE} }} {ERROR} }} }}"""
UNSCHEDULE = f"""mutation Unschedule($id: ID!) {{
  unscheduleJob(id: $id) {{ __typename ... on Schedule {{ {SCHEDULE} }} {ERROR} }} }}"""

API_COMMANDS = {
    "Query.schedules": "schedules",
    "Mutation.scheduleJob": "schedule",
    "Mutation.unscheduleJob": "unschedule",
}
COLUMNS: list[output.Column] = [
    ("ID", field("id")),
    ("APP", field("app")),
    ("KIND", field("kind")),
    ("CRON (UTC)", field("cron")),
    ("NEXT RUN", field("nextRunAt")),
    ("LAST RUN", field("lastRunAt")),
    ("LAST JOB", lambda row: row["lastJob"] and f"{row['lastJob']['id']} {row['lastJob']['state']}"),
    ("LAST ERROR", field("lastError")),
]


def add_parsers(command: Callable[..., argparse.ArgumentParser]) -> None:
    schedule_command = command("schedule", schedule, "run a job of an app on a cron schedule, in UTC")
    schedule_command.add_argument("app")
    schedule_command.add_argument(
        "kind", type=str.upper, choices=KINDS, metavar="KIND", help="backup, restart or update"
    )
    schedule_command.add_argument("cron", help="five fields, quoted: '30 3 * * *' is 03:30 UTC every day")
    command("unschedule", unschedule, "remove a schedule (its job in flight goes on)").add_argument("id", metavar="ID")
    command("schedules", schedules, "the schedules, of one app when given").add_argument("app", nargs="?")


def schedule(session: Session, args: argparse.Namespace) -> int:
    answer = session.transport.execute(SCHEDULE_JOB, app=args.app, kind=args.kind, cron=args.cron)
    created = check_result(answer["scheduleJob"], "Schedule")
    if session.json:
        output.as_json(created)
    else:
        what = f"{created['kind'].lower()} {created['app']} at '{created['cron']}' UTC"
        print(f"schedule {created['id']}: {what}; next run {created['nextRunAt']}")
    return OK


def unschedule(session: Session, args: argparse.Namespace) -> int:
    removed = check_result(session.transport.execute(UNSCHEDULE, id=args.id)["unscheduleJob"], "Schedule")
    if session.json:
        output.as_json(removed)
    else:
        print(f"schedule {removed['id']} ({removed['kind'].lower()} {removed['app']} at '{removed['cron']}') removed")
    return OK


def schedules(session: Session, args: argparse.Namespace) -> int:
    found = session.transport.execute(SCHEDULES, app=args.app)["schedules"]
    if session.json:
        output.as_json(found)
    else:
        output.table(found, COLUMNS)
    return OK
