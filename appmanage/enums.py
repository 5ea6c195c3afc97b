"""The enumerations every layer shares; their names are part of the API contract."""

from __future__ import annotations

from enum import StrEnum


class AppStatus(StrEnum):
    INSTALLING = "INSTALLING"
    UPDATING = "UPDATING"
    UNINSTALLING = "UNINSTALLING"
    STARTING = "STARTING"
    STOPPING = "STOPPING"
    RUNNING = "RUNNING"
    UNHEALTHY = "UNHEALTHY"
    DEGRADED = "DEGRADED"
    EXITED = "EXITED"
    RESTARTING = "RESTARTING"
    BACKING_UP = "BACKING_UP"
    RESTORING = "RESTORING"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"


class AppAction(StrEnum):
    START = "START"
    STOP = "STOP"
    RESTART = "RESTART"
    REDEPLOY = "REDEPLOY"
    UPDATE = "UPDATE"
    EDIT = "EDIT"  # an operator's own compose app's files (editApp)
    UNINSTALL = "UNINSTALL"
    LOGS = "LOGS"


class JobKind(StrEnum):
    INSTALL = "INSTALL"
    START = "START"
    STOP = "STOP"
    RESTART = "RESTART"
    REDEPLOY = "REDEPLOY"
    UPDATE = "UPDATE"
    UNINSTALL = "UNINSTALL"
    EDIT = "EDIT"
    """A custom compose app's files replaced, the project recreated; rolled back when `up` fails."""
    BACKUP = "BACKUP"
    RESTORE = "RESTORE"
    DELETE_BACKUP = "DELETE_BACKUP"


class JobState(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"

    @property
    def finished(self) -> bool:
        return self not in (JobState.QUEUED, JobState.RUNNING)


class ParameterType(StrEnum):
    STRING = "STRING"
    INT = "INT"
    BOOL = "BOOL"
    PORT = "PORT"
    PASSWORD = "PASSWORD"
    ENUM = "ENUM"
    URL = "URL"


class Role(StrEnum):
    """What an API token may do; each role may do all that the ones before it may."""

    VIEWER = "VIEWER"
    OPERATOR = "OPERATOR"
    ADMIN = "ADMIN"

    def includes(self, other: Role) -> bool:
        order = list(Role)
        return order.index(self) >= order.index(other)
