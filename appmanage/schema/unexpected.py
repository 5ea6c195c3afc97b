"""Unexpected exceptions reach a client only as "unexpected error <id>"; the service log has
the same id with the exception. Expected failures (bad requests, refused calls, the domain's
own errors) pass through as they are, and are not logged as errors."""

from __future__ import annotations

import logging
import secrets

from strawberry.extensions import MaskErrors

from appmanage.errors import AppManageError
from appmanage.event_stream import CursorExpired, SubscriberTooSlow
from graphql import GraphQLError

log = logging.getLogger("appmanage.api")

EXPECTED = (GraphQLError, AppManageError, CursorExpired, SubscriberTooSlow)


def is_unexpected(error: GraphQLError) -> bool:
    return error.original_error is not None and not isinstance(error.original_error, EXPECTED)


class MaskUnexpectedErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        error_id = secrets.token_hex(6)
        where = ".".join(str(key) for key in error.path or ()) or "the request"
        log.error("unexpected error %s in %s", error_id, where, exc_info=error.original_error)
        return GraphQLError(
            f"unexpected error {error_id}; the service log tells more",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "errorId": error_id},
        )
