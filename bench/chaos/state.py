"""What one chaos run shares: its settings, the private services and stack, the API
client, the tally of what it did, and its timeline."""

from __future__ import annotations

import argparse
import random
import secrets
import sqlite3
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from tests.support.faults import PrivateDocker, PrivateRedis
from tests.support.graphql import GraphQLClient, GraphQLFailure
from tests.support.ports import free_port
from tests.support.processes import Stack

if TYPE_CHECKING:
    from bench.chaos.cluster import Cluster

API_ERRORS = (GraphQLFailure, httpx.HTTPError)  # the API is down, restarting, or answered errors
BUSY = {"INSTALLING", "UPDATING", "UNINSTALLING", "STARTING", "STOPPING"}
FINISHED = {"SUCCEEDED", "FAILED", "CANCELED"}
MUTATION_OF_ACTION = {
    "START": "startApp",
    "STOP": "stopApp",
    "RESTART": "restartApp",
    "REDEPLOY": "redeployApp",
    "UPDATE": "updateApp",
    "UNINSTALL": "uninstallApp",
}
ACTION_WEIGHTS = {"START": 3, "STOP": 3, "RESTART": 3, "REDEPLOY": 2, "UPDATE": 3, "UNINSTALL": 1}
HELLO_VERSIONS = ("1", "2")
STEP_PREFIX = "» "
ONE_SHOT_POLICIES = {"", "no", "on-failure"}


APP_BRIEF = """query($name: String!) {
  app(name: $name) { name catalogApp version status availableActions activeJob { id state } }
}"""
APPS_CHECK = "{ apps { name host status statusReason services { name state } } }"
INSTALL_ON = """mutation($input: InstallAppInput!) { installApp(input: $input) {
  __typename ... on JobAccepted { job { id kind } app { host } } ... on Error { message }
} }"""


@dataclass
class Accepted:
    job_id: str
    app: str
    kind: str
    at: float


@dataclass
class Tally:
    """What the run did; the fault thread and the main thread both write here."""

    sent: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    exits: Counter[str] = field(default_factory=Counter)
    accepted: dict[str, Accepted] = field(default_factory=dict)
    timeline: list[str] = field(default_factory=list)
    first_errors: dict[str, str] = field(default_factory=dict)


class ChaosState:
    """The state the operations, the faults and the checks share."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.fault_rng = random.Random(args.seed + 1)
        self.redis = PrivateRedis()
        self.docker = PrivateDocker()
        self.stack: Stack | None = None
        self.api: GraphQLClient | None = None  # the (first) API's client: setup and the checks
        self.clients: list[GraphQLClient] = []  # every API's: the operations pick one at random
        self.cluster: Cluster | None = None  # --hosts 2
        self.hosts: list[str] = []  # --hosts 2: where installs go
        self.host_returns: dict[str, float] = {}  # host → when its agent or engine came back
        self.misreads: list[str] = []  # what probes of a down host found wrong
        self.probes = 0
        self.hosts_down: set[str] = set()  # hosts whose agent or engine a fault holds down now
        self.redis_back = 0.0  # when Redis came back from its last fault
        self.first_seen: dict[str, float] = {}  # unfinished job → when the watch first saw it
        self.late: dict[str, str] = {}  # jobs that waited too long while all was up
        self.tally = Tally()
        prefix = f"chaos{secrets.token_hex(2)}"
        self.names = [f"{prefix}-{index:02d}" for index in range(args.apps)]
        self.ports = {name: free_port() for name in self.names}
        self.processes = threading.Lock()
        self.killed: set[int] = set()
        self.faulting = threading.Event()
        self.closing = threading.Event()
        self.started = time.monotonic()
        self.pending_cancels: list[tuple[float, str]] = []
        self.threads: list[threading.Thread] = []
        self.chaos_started = 0.0
        self.chaos_seconds = 0.0
        self.quiet_seconds: float | None = None

    def say(self, message: str) -> None:
        line = f"[{time.monotonic() - self.started:7.1f}s] {message}"
        self.tally.timeline.append(line)
        print(line, file=sys.stderr, flush=True)

    @contextmanager
    def database(self) -> Iterator[Any]:
        """A read-only connection: `.execute(sql)` gives rows (SQLite, or the cluster's PostgreSQL)."""
        if self.cluster is not None:
            with self.cluster.database() as postgres:
                yield postgres
            return
        assert self.stack is not None
        path = self.stack.settings.data_dir / "appmanage.db"
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            yield connection
        finally:
            connection.close()

    def api_or_fail(self) -> GraphQLClient:
        """The API to send the next operation through: any of them, at random."""
        if self.clients:
            return self.rng.choice(self.clients)
        assert self.api is not None
        return self.api
