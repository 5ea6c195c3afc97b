"""`appmanage token create|list|revoke`: API tokens from the host's shell."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from appmanage.config import Settings
from appmanage.enums import Role
from appmanage.errors import AppManageError


def add_token_parser(commands: Any) -> None:
    parser = commands.add_parser("token", help="create, list or revoke API tokens")
    actions = parser.add_subparsers(dest="token_action", required=True)
    create = actions.add_parser("create", help="make a token and print its secret (shown this once)")
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, type=str.upper, choices=[r.value for r in Role])
    actions.add_parser("list", help="the live tokens (never their secrets)")
    revoke = actions.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("id")


def token_command(settings: Settings, args: argparse.Namespace) -> int:
    from appmanage.auth import tokens
    from appmanage.services import prepare_data_dir
    from appmanage.storage.database import Database

    prepare_data_dir(settings)
    db = Database(settings.database_url)
    try:
        db.migrate()
        if args.token_action == "create":
            token, secret = tokens.create_token(db, args.name, Role(args.role))
            print(
                f"{token.role.value} token {token.name} (id {token.id}); its secret, shown this once:", file=sys.stderr
            )
            print(secret)
        elif args.token_action == "list":
            for token in tokens.list_tokens(db):
                used = _when(token.last_used_at)
                print(f"{token.id}  {token.role.value:<8}  {_when(token.created_at)}  {used}  {token.name}")
        else:
            token = tokens.revoke_token(db, args.id)
            print(f"revoked {token.name} ({token.id})", file=sys.stderr)
            if not _announce(settings, token.id):
                print(
                    "appmanage token: Redis did not answer; open websockets of this token close "
                    "at their next operation or when their API reconnects to Redis",
                    file=sys.stderr,
                )
    except AppManageError as exc:
        print(f"appmanage token: {exc.message}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    return 0


def _announce(settings: Settings, token_id: str) -> bool:
    from redis import Redis

    from appmanage.auth import revocation

    redis = Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        return revocation.announce(redis, settings.namespace, token_id)
    finally:
        redis.close()


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "never".ljust(16)
