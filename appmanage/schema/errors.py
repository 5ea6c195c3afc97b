"""Expected failures are data: mutations return unions, clients branch on __typename."""

from __future__ import annotations

import strawberry

from appmanage import errors
from appmanage.schema.enums import AppAction, AppStatus
from graphql import GraphQLError


@strawberry.interface
class Error:
    message: str


@strawberry.type
class ValidationError(Error):
    field: str | None = None


@strawberry.type
class NotFoundError(Error):
    pass


@strawberry.type
class ConflictError(Error):
    pass


@strawberry.type
class ActionNotAllowedError(Error):
    status: AppStatus
    allowed: list[AppAction]


@strawberry.type(description="Docker or Redis did not answer; nothing was changed.")
class ServiceUnavailableError(Error):
    pass


AnyError = ValidationError | NotFoundError | ConflictError | ActionNotAllowedError | ServiceUnavailableError


def error_type(exc: errors.AppManageError) -> AnyError:
    match exc:
        case errors.ValidationFailed():
            return ValidationError(message=exc.message, field=exc.field)
        case errors.NotFound():
            return NotFoundError(message=exc.message)
        case errors.Conflict():
            return ConflictError(message=exc.message)
        case errors.ActionNotAllowed():
            return ActionNotAllowedError(message=exc.message, status=exc.status, allowed=list(exc.allowed))
        case _:
            return ServiceUnavailableError(message=exc.message)


def not_found(exc: errors.NotFound) -> GraphQLError:
    """For fields that cannot return a union (lists, subscriptions): a GraphQL error with
    `extensions.code = "NOT_FOUND"`."""
    return GraphQLError(exc.message, extensions={"code": "NOT_FOUND"})
