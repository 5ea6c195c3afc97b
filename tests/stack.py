"""Moved to tests/support (processes.py, faults.py); shim until the trust tests move."""

from tests.support.faults import PrivateDocker, PrivateRedis, answers
from tests.support.processes import Stack
from tests.support.waiting import elapsed_until

__all__ = ["PrivateDocker", "PrivateRedis", "Stack", "answers", "elapsed_until"]
