"""The backup commands: `backup NAME [--no-stop]` and `restore NAME BACKUP_ID [--as NEW]
[--host H]` (jobs, followed like install), `backups [APP]`, `delete-backup ID`, and
`retention APP` (shown, or set with --keep-last/--keep-daily/--keep-weekly). A backup's id
may be shortened to any unique prefix of 8 or more characters, as `backups` prints it: the
API resolves it."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from appmanage.client import output
from appmanage.client.actions import started
from appmanage.client.documents import ACCEPTED, ERROR
from appmanage.client.output import field, size
from appmanage.client.session import OK, Session
from appmanage.client.transport import check_result

SHORT_ID = 12

BACKUP = "id app createdAt sizeBytes sha256 host version catalogApp safetyForJob"
RETENTION = "app keepLast keepDaily keepWeekly"
BACKUPS = f"query Backups($app: String) {{ backups(app: $app) {{ {BACKUP} }} }}"
BACKUP_APP = f"""mutation Backup($name: String!, $stop: Boolean) {{
  backupApp(name: $name, stop: $stop) {{ {ACCEPTED} }} }}"""
RESTORE = f"""mutation Restore($name: String!, $backupId: ID!, $asName: String, $host: String) {{
  restoreApp(name: $name, backupId: $backupId, asName: $asName, host: $host) {{ {ACCEPTED} }} }}"""
DELETE = f"""mutation DeleteBackup($id: ID!) {{ deleteBackup(id: $id) {{
  {ACCEPTED} ... on BackupDeleted {{ id }} }} }}"""
RETENTION_OF = f"query Retention($app: String!) {{ backupRetention(app: $app) {{ {RETENTION} }} }}"
SET_RETENTION = f"""mutation SetRetention($app: String!, $keepLast: Int!, $keepDaily: Int!, $keepWeekly: Int!) {{
  setBackupRetention(app: $app, keepLast: $keepLast, keepDaily: $keepDaily, keepWeekly: $keepWeekly) {{
    __typename ... on BackupRetention {{ {RETENTION} }} {ERROR} }} }}"""

API_COMMANDS = {
    "Query.backups": "backups",
    "Query.backupRetention": "retention",
    "Mutation.backupApp": "backup",
    "Mutation.restoreApp": "restore",
    "Mutation.deleteBackup": "delete-backup",
    "Mutation.setBackupRetention": "retention --keep-last",
}
COLUMNS: list[output.Column] = [
    ("ID", lambda row: row["id"][:SHORT_ID]),
    ("APP", field("app")),
    ("CREATED", field("createdAt")),
    ("SIZE", lambda row: size(row["sizeBytes"])),
    ("VERSION", field("version")),
    ("HOST", field("host")),
    ("KIND", lambda row: f"safety (restore job {row['safetyForJob']})" if row["safetyForJob"] else "backup"),
]


def add_parsers(command: Callable[..., argparse.ArgumentParser]) -> None:
    backup_command = command(
        "backup", backup, "back an app up with restic: folder and named volumes (a job)", wait=True
    )
    backup_command.add_argument("name")
    backup_command.add_argument(
        "--stop",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="stop the app for the copy (default); --no-stop pauses it instead, a crash-consistent copy",
    )
    command("backups", backups, "backups, newest first (of one app when given)").add_argument("app", nargs="?")
    restore_command = command(
        "restore", restore, "put a backup back into its app, or into a new one (a job)", wait=True
    )
    restore_command.add_argument("name", help="the app to restore into (or the backup's app, with --as)")
    restore_command.add_argument("backup_id", metavar="BACKUP_ID", help="the backup's id or a unique prefix of it")
    restore_command.add_argument("--as", dest="as_name", metavar="NEW", help="restore into a new app of this name")
    restore_command.add_argument("--host", help="with --as: the Docker host of the new app")
    delete = command("delete-backup", delete_backup, "forget a backup (a job of its app)", wait=True)
    delete.add_argument("backup_id", metavar="BACKUP_ID", help="the backup's id or a unique prefix of it")
    retention_command = command("retention", retention, "the backups of an app restic keeps (0: no limit)")
    retention_command.add_argument("app")
    for flag in ("--keep-last", "--keep-daily", "--keep-weekly"):
        retention_command.add_argument(flag, type=int, metavar="N", help="set it (the ones not given become 0)")


def backup(session: Session, args: argparse.Namespace) -> int:
    data = session.transport.execute(BACKUP_APP, name=args.name, stop=args.stop)
    return started(session, data["backupApp"])


def restore(session: Session, args: argparse.Namespace) -> int:
    data = session.transport.execute(
        RESTORE, name=args.name, backupId=args.backup_id, asName=args.as_name, host=args.host
    )
    return started(session, data["restoreApp"])


def delete_backup(session: Session, args: argparse.Namespace) -> int:
    data = session.transport.execute(DELETE, id=args.backup_id)["deleteBackup"]
    if data.get("__typename") != "BackupDeleted":
        return started(session, data)
    if session.json:
        output.as_json(data)
    else:
        print(f"backup {data['id'][:SHORT_ID]} deleted (its app is gone: no job needed)")
    return OK


def backups(session: Session, args: argparse.Namespace) -> int:
    found = session.transport.execute(BACKUPS, app=args.app)["backups"]
    if session.json:
        output.as_json(found)
    else:
        output.table(found, COLUMNS)
    return OK


def retention(session: Session, args: argparse.Namespace) -> int:
    keep = {"keepLast": args.keep_last, "keepDaily": args.keep_daily, "keepWeekly": args.keep_weekly}
    if all(value is None for value in keep.values()):
        rule = session.transport.execute(RETENTION_OF, app=args.app)["backupRetention"]
        if rule is None and not session.json:
            print(f"{args.app}: every backup is kept (no retention set)")
            return OK
    else:
        answer = session.transport.execute(SET_RETENTION, app=args.app, **{k: v or 0 for k, v in keep.items()})
        rule = check_result(answer["setBackupRetention"], "BackupRetention")
    if session.json:
        output.as_json(rule)
    else:
        output.block(rule, ["app", "keepLast", "keepDaily", "keepWeekly"])
    return OK
