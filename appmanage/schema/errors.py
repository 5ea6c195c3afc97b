"""Expected failures are data: mutations return unions, clients branch on __typename."""

from __future__ import annotations

from typing import TypeVar, overload

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
E1 = TypeVar("E1", bound=Error)
E2 = TypeVar("E2", bound=Error)
E3 = TypeVar("E3", bound=Error)
E4 = TypeVar("E4", bound=Error)
E5 = TypeVar("E5", bound=Error)


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


@overload
def error_result(exc: errors.AppManageError, m1: type[E1], /) -> E1: ...
@overload
def error_result(exc: errors.AppManageError, m1: type[E1], m2: type[E2], /) -> E1 | E2: ...
@overload
def error_result(exc: errors.AppManageError, m1: type[E1], m2: type[E2], m3: type[E3], /) -> E1 | E2 | E3: ...
@overload
def error_result(
    exc: errors.AppManageError, m1: type[E1], m2: type[E2], m3: type[E3], m4: type[E4], /
) -> E1 | E2 | E3 | E4: ...
@overload
def error_result(
    exc: errors.AppManageError, m1: type[E1], m2: type[E2], m3: type[E3], m4: type[E4], m5: type[E5], /
) -> E1 | E2 | E3 | E4 | E5: ...
def error_result(exc: errors.AppManageError, *members: type[Error]) -> Error:
    """The error type of `exc`, as one of the members of the field's result union; an
    error the union cannot carry is raised again (a GraphQL error)."""
    shaped = error_type(exc)
    if not isinstance(shaped, members):
        raise exc
    return shaped


def not_found(exc: errors.NotFound) -> GraphQLError:
    """For fields that cannot return a union (lists, subscriptions): a GraphQL error with
    `extensions.code = "NOT_FOUND"`."""
    return GraphQLError(exc.message, extensions={"code": "NOT_FOUND"})


def invalid(exc: errors.ValidationFailed) -> GraphQLError:
    """For fields that cannot return a union: a GraphQL error with
    `extensions.code = "BAD_USER_INPUT"` and the argument at fault."""
    return GraphQLError(exc.message, extensions={"code": "BAD_USER_INPUT", "argument": exc.field})
