"""API tokens made through the API, as an admin would."""

from __future__ import annotations

import secrets
from typing import Any

from appmanage.enums import Role
from tests.support.graphql import GraphQLClient
from tests.support.run import RUN_ID

CREATE = """mutation($name: String!, $role: Role!) {
    createToken(name: $name, role: $role) {
        __typename ... on TokenCreated { secret token { id name role createdAt lastUsedAt } } ... on Error { message }
    }
}"""
REVOKE = "mutation($id: ID!) { revokeToken(id: $id) { __typename ... on ApiToken { id name } } }"


def create_token(api: GraphQLClient, role: Role, name: str | None = None) -> dict[str, Any]:
    """The `TokenCreated` answer for a new token of `role`."""
    result: dict[str, Any] = api.execute(CREATE, name=name or f"{RUN_ID}-{secrets.token_hex(4)}", role=role.value)[
        "createToken"
    ]
    assert result["__typename"] == "TokenCreated", result
    return result
