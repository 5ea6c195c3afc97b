"""API tokens in the database. A token's secret is shown once, when it is made; only its
SHA-256 is kept (the secret is 256 random bits, so a fast hash is enough), and a presented
secret is found by its hash and compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from appmanage.enums import Role
from appmanage.errors import Conflict, NotFound, ValidationFailed
from appmanage.storage.database import Database
from appmanage.storage.models import ApiToken, utcnow

PREFIX = "amt_"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}")
LAST_USED_PRECISION = timedelta(minutes=1)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(db: Database, name: str, role: Role) -> tuple[ApiToken, str]:
    """The new token and its secret, which nothing keeps."""
    if not NAME_PATTERN.fullmatch(name):
        raise ValidationFailed(
            "a token name is 1 to 64 letters, digits, spaces or . _ @ -, starting with a letter or digit",
            field="name",
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(id=secrets.token_hex(16), name=name, role=role, secret_hash=secret_hash(secret))
    try:
        with db.write() as session:
            if session.scalar(select(ApiToken.id).where(ApiToken.name == name, ApiToken.revoked_at.is_(None))):
                raise Conflict(f"a token named {name} exists; revoke it first")
            session.add(token)
    except IntegrityError as exc:
        raise Conflict(f"a token named {name} exists; revoke it first") from exc
    return token, secret


def list_tokens(db: Database) -> list[ApiToken]:
    with db.read() as session:
        query = select(ApiToken).where(ApiToken.revoked_at.is_(None)).order_by(ApiToken.created_at, ApiToken.name)
        return list(session.scalars(query))


def revoke_token(db: Database, token_id: str) -> ApiToken:
    with db.write() as session:
        token = session.get(ApiToken, token_id)
        if token is None or token.revoked_at is not None:
            raise NotFound(f"no token has the id {token_id}")
        token.revoked_at = utcnow()
        return token


def verify(db: Database, secret: str) -> Role | None:
    """The role of a live token with this secret; notes when it was last used (to the minute)."""
    found = identify(db, secret)
    return found[1] if found else None


def identify(db: Database, secret: str) -> tuple[str, Role] | None:
    """The id and role of a live token with this secret; notes when it was last used."""
    digest = secret_hash(secret)
    with db.read() as session:
        token = session.scalar(select(ApiToken).where(ApiToken.secret_hash == digest, ApiToken.revoked_at.is_(None)))
    if token is None or not hmac.compare_digest(token.secret_hash, digest):
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        with db.write() as session:
            session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
    return token.id, token.role


def any_token(db: Database) -> bool:
    with db.read() as session:
        return session.scalar(select(ApiToken.id).where(ApiToken.revoked_at.is_(None)).limit(1)) is not None
