"""Moved to tests/support; shim until the trust tests move."""

from tests.support.graphql import (
    ACCEPTED,
    ACTION_FIELDS,
    ADMIN_TOKEN,
    APP_FIELDS,
    APP_QUERY,
    ARG_TYPES,
    ERRORS,
    INSTALL,
    JOB_FIELDS,
    JOB_QUERY,
    NOT_ALLOWED,
    RESULT_FIELDS,
    GraphQLClient,
    bearer,
)
from tests.support.ports import free_port
from tests.support.waiting import wait_for

__all__ = [
    "ACCEPTED",
    "ACTION_FIELDS",
    "ADMIN_TOKEN",
    "APP_FIELDS",
    "APP_QUERY",
    "ARG_TYPES",
    "ERRORS",
    "INSTALL",
    "JOB_FIELDS",
    "JOB_QUERY",
    "NOT_ALLOWED",
    "RESULT_FIELDS",
    "GraphQLClient",
    "bearer",
    "free_port",
    "wait_for",
]
