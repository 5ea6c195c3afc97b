"""Backups on the API side: the BACKUP, RESTORE and DELETE_BACKUP jobs submitted like the
other operations (`apps/submission.py`), the Backup rows read, retention kept.

A restore into a name no app has (asName, or the name of an uninstalled app) is a clone:
a new App row like an install's (the name rule, the name free, on the backup's host or
the one asked for) with the backup's catalog app, version and settings, and a fresh host
port for every port setting whose port is taken there; for a custom compose app, for every
host port it publishes that is taken there, kept as the row's port map
(`catalog/custom_ports.py`). The job's app is the new one.
A backup is named by its id or a unique prefix of it (8 hex digits or more), resolved
here: the job holds the full id.
"""

from __future__ import annotations

from sqlalchemy import select

from appmanage.apps.placement import HostOffer, named_host
from appmanage.apps.submission import Accepted, busy_conflict, enqueue, idle_snapshot, submit_job
from appmanage.apps.validation import check_name, check_name_free, check_ports_free, host_offers
from appmanage.catalog.custom_ports import port_map_of, remap, with_port_map
from appmanage.enums import JobKind
from appmanage.errors import Conflict, NotFound, Unavailable, ValidationFailed
from appmanage.jobs import records
from appmanage.jobs.backup import forget_backup
from appmanage.jobs.backup_manifest import Manifest
from appmanage.jobs.params import BackupParams, DeleteBackupParams, RestoreParams, to_json
from appmanage.services import Services
from appmanage.snapshot import snapshot_of, with_job
from appmanage.storage.models import App, Backup, BackupRetention, utcnow

MAX_PORT = 65535
MIN_PREFIX = 8
HEX_DIGITS = frozenset("0123456789abcdef")


def list_backups(services: Services, app: str | None) -> list[Backup]:
    """Newest first."""
    query = select(Backup).order_by(Backup.created_at.desc(), Backup.id)
    if app is not None:
        query = query.where(Backup.app == app)
    with services.db.read() as session:
        return list(session.scalars(query))


def submit_backup(services: Services, name: str, stop: bool) -> Accepted:
    snapshot = idle_snapshot(services, name)
    if not snapshot.app.installed:
        raise ValidationFailed(f"{name} is not installed yet: there is nothing to back up", field="name")
    return submit_job(services, snapshot, JobKind.BACKUP, BackupParams(stop))


def submit_restore(
    services: Services, name: str, backup_id: str, as_name: str | None = None, host: str | None = None
) -> Accepted:
    """In place into `name`, or into a new app `as_name` (or `name`, when no app has it)."""
    backup = _backup(services, backup_id, "backupId")
    target = as_name or name
    with services.db.read() as session:
        exists = session.get(App, target) is not None
    if as_name is None and exists:
        if backup.app != name:
            raise ValidationFailed(
                f"backup {backup.id} is of {backup.app}, not {name}: give asName to restore it as a new app",
                field="backupId",
            )
        snapshot = idle_snapshot(services, name)
        if host is not None and host != snapshot.app.host:
            raise ValidationFailed(
                f"{name} runs on host {snapshot.app.host}: give asName to restore onto host {host}", field="host"
            )
        return submit_job(services, snapshot, JobKind.RESTORE, RestoreParams(backup.id, backup.app))
    return _submit_clone(services, backup, target, host)


def delete_backup(services: Services, backup_id: str) -> Accepted | str:
    """A DELETE_BACKUP job on the backup's app; when that app is gone, forgotten here at
    once: the id of the backup deleted."""
    backup = _backup(services, backup_id, "id")
    with services.db.read() as session:
        app_exists = session.get(App, backup.app) is not None
    if not app_exists:
        settings = services.settings
        forget_backup(settings, services.db, services.redis, backup.id, None)
        return backup.id
    snapshot = snapshot_of(services, backup.app)
    if snapshot is None:
        raise NotFound(f"no app is named {backup.app}")
    if snapshot.active_job is not None:
        raise busy_conflict(snapshot.active_job)
    return submit_job(services, snapshot, JobKind.DELETE_BACKUP, DeleteBackupParams(backup.id))


