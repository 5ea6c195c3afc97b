from __future__ import annotations

from typing import Annotated

import strawberry

from appmanage.enums import JobKind
from appmanage.errors import AppManageError
from appmanage.resolvers import mutations
from appmanage.schema import tokens as api_tokens
from appmanage.schema.apps import App
from appmanage.schema.context import Info
from appmanage.schema.errors import (
    ActionNotAllowedError,
    ConflictError,
    NotFoundError,
    ServiceUnavailableError,
    ValidationError,
    error_type,
)
from appmanage.schema.inputs import InstallAppInput, SettingInput
from appmanage.schema.jobs import Job
from appmanage.schema.permissions import CanAdminister, CanOperate
from appmanage.schema.query import shape_app
from appmanage.snapshot import AppSnapshot
from appmanage.storage import models


@strawberry.type
class JobAccepted:
    job: Job
    app: App


@strawberry.type
class JobCanceled:
    job: Job


InstallAppResult = Annotated[
    JobAccepted | ValidationError | NotFoundError | ConflictError | ServiceUnavailableError,
    strawberry.union("InstallAppResult"),
]
AppActionResult = Annotated[
    JobAccepted | ValidationError | NotFoundError | ConflictError | ActionNotAllowedError | ServiceUnavailableError,
    strawberry.union("AppActionResult"),
]
CancelJobResult = Annotated[
    JobCanceled | NotFoundError | ActionNotAllowedError,
    strawberry.union("CancelJobResult"),
]


def _accepted(info: Info, job: models.Job, snapshot: AppSnapshot) -> JobAccepted:
    return JobAccepted(job=Job.from_row(job), app=shape_app(info, snapshot))


def _pairs(settings: list[SettingInput] | None) -> list[tuple[str, str]]:
    return [(s.key, s.value) for s in settings or ()]


async def _act(info: Info, name: str, kind: JobKind, params: dict[str, object] | None = None) -> AppActionResult:
    try:
        job, snapshot = await mutations.app_action(info.context.services, name, kind, params)
    except AppManageError as exc:
        return error_type(exc)
    return _accepted(info, job, snapshot)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=[CanOperate], description="Validate, then enqueue the install; answers at once."
    )
    async def install_app(self, info: Info, input: InstallAppInput) -> InstallAppResult:
        try:
            job, snapshot = await mutations.install_app(
                info.context.services, input.catalog_app, input.name, input.version, _pairs(input.settings)
            )
        except AppManageError as exc:
            return error_type(exc)  # type: ignore[return-value]
        return _accepted(info, job, snapshot)

    @strawberry.mutation(permission_classes=[CanOperate])
    async def start_app(self, info: Info, name: str) -> AppActionResult:
        return await _act(info, name, JobKind.START)

    @strawberry.mutation(permission_classes=[CanOperate])
    async def stop_app(self, info: Info, name: str) -> AppActionResult:
        return await _act(info, name, JobKind.STOP)

    @strawberry.mutation(permission_classes=[CanOperate])
    async def restart_app(self, info: Info, name: str) -> AppActionResult:
        return await _act(info, name, JobKind.RESTART)

    @strawberry.mutation(
        permission_classes=[CanOperate],
        description="Change editable settings and recreate; with none, recreate as it is.",
    )
    async def redeploy_app(self, info: Info, name: str, settings: list[SettingInput] | None = None) -> AppActionResult:
        return await _act(info, name, JobKind.REDEPLOY, {"given": dict(_pairs(settings))})

    @strawberry.mutation(
        permission_classes=[CanOperate], description="Move to another catalog version; rolled back when it fails."
    )
    async def update_app(self, info: Info, name: str, version: str) -> AppActionResult:
        return await _act(info, name, JobKind.UPDATE, {"version": version})

    @strawberry.mutation(permission_classes=[CanOperate])
    async def uninstall_app(self, info: Info, name: str, purge_data: bool | None = False) -> AppActionResult:
        return await _act(info, name, JobKind.UNINSTALL, {"purge": bool(purge_data)})

    @strawberry.mutation(permission_classes=[CanOperate])
    async def cancel_job(self, info: Info, id: strawberry.ID) -> CancelJobResult:
        try:
            job = await mutations.cancel_job(info.context.services, str(id))
        except AppManageError as exc:
            return error_type(exc)  # type: ignore[return-value]
        return JobCanceled(job=Job.from_row(job))

    create_token: api_tokens.CreateTokenResult = strawberry.mutation(
        resolver=api_tokens.create_token,
        permission_classes=[CanAdminister],
        description="A new API token (ADMIN); its secret is in the answer and nowhere else.",
    )
    revoke_token: api_tokens.RevokeTokenResult = strawberry.mutation(
        resolver=api_tokens.revoke_token, permission_classes=[CanAdminister], description="Revoke an API token (ADMIN)."
    )
