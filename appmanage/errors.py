"""Expected failures, raised by the layers below and turned into the API's error types."""

from __future__ import annotations

from collections.abc import Sequence

from appmanage.enums import AppAction, AppStatus


class AppManageError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(AppManageError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(AppManageError):
    pass


class Conflict(AppManageError):
    pass


class ActionNotAllowed(AppManageError):
    def __init__(self, message: str, status: AppStatus, allowed: Sequence[AppAction]) -> None:
        super().__init__(message)
        self.status = status
        self.allowed = tuple(allowed)


class Unavailable(AppManageError):
    """A service we depend on (Docker, Redis) did not answer."""
