"""The backups' resolvers: each call in a worker thread (`apps/backups.py`)."""

from __future__ import annotations

from asyncio import to_thread

from appmanage.apps import backups
from appmanage.apps.submission import Accepted
from appmanage.services import Services
from appmanage.storage.models import Backup, BackupRetention


async def list_backups(services: Services, app: str | None) -> list[Backup]:
    return await to_thread(backups.list_backups, services, app)


async def backup_app(services: Services, name: str, stop: bool) -> Accepted:
    return await to_thread(backups.submit_backup, services, name, stop)


async def restore_app(services: Services, name: str, backup_id: str, as_name: str | None, host: str | None) -> Accepted:
    return await to_thread(backups.submit_restore, services, name, backup_id, as_name, host)


async def delete_backup(services: Services, backup_id: str) -> Accepted | str:
    return await to_thread(backups.delete_backup, services, backup_id)


async def set_retention(
    services: Services, app: str, keep_last: int, keep_daily: int, keep_weekly: int
) -> BackupRetention:
    return await to_thread(backups.set_retention, services, app, keep_last, keep_daily, keep_weekly)


async def retention_of(services: Services, app: str) -> BackupRetention | None:
    return await to_thread(backups.retention_of, services, app)
