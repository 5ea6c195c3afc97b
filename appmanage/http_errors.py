"""The API's answers when a request never reaches GraphQL: no valid token, or a failure
outside it (masked, with an id the service log has too)."""

from __future__ import annotations

import logging
import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse

log = logging.getLogger("appmanage.api")


class Unauthenticated(Exception):
    pass


def unauthenticated() -> JSONResponse:
    message = "this API needs a valid token: send `Authorization: Bearer <token>`"
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    error_id = secrets.token_hex(6)
    log.error("unexpected error %s in %s %s", error_id, request.method, request.url.path, exc_info=exc)
    message = f"unexpected error {error_id}; the service log tells more"
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": "INTERNAL_SERVER_ERROR", "errorId": error_id}}]},
        status_code=500,
    )
