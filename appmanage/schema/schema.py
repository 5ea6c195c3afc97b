from __future__ import annotations

import strawberry

from appmanage.schema.errors import (
    ActionNotAllowedError,
    ConflictError,
    NotFoundError,
    ServiceUnavailableError,
    ValidationError,
)
from appmanage.schema.mutation import Mutation
from appmanage.schema.query import Query
from appmanage.schema.subscription import Subscription


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[ValidationError, NotFoundError, ConflictError, ActionNotAllowedError, ServiceUnavailableError],
    )


schema = build_schema()
