"""Mutations: each field calls its resolver (`resolvers/mutations.py`, `resolvers/tokens.py`)
and shapes the answer, or the expected error, as a member of its result union."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated

import strawberry

from appmanage.apps.submission import Accepted
from appmanage.enums import JobKind
from appmanage.errors import AppManageError
from appmanage.resolvers import hosts, mutations, tokens
from appmanage.schema.apps import App
from appmanage.schema.context import Info
from appmanage.schema.enums import Role
from appmanage.schema.errors import (
    ActionNotAllowedError,
    ConflictError,
    NotFoundError,
    ServiceUnavailableError,
    ValidationError,
    error_result,
)
from appmanage.schema.hosts import DrainHostResult, Host
from appmanage.schema.inputs import InstallAppInput, SettingInput
from appmanage.schema.jobs import Job
from appmanage.schema.permissions import CanAdminister, CanOperate
from appmanage.schema.tokens import ApiToken, CreateTokenResult, RevokeTokenResult, TokenCreated


@strawberry.type
class JobAccepted:
    job: Job
    app: App

    @classmethod
    def of(cls, info: Info, accepted: Accepted) -> JobAccepted:
        _changed(info, accepted.job.app_name)
        return cls(job=Job.from_row(accepted.job), app=App.shaped(info, accepted.app))


def _changed(info: Info, app_name: str) -> None:
    """The next query of this process sees what the mutation wrote (the stream tells later)."""
    if info.context.app_states is not None:
        info.context.app_states.touch(app_name)


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


async def _act(info: Info, submission: Awaitable[Accepted]) -> AppActionResult:
    try:
        return JobAccepted.of(info, await submission)
    except AppManageError as exc:
        return error_result(
            exc, ValidationError, NotFoundError, ConflictError, ActionNotAllowedError, ServiceUnavailableError
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=[CanAdminister],
        description="A new API token (ADMIN); its secret is in the answer and nowhere else.",
    )
    async def create_token(self, info: Info, name: str, role: Role) -> CreateTokenResult:
        try:
            token, secret = await tokens.create_token(info.context.services, name, role)
        except AppManageError as exc:
            return error_result(exc, ValidationError, ConflictError)
        return TokenCreated(token=ApiToken.from_row(token), secret=secret)

    @strawberry.mutation(permission_classes=[CanAdminister], description="Revoke an API token (ADMIN).")
    async def revoke_token(self, info: Info, id: strawberry.ID) -> RevokeTokenResult:
        try:
            return ApiToken.from_row(await tokens.revoke_token(info.context.services, str(id)))
        except AppManageError as exc:
            return error_result(exc, NotFoundError)

    @strawberry.mutation(
        permission_classes=[CanOperate],
        description="Validate, then enqueue the install of a catalog app or of your own compose file; answers at once.",
    )
    async def install_app(self, info: Info, input: InstallAppInput) -> InstallAppResult:
        services = info.context.services
        try:
            accepted = await mutations.install_app(services, input.request())
        except AppManageError as exc:
            return error_result(exc, ValidationError, NotFoundError, ConflictError, ServiceUnavailableError)
        return JobAccepted.of(info, accepted)

    @strawberry.mutation(permission_classes=[CanOperate])
    async def start_app(self, info: Info, name: str) -> AppActionResult:
        return await _act(info, mutations.app_action(info.context.services, name, JobKind.START))

    @strawberry.mutation(permission_classes=[CanOperate])
    async def stop_app(self, info: Info, name: str) -> AppActionResult:
        return await _act(info, mutations.app_action(info.context.services, name, JobKind.STOP))

    @strawberry.mutation(permission_classes=[CanOperate])
    async def restart_app(self, info: Info, name: str) -> AppActionResult:
        return await _act(info, mutations.app_action(info.context.services, name, JobKind.RESTART))

    @strawberry.mutation(
        permission_classes=[CanOperate],
        description="Change editable settings and recreate; with none, recreate as it is.",
    )
    async def redeploy_app(self, info: Info, name: str, settings: list[SettingInput] | None = None) -> AppActionResult:
        return await _act(info, mutations.redeploy_app(info.context.services, name, settings))

    @strawberry.mutation(
        permission_classes=[CanOperate], description="Move to another catalog version; rolled back when it fails."
    )
    async def update_app(self, info: Info, name: str, version: str) -> AppActionResult:
        return await _act(info, mutations.update_app(info.context.services, name, version))

    @strawberry.mutation(permission_classes=[CanOperate])
    async def uninstall_app(self, info: Info, name: str, purge_data: bool | None = False) -> AppActionResult:
        return await _act(info, mutations.uninstall_app(info.context.services, name, bool(purge_data)))

    @strawberry.mutation(permission_classes=[CanOperate])
    async def cancel_job(self, info: Info, id: strawberry.ID) -> CancelJobResult:
        try:
            job = await mutations.cancel_job(info.context.services, str(id))
        except AppManageError as exc:
            return error_result(exc, NotFoundError, ActionNotAllowedError)
        _changed(info, job.app_name)
        return JobCanceled(job=Job.from_row(job))

    @strawberry.mutation(permission_classes=[CanAdminister], description="The host takes no new installs (ADMIN).")
    async def drain_host(self, info: Info, name: str) -> DrainHostResult:
        return await _drain(info, name, True)

    @strawberry.mutation(permission_classes=[CanAdminister], description="The host takes new installs again (ADMIN).")
    async def undrain_host(self, info: Info, name: str) -> DrainHostResult:
        return await _drain(info, name, False)


async def _drain(info: Info, name: str, draining: bool) -> DrainHostResult:
    try:
        return Host.from_view(await hosts.drain_host(info.context.services, name, draining))
    except AppManageError as exc:
        return error_result(exc, NotFoundError)
