"""Free TCP ports on 127.0.0.1."""

from __future__ import annotations

import random
import socket


def free_port() -> int:
    """A free port below Linux's ephemeral range (32768 and up), so that no outgoing
    connection takes it while an app holding it is stopped."""
    while True:
        port = random.randint(20_000, 32_000)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