def set_retention(services: Services, app: str, keep_last: int, keep_daily: int, keep_weekly: int) -> BackupRetention:
    """Applied after each backup of `app`; all three 0: every backup is kept."""
    for field, value in (("keepLast", keep_last), ("keepDaily", keep_daily), ("keepWeekly", keep_weekly)):
        if value < 0:
            raise ValidationFailed(f"{field} cannot be negative", field=field)
    with services.db.write() as session:
        if session.get(App, app) is None:
            raise NotFound(f"no app is named {app}")
        rule = session.get(BackupRetention, app) or BackupRetention(app=app)
        rule.keep_last, rule.keep_daily, rule.keep_weekly = keep_last, keep_daily, keep_weekly
        rule.updated_at = utcnow()
        session.add(rule)
        session.flush()
        session.expunge(rule)
    return rule


def retention_of(services: Services, app: str) -> BackupRetention | None:
    with services.db.read() as session:
        return session.get(BackupRetention, app)


def _backup(services: Services, backup_id: str, field: str) -> Backup:
    """The backup whose id is `backup_id` or starts with it (MIN_PREFIX hex digits or more)."""
    given = backup_id.strip().lower()
    if len(given) < MIN_PREFIX or not set(given) <= HEX_DIGITS:
        raise ValidationFailed(
            f"{backup_id!r} is not a backup id: give at least {MIN_PREFIX} hex digits of it", field=field
        )
    with services.db.read() as session:
        found = list(session.scalars(select(Backup).where(Backup.id.startswith(given, autoescape=True)).limit(2)))
    if not found:
        raise NotFound(f"no backup has an id starting with {given}")
    if len(found) > 1:
        raise ValidationFailed(f"several backups have an id starting with {given}: give more of it", field=field)
    return found[0]


def _submit_clone(services: Services, backup: Backup, name: str, host: str | None) -> Accepted:
    check_name(name)
    manifest = Manifest.from_json(backup.manifest)
    port_keys: tuple[str, ...] = ()
    if manifest.catalog_app is not None:
        catalog_app = services.catalog.get(manifest.catalog_app)
        if catalog_app is None:
            raise NotFound(f"catalog app {manifest.catalog_app} of the backup is no longer in the catalog")
        if manifest.version not in catalog_app.versions:
            raise NotFound(f"{manifest.catalog_app} has no version {manifest.version} any more")
        port_keys = catalog_app.port_keys
    offer = _online_host(services, host or backup.host)
    if offer.name == services.settings.agent_host and services.containers.by_project(name):
        raise Conflict(f"Docker already runs a compose project named {name}")
    settings: dict[str, str] = dict(manifest.settings)
    taken = set(offer.busy_ports) | set(offer.app_ports)

    def choose(port: int) -> int:
        chosen = fresh_port(port, taken)
        taken.add(chosen)
        return chosen

    for key in port_keys:
        if key in settings:
            settings[key] = str(choose(int(settings[key])))
    ports = sorted({int(settings[k]) for k in port_keys if k in settings}) if port_keys else list(manifest.host_ports)
    if manifest.catalog_app is None:
        ports, port_map = remap(manifest.host_ports, port_map_of(settings), choose)
        settings = with_port_map(settings, port_map)
    with services.db.write() as session:
        check_name_free(session, name)
        check_ports_free(session, ports, busy=set(), except_app=None, host=offer.name)
        now = utcnow()
        app = App(
            name=name,
            catalog_app=manifest.catalog_app,
            host=offer.name,
            source=manifest.source,
            version=manifest.version,
            settings=settings,
            host_ports=ports,
            installed=False,
            desired_running=True,
            created_at=now,
            updated_at=now,
        )
        session.add(app)
        job = records.new_job(session, name, JobKind.RESTORE, to_json(RestoreParams(backup.id, backup.app, True)))
    return enqueue(services, with_job(app, job))


def fresh_port(port: int, taken: set[int]) -> int:
    """`port` when it is free, else the next free one above it (then below)."""
    for candidate in [port, *range(port + 1, MAX_PORT + 1), *range(port - 1, 1023, -1)]:
        if candidate not in taken:
            return int(candidate)
    raise Conflict("no free host port is left")


def _online_host(services: Services, host: str) -> HostOffer:
    offer = named_host(host_offers(services, host), host)
    if not offer.status.online:
        raise Unavailable(f"host {offer.name} is OFFLINE: {offer.status.reason}; restore elsewhere or wait for it")
    return offer
