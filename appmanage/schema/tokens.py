"""API tokens over GraphQL, for ADMIN only: list, create (the secret is shown once), revoke."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from appmanage.errors import Conflict, NotFound, ValidationFailed
from appmanage.resolvers import tokens
from appmanage.schema.context import Info
from appmanage.schema.enums import Role
from appmanage.schema.errors import ConflictError, NotFoundError, ValidationError, error_type
from appmanage.storage import models


@strawberry.type
class ApiToken:
    id: strawberry.ID
    name: str
    role: Role
    created_at: datetime
    last_used_at: datetime | None = strawberry.field(description="To the minute.")

    @classmethod
    def from_row(cls, token: models.ApiToken) -> ApiToken:
        return cls(
            id=strawberry.ID(token.id),
            name=token.name,
            role=token.role,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
        )


@strawberry.type
class TokenCreated:
    token: ApiToken
    secret: str = strawberry.field(description="The bearer token itself: shown this once, kept nowhere.")


CreateTokenResult = Annotated[TokenCreated | ValidationError | ConflictError, strawberry.union("CreateTokenResult")]
RevokeTokenResult = Annotated[ApiToken | NotFoundError, strawberry.union("RevokeTokenResult")]


async def list_tokens(info: Info) -> list[ApiToken]:
    return [ApiToken.from_row(t) for t in await tokens.list_tokens(info.context.services)]


async def create_token(info: Info, name: str, role: Role) -> CreateTokenResult:
    try:
        token, secret = await tokens.create_token(info.context.services, name, role)
    except (ValidationFailed, Conflict) as exc:
        return error_type(exc)  # type: ignore[return-value]
    return TokenCreated(token=ApiToken.from_row(token), secret=secret)


async def revoke_token(info: Info, id: strawberry.ID) -> RevokeTokenResult:
    try:
        return ApiToken.from_row(await tokens.revoke_token(info.context.services, str(id)))
    except NotFound as exc:
        return NotFoundError(message=exc.message)
