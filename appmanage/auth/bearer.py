"""From the credential a client presents to its role, or to nothing."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from appmanage.auth import tokens
from appmanage.config import Settings
from appmanage.enums import Role
from appmanage.storage.database import Database

SCHEME = "bearer"
MAX_CREDENTIAL_LENGTH = 512
MIN_ADMIN_TOKEN_LENGTH = 32
ADMIN_TOKEN_ID = "APPMANAGE_ADMIN_TOKEN"


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


@dataclass(frozen=True)
class Principal:
    """Who a credential is: the token's id (ADMIN_TOKEN_ID for APPMANAGE_ADMIN_TOKEN) and role."""

    token_id: str
    role: Role


def admin_token_problem(settings: Settings) -> str | None:
    """Why APPMANAGE_ADMIN_TOKEN may not be used, or None when it is unset or long enough."""
    length = len(settings.admin_token)
    if 0 < length < MIN_ADMIN_TOKEN_LENGTH:
        return (
            f"APPMANAGE_ADMIN_TOKEN is {length} characters long; it must have at least {MIN_ADMIN_TOKEN_LENGTH} "
            "(make one with `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`), or unset it"
        )
    return None


def principal_of(settings: Settings, db: Database, authorization: object) -> Principal | None:
    """Who the credential is: APPMANAGE_ADMIN_TOKEN is ADMIN, else a live token; None for anything else."""
    secret = bearer_secret(authorization)
    if secret is None:
        return None
    if settings.admin_token and hmac.compare_digest(secret.encode(), settings.admin_token.encode()):
        return Principal(ADMIN_TOKEN_ID, Role.ADMIN)
    found = tokens.identify(db, secret)
    return Principal(*found) if found else None


def role_of(settings: Settings, db: Database, authorization: object) -> Role | None:
    """The role the credential grants, or None."""
    principal = principal_of(settings, db, authorization)
    return principal.role if principal else None
