"""The types of API tokens over GraphQL (ADMIN only): the token, its creation (the secret
shown once), and the results of create and revoke."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from appmanage.schema.enums import Role
from appmanage.schema.errors import ConflictError, NotFoundError, ValidationError
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
