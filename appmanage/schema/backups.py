"""Backups in GraphQL: the Backup type, the `backups` query, and the mutations that back
an app up, restore it (in place or as a clone), delete a backup and set retention."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from appmanage.apps.submission import Accepted
from appmanage.errors import AppManageError
from appmanage.resolvers import backups
from appmanage.schema.context import Info
from appmanage.schema.errors import (
    ActionNotAllowedError,
    ConflictError,
    NotFoundError,
    ServiceUnavailableError,
    ValidationError,
    error_result,
)
from appmanage.schema.mutation import AppActionResult, JobAccepted, _act
from appmanage.schema.permissions import CanOperate, CanView
from appmanage.storage import models


@strawberry.type(description="A restic snapshot of an app's folder and named volumes.")
class Backup:
    id: strawberry.ID = strawberry.field(description="The restic snapshot id (64 hex digits).")
    app: str
    created_at: datetime
    size_bytes: float = strawberry.field(
        description="Bytes of the files read for it (restic's total_bytes_processed), before "
        "deduplication and compression; a Float, as GraphQL's Int is 32-bit."
    )
    sha256: str = strawberry.field(description="The snapshot's id: the SHA-256 of its metadata in the repository.")
    host: str
    version: str
    catalog_app: str | None = strawberry.field(description="Null for an app from the operator's own compose file.")
    safety_for_job: strawberry.ID | None = strawberry.field(
        description="The restore job this safety snapshot was taken before; null for a backup."
    )

    @classmethod
    def from_row(cls, row: models.Backup) -> Backup:
        return cls(
            id=strawberry.ID(row.id),
            app=row.app,
            created_at=row.created_at,
            size_bytes=float(row.size_bytes),
            sha256=row.id,
            host=row.host,
            version=row.version,
            catalog_app=row.catalog_app,
            safety_for_job=strawberry.ID(row.safety_for_job) if row.safety_for_job else None,
        )


@strawberry.type(description="How many backups of an app `restic forget` keeps after each backup; 0: no limit.")
class BackupRetention:
    app: str
    keep_last: int
    keep_daily: int
    keep_weekly: int

    @classmethod
    def from_row(cls, row: models.BackupRetention) -> BackupRetention:
        return cls(app=row.app, keep_last=row.keep_last, keep_daily=row.keep_daily, keep_weekly=row.keep_weekly)


@strawberry.type(description="The backup was forgotten at once: its app is gone, so no job was needed.")
class BackupDeleted:
    id: strawberry.ID


DeleteBackupResult = Annotated[
    JobAccepted
    | BackupDeleted
    | ValidationError
    | NotFoundError
    | ConflictError
    | ActionNotAllowedError
    | ServiceUnavailableError,
    strawberry.union("DeleteBackupResult"),
]
SetBackupRetentionResult = Annotated[
    BackupRetention | ValidationError | NotFoundError,
    strawberry.union("SetBackupRetentionResult"),
]


@strawberry.type
class BackupsQuery:
    @strawberry.field(permission_classes=[CanView], description="Backups, newest first; of one app when given.")
    async def backups(self, info: Info, app: str | None = None) -> list[Backup]:
        return [Backup.from_row(b) for b in await backups.list_backups(info.context.services, app)]

    @strawberry.field(permission_classes=[CanView], description="The app's retention; null: every backup is kept.")
    async def backup_retention(self, info: Info, app: str) -> BackupRetention | None:
        row = await backups.retention_of(info.context.services, app)
        return BackupRetention.from_row(row) if row else None


@strawberry.type
class BackupsMutation:
    @strawberry.mutation(
        permission_classes=[CanOperate],
        description="Snapshot the app's folder and named volumes with restic: stopped for the copy "
        "(or paused with stop: false), then running again.",
    )
    async def backup_app(self, info: Info, name: str, stop: bool | None = True) -> AppActionResult:
        return await _act(info, backups.backup_app(info.context.services, name, stop is not False))

    @strawberry.mutation(
        permission_classes=[CanOperate],
        description="Put a backup back: in place (a safety snapshot first, put back when anything fails), "
        "or with asName into a new app with its own free ports, on `host` when given. "
        "backupId: the backup's id or a unique prefix of it (8+ hex digits).",
    )
    async def restore_app(
        self,
        info: Info,
        name: str,
        backup_id: strawberry.ID,
        as_name: str | None = None,
        host: str | None = None,
    ) -> AppActionResult:
        services = info.context.services
        return await _act(info, backups.restore_app(services, name, str(backup_id), as_name, host))

    @strawberry.mutation(
        permission_classes=[CanOperate],
        description="Forget a backup (its id or a unique prefix of 8+ hex digits): a job of its app, "
        "or at once when that app is gone (BackupDeleted).",
    )
    async def delete_backup(self, info: Info, id: strawberry.ID) -> DeleteBackupResult:
        try:
            result = await backups.delete_backup(info.context.services, str(id))
        except AppManageError as exc:
            return error_result(
                exc, ValidationError, NotFoundError, ConflictError, ActionNotAllowedError, ServiceUnavailableError
            )
        if isinstance(result, Accepted):
            return JobAccepted.of(info, result)
        return BackupDeleted(id=strawberry.ID(result))

    @strawberry.mutation(
        permission_classes=[CanOperate],
        description="Keep the last N, daily and weekly backups of an app (restic forget after each backup).",
    )
    async def set_backup_retention(
        self, info: Info, app: str, keep_last: int = 0, keep_daily: int = 0, keep_weekly: int = 0
    ) -> SetBackupRetentionResult:
        try:
            row = await backups.set_retention(info.context.services, app, keep_last, keep_daily, keep_weekly)
        except AppManageError as exc:
            return error_result(exc, ValidationError, NotFoundError)
        return BackupRetention.from_row(row)
