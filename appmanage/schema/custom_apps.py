"""The operator's own compose apps: `editApp` (their install is `installApp` with `compose`,
their files `App.compose`)."""

from __future__ import annotations

import strawberry

from appmanage.errors import AppManageError
from appmanage.resolvers import custom_apps
from appmanage.schema.context import Info
from appmanage.schema.errors import (
    ActionNotAllowedError,
    ConflictError,
    NotFoundError,
    ServiceUnavailableError,
    ValidationError,
    error_result,
)
from appmanage.schema.mutation import AppActionResult, JobAccepted
from appmanage.schema.permissions import CanOperate


@strawberry.type
class CustomAppMutation:
    @strawberry.mutation(
        permission_classes=[CanOperate],
        description="Replace a custom app's compose file and `.env` (null: no `.env`) and recreate it: checked "
        "like an install before anything is replaced, put back as they were when `up` fails. Catalog apps: "
        "ActionNotAllowedError.",
    )
    async def edit_app(self, info: Info, name: str, compose: str, env: str | None = None) -> AppActionResult:
        try:
            accepted = await custom_apps.edit_app(info.context.services, name, compose, env)
        except AppManageError as exc:
            return error_result(
                exc, ValidationError, NotFoundError, ConflictError, ActionNotAllowedError, ServiceUnavailableError
            )
        return JobAccepted.of(info, accepted)
