"""From the credential a client presents to its role, or to nothing."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from appmanage.auth import tokens
from appmanage.config import Settings
from appmanage.enums import Role
from appmanage.storage.database import Database

SCHEME = "bearer"
MAX_CREDENTIAL_LENGTH = 512


def bearer_secret(authorization: object) -> str | None:
    """The token of an `Authorization: Bearer <token>` value."""
    if not isinstance(authorization, str) or len(authorization) > MAX_CREDENTIAL_LENGTH:
        return None
    scheme, _, secret = authorization.strip().partition(" ")
    secret = secret.strip()
    return secret if scheme.lower() == SCHEME and secret and secret.isascii() else None


def connection_authorization(params: Mapping[str, object] | None) -> object:
    """The `Authorization` entry of a websocket's connection_init payload, in any letter case."""
    return next((value for key, value in (params or {}).items() if key.lower() == "authorization"), None)


def role_of(settings: Settings, db: Database, authorization: object) -> Role | None:
    """The role the credential grants: APPMANAGE_ADMIN_TOKEN is ADMIN, else a live token's role."""
    secret = bearer_secret(authorization)
    if secret is None:
        return None
    if settings.admin_token and hmac.compare_digest(secret.encode(), settings.admin_token.encode()):
        return Role.ADMIN
    return tokens.verify(db, secret)
