"""Moved to tests/support/wsclient.py; shim until the trust tests move."""

from tests.support.wsclient import GraphQLWebSocket

__all__ = ["GraphQLWebSocket"]
