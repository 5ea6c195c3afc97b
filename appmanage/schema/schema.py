from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from appmanage.config import Settings
from appmanage.schema.backups import BackupsMutation, BackupsQuery
from appmanage.schema.custom_apps import CustomAppMutation
from appmanage.schema.document_cache import DocumentCache, DocumentMemory
from appmanage.schema.enum_output import look_up_enum_members
from appmanage.schema.errors import (
    ActionNotAllowedError,
    ConflictError,
    NotFoundError,
    ServiceUnavailableError,
    ValidationError,
)
from appmanage.schema.limits import limit_extensions
from appmanage.schema.mutation import Mutation as CoreMutation
from appmanage.schema.query import Query as CoreQuery
from appmanage.schema.schedules import SchedulesMutation, SchedulesQuery
from appmanage.schema.shared_results import SharedEventExecutor
from appmanage.schema.stats import StatsQuery, StatsSubscription
from appmanage.schema.subscription import Subscription as CoreSubscription
from appmanage.schema.unexpected import MaskUnexpectedErrors, is_unexpected, log
from graphql import GraphQLError

# One class per domain, merged: a domain adds its own Query, Mutation or Subscription here.
Query = merge_types("Query", (CoreQuery, BackupsQuery, SchedulesQuery, StatsQuery))
Mutation = merge_types("Mutation", (CoreMutation, BackupsMutation, CustomAppMutation, SchedulesMutation))
Subscription = merge_types("Subscription", (CoreSubscription, StatsSubscription))


class AppManageSchema(strawberry.Schema):
    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """One result, so no subscription: those stream, over a websocket."""
        allowed = set(allowed_operation_types or OperationType) - {OperationType.SUBSCRIPTION}
        return await super().execute(
            query, variable_values, context_value, root_value, operation_name, allowed, operation_extensions
        )

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """MaskUnexpectedErrors logs the unexpected ones; the others are the client's business."""
        for error in errors:
            if not is_unexpected(error):
                log.debug("GraphQL error: %s", error.message)


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    """The schema; with settings, also capped by them (a served schema always is)."""
    built = AppManageSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[ValidationError, NotFoundError, ConflictError, ActionNotAllowedError, ServiceUnavailableError],
        extensions=[
            *(limit_extensions(settings) if settings else ()),
            partial(DocumentCache, DocumentMemory()),
            MaskUnexpectedErrors,
        ],
        execution_context_class=SharedEventExecutor,
        config=StrawberryConfig(disable_field_suggestions=settings is not None and not settings.introspection),
    )
    look_up_enum_members(built._schema)
    return built


schema = build_schema()
