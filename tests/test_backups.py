"""Backups and restore with the real restic, Docker and workers, on the `notes` sample app:
back up with the app stopped, change the note, restore in place and the old note is
served again (a safety snapshot listed); back up paused while the writer runs every
0.01 s and the pair in the snapshot agrees, cloned into a new app with its own port; a
failed backup is FAILED, not listed, and the app runs again; retention and deleteBackup
(by a prefix of the id; uninstall forgets the retention, not the backups);
a damaged pack makes the restore fail with restic's words, the app untouched.

The repository is the default one, under the session's data folder (removed with it).
The tests run in file order and share two apps; the damaged repository comes last and is mended after.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from sqlalchemy import delete

from appmanage.config import Settings
from appmanage.runtime.backup_repository import open_repository
from appmanage.storage.database import Database
from appmanage.storage.models import Backup
from tests.support.graphql import GraphQLClient
from tests.support.ports import free_port
from tests.support.projects import remove_project
from tests.support.run import RUN_ID
from tests.support.waiting import wait_for

pytestmark = pytest.mark.docker

BUSYBOX = "appmanage-local/busybox:1"
BACKUP_FIELDS = "id app createdAt sizeBytes sha256 host version catalogApp safetyForJob"
BACKUPS = f"query($app: String) {{ backups(app: $app) {{ {BACKUP_FIELDS} }} }}"
ACCEPTED = "__typename ... on JobAccepted { job { id app state } } ... on Error { message }"
BACKUP_APP = f"mutation($name: String!, $stop: Boolean) {{ backupApp(name: $name, stop: $stop) {{ {ACCEPTED} }} }}"
RESTORE_APP = f"""mutation($name: String!, $backupId: ID!, $asName: String) {{
    restoreApp(name: $name, backupId: $backupId, asName: $asName) {{ {ACCEPTED} }} }}"""
DELETE_BACKUP = f"""mutation($id: ID!) {{ deleteBackup(id: $id) {{
    {ACCEPTED} ... on BackupDeleted {{ id }} }} }}"""
SET_RETENTION = """mutation($app: String!, $keepLast: Int!) {
    setBackupRetention(app: $app, keepLast: $keepLast) { __typename ... on BackupRetention { keepLast } } }"""
RETENTION = "query($app: String!) { backupRetention(app: $app) { keepLast } }"
JOB_LOG = "query($id: ID!) { job(id: $id) { state error progress log } }"


def fetch(port: int, path: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/{path}", timeout=5) as response:
        text: str = response.read().decode().strip()
        return text


def write_note(app: str, text: str) -> None:
    subprocess.run(
        ["docker", "run", "--rm", "-v", f"{app}_notes:/data", BUSYBOX, "sh", "-c", f"echo {text} > /data/www/note.txt"],
        check=True,
        capture_output=True,
        timeout=60,
    )


def container_ids(app: str) -> list[str]:
    client = docker.from_env()
    try:
        found = client.containers.list(all=True, filters={"label": f"com.docker.compose.project={app}"})
        return sorted(c.id for c in found)
    finally:
        client.close()


def run_job(api: GraphQLClient, mutation: str, field: str, **variables: Any) -> dict[str, Any]:
    result = api.execute(mutation, **variables)[field]
    assert result["__typename"] == "JobAccepted", result
    job_id = result["job"]["id"]
    api.wait_job(job_id, timeout=120)
    job: dict[str, Any] = api.execute(JOB_LOG, id=job_id)["job"]
    job["id"] = job_id
    return job


def backups_of(api: GraphQLClient, app: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.execute(BACKUPS, app=app)["backups"]
    return found


def install_notes(api: GraphQLClient, name: str, interval: str) -> int:
    port = free_port()
    result = api.install("notes", name, HTTP_PORT=str(port), WRITE_INTERVAL=interval)
    assert result["__typename"] == "JobAccepted", result
    assert api.wait_job(result["job"]["id"])["state"] == "SUCCEEDED"
    api.wait_status(name, "RUNNING")
    return port


@pytest.fixture(scope="module")
def notes(api: GraphQLClient) -> Iterator[tuple[str, int]]:
    name = f"{RUN_ID}-bk-notes"[:31]
    yield name, install_notes(api, name, "1000")
    remove_project(name)


@pytest.fixture(scope="module")
def busy_notes(api: GraphQLClient) -> Iterator[tuple[str, int]]:
    """The writer swaps the pair every 0.01 s."""
    name = f"{RUN_ID}-bk-busy"[:31]
    yield name, install_notes(api, name, "0.01")
    remove_project(name)
    remove_project(f"{RUN_ID}-bk-clone"[:31])


def test_backup_then_restore_in_place_serves_the_old_note(api: GraphQLClient, notes: tuple[str, int]) -> None:
    name, port = notes
    write_note(name, "first")
    assert fetch(port, "note.txt") == "first"

    job = run_job(api, BACKUP_APP, "backupApp", name=name)
    assert job["state"] == "SUCCEEDED", job
    log = "\n".join(job["log"])
    assert "docker compose stop" in log and "docker compose start" in log
    assert re.search(r"backup [0-9a-f]{64} of", log), log
    [backup] = backups_of(api, name)
    assert re.fullmatch(r"[0-9a-f]{64}", backup["id"]) and backup["sha256"] == backup["id"]
    assert backup["sizeBytes"] > 0 and backup["host"] == "local" and backup["version"] == "1"
    assert backup["catalogApp"] == "notes" and backup["safetyForJob"] is None
    api.wait_status(name, "RUNNING")

    write_note(name, "second")
    assert fetch(port, "note.txt") == "second"
    job = run_job(api, RESTORE_APP, "restoreApp", name=name, backupId=backup["id"][:8])  # a prefix will do
    assert job["state"] == "SUCCEEDED", job
    assert "safety snapshot" in "\n".join(job["log"])
    api.wait_status(name, "RUNNING")
    assert fetch(port, "note.txt") == "first"
    safety = [b for b in backups_of(api, name) if b["safetyForJob"] == job["id"]]
    assert len(safety) == 1


def test_paused_backup_of_a_busy_writer_is_consistent_and_clones(
    api: GraphQLClient, busy_notes: tuple[str, int], settings: Settings, tmp_path: Path
) -> None:
    name, port = busy_notes
    write_note(name, "cloned")
    job = run_job(api, BACKUP_APP, "backupApp", name=name, stop=False)
    assert job["state"] == "SUCCEEDED", job
    assert "docker compose pause" in "\n".join(job["log"])
    [backup] = backups_of(api, name)

    restic = open_repository(settings)
    restic.restore(backup["id"], tmp_path)
    [www] = list(tmp_path.glob("**/_data/www"))
    pair_a, pair_b = (www / "pair" / "a.txt").read_text(), (www / "pair" / "b.txt").read_text()
    assert pair_a == pair_b and int(pair_a) > 0

    clone = f"{RUN_ID}-bk-clone"[:31]
    job = run_job(api, RESTORE_APP, "restoreApp", name=name, backupId=backup["id"], asName=clone)
    assert job["state"] == "SUCCEEDED", job
    app = api.wait_status(clone, "RUNNING")
    [clone_port] = {p["hostPort"] for p in app["ports"]}
    assert clone_port != port
    assert fetch(clone_port, "note.txt") == "cloned"
    assert int(fetch(clone_port, "pair/a.txt")) >= int(pair_a)


def test_failed_backup_is_not_listed_and_the_app_runs_again(
    api: GraphQLClient, notes: tuple[str, int], settings: Settings
) -> None:
    name, _ = notes
    before = backups_of(api, name)
    password = settings.data_dir / "backup-password"
    kept = password.read_text()
    password.write_text("not the password")
    try:
        job = run_job(api, BACKUP_APP, "backupApp", name=name)
    finally:
        password.write_text(kept)
    assert job["state"] == "FAILED", job
    assert "wrong password" in job["error"], job
    assert backups_of(api, name) == before
    api.wait_status(name, "RUNNING")


def test_retention_and_delete_backup(api: GraphQLClient, notes: tuple[str, int], busy_notes: tuple[str, int]) -> None:
    name, _ = notes
    answer = api.execute(SET_RETENTION, app=name, keepLast=1)["setBackupRetention"]
    assert answer == {"__typename": "BackupRetention", "keepLast": 1}
    assert run_job(api, BACKUP_APP, "backupApp", name=name)["state"] == "SUCCEEDED"
    regular = [b for b in backups_of(api, name) if b["safetyForJob"] is None]
    assert len(regular) == 1  # the first backup was forgotten, the safety snapshot kept

    [safety] = [b for b in backups_of(api, name) if b["safetyForJob"]]
    job = run_job(api, DELETE_BACKUP, "deleteBackup", id=safety["id"])
    assert job["state"] == "SUCCEEDED", job
    assert safety["id"] not in {b["id"] for b in backups_of(api, name)}

    busy, _ = busy_notes
    assert api.execute(SET_RETENTION, app=busy, keepLast=5)["setBackupRetention"]["keepLast"] == 5
    assert api.act("uninstallApp", name=busy)["__typename"] == "JobAccepted"
    wait_for(lambda: api.app(busy) is None, 60, f"{busy} to be uninstalled")
    assert api.execute(RETENTION, app=busy)["backupRetention"] is None  # gone with the app
    [gone] = backups_of(api, busy)  # its backup stays
    answer = api.execute(DELETE_BACKUP, id=gone["id"][:10])["deleteBackup"]
    assert answer == {"__typename": "BackupDeleted", "id": gone["id"]}
    assert backups_of(api, busy) == []


def test_a_backup_id_prefix_must_name_one_backup(api: GraphQLClient, settings: Settings) -> None:
    prefix = secrets.token_hex(4)
    ids = [f"{prefix}{digit * 56}" for digit in "01"]
    db = Database(settings.database_url)
    try:
        with db.write() as session:
            session.add_all(Backup(id=i, app=f"{RUN_ID}-gone"[:31], host="local", version="1") for i in ids)
        for given, kind, words in [
            (prefix, "ValidationError", f"several backups have an id starting with {prefix}"),
            (prefix.upper()[:7], "ValidationError", "give at least 8 hex digits"),
            (f"{prefix}-", "ValidationError", "give at least 8 hex digits"),
            (f"{prefix}2", "NotFoundError", f"no backup has an id starting with {prefix}2"),
        ]:
            for answer in (
                api.execute(RESTORE_APP, name="x", backupId=given)["restoreApp"],
                api.execute(DELETE_BACKUP, id=given)["deleteBackup"],
            ):
                assert answer["__typename"] == kind and words in answer["message"], (given, answer)
    finally:
        with db.write() as session:
            session.execute(delete(Backup).where(Backup.id.in_(ids)))
        db.dispose()


def test_a_restore_that_fails_after_the_stop_puts_the_safety_snapshot_back(
    api: GraphQLClient, notes: tuple[str, int], settings: Settings
) -> None:
    name, port = notes
    [backup] = [b for b in backups_of(api, name) if b["safetyForJob"] is None]
    write_note(name, "third")
    db = Database(settings.database_url)
    try:
        with db.write() as session:  # the backup's volume has no place to go in the app: (d) fails
            row = session.get(Backup, backup["id"])
            assert row is not None
            kept = row.manifest
            row.manifest = {**kept, "volumes": [{**kept["volumes"][0], "key": "elsewhere"}]}
        job = run_job(api, RESTORE_APP, "restoreApp", name=name, backupId=backup["id"])
        with db.write() as session:
            row = session.get(Backup, backup["id"])
            assert row is not None
            row.manifest = kept
    finally:
        db.dispose()
    assert job["state"] == "FAILED", job
    assert re.search(r"the safety snapshot [0-9a-f]{64} was restored", job["error"]), job
    api.wait_status(name, "RUNNING")
    assert fetch(port, "note.txt") == "third"


def test_damaged_pack_refuses_the_restore_and_leaves_the_app(
    api: GraphQLClient, notes: tuple[str, int], settings: Settings
) -> None:
    name, port = notes
    [backup] = [b for b in backups_of(api, name) if b["safetyForJob"] is None]
    ids, note = container_ids(name), fetch(port, "note.txt")
    packs = {pack: pack.read_bytes() for pack in (settings.backups_dir / "restic" / "data").glob("*/*")}
    try:
        for pack, original in packs.items():
            pack.write_bytes(bytes(byte ^ 0xFF if offset % 64 == 0 else byte for offset, byte in enumerate(original)))
        job = run_job(api, RESTORE_APP, "restoreApp", name=name, backupId=backup["id"])
    finally:  # the session's later tests back up into the same repository
        for pack, original in packs.items():
            pack.write_bytes(original)
    assert job["state"] == "FAILED", job
    assert "restic restore failed" in job["error"] and "ciphertext verification failed" in job["error"], job
    app = api.wait_status(name, "RUNNING")
    assert app["status"] == "RUNNING" and container_ids(name) == ids
    assert fetch(port, "note.txt") == note
