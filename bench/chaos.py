"""Chaos run (issue 7): random operations on a dozen apps while workers, Redis and Docker die.

What it does
    Starts a private Redis (keeps nothing on disk), a private dockerd (own socket and data
    root, the `appmanage-local/*` images loaded) and a real AppManage stack on them
    (tests/stack.py: API server, --workers workers, the watcher; own data folder and
    namespace). The shared dockerd and the shared Redis at 127.0.0.1:6379 are never used.

    For --minutes it sends a stream of random mutations over HTTP to --apps apps:
    installApp (catalog app `hello` version 1 or 2 with HTTP_PORT on a free 127.0.0.1
    port, sometimes `duo`), startApp, stopApp, restartApp, redeployApp, updateApp (hello
    1 <-> 2), uninstallApp (sometimes purgeData) and, now and then, cancelJob on a job it
    just got accepted or on an app's active job. Refusals (ConflictError,
    ActionNotAllowedError, ServiceUnavailableError while Docker is down, HTTP errors while
    a process restarts) are expected and counted; only JobAccepted jobs are tracked.

    Meanwhile, every --fault-interval seconds on average, one fault is injected:
      worker  -- SIGKILL a worker (preferably one running a job);
      redis   -- kill the private Redis and start it again, empty, a few seconds later;
      docker  -- stop the private dockerd and start it again a few seconds later;
      api, watcher -- SIGKILL that process (only when named in --faults).
    A supervisor restarts any AppManage process that died within a second, as
    `appmanage run` does.

    Then it waits for quiet (all processes up, no QUEUED or RUNNING job row; at most
    --quiet-timeout seconds) and counts:
      1. jobs lost     -- accepted jobs whose row is gone or not SUCCEEDED/FAILED/CANCELED;
      2. jobs run twice -- jobs whose log holds one of our step lines ("» docker compose
                          up", ...) more than once, i.e. the operation started twice;
      3. apps stuck    -- apps whose API status is INSTALLING, UPDATING, UNINSTALLING,
                          STARTING or STOPPING;
      4. disagreements -- apps whose API status or services disagree with
                          `docker -H <private> ps -a` + inspect (compose labels), recomputed
                          independently from the design's status table; compose projects
                          the API does not know; checked twice 10 s apart, only the ones
                          that persist count.
    All four must be 0: the exit code is 0 then, 1 otherwise. When a count is not 0 the
    data folder's database and logs are copied to an evidence folder, whose path is printed.
    Everything started is removed at the end, also on error or Ctrl-C.

How to run
    .venv/bin/python bench/chaos.py [--minutes 10] [--apps 12] [--seed N] [--workers 3]
        [--fault-interval 20] [--faults worker,redis,docker] [--quiet-timeout 120] [-v]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from appmanage.config import SHIPPED_CATALOG, Settings  # noqa: E402
from tests.helpers import free_port  # noqa: E402
from tests.stack import PrivateDocker, PrivateRedis, Stack  # noqa: E402

BUSY = {"INSTALLING", "UPDATING", "UNINSTALLING", "STARTING", "STOPPING"}
FINISHED = {"SUCCEEDED", "FAILED", "CANCELED"}
FAULT_KINDS = ("worker", "redis", "docker", "api", "watcher")
FAULT_WEIGHTS = {"worker": 5, "redis": 2, "docker": 2, "api": 1, "watcher": 1}
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
APPS_CHECK = "{ apps { name status statusReason services { name state } } }"
JOB_ACCEPTED = "__typename ... on JobAccepted { job { id kind state } } ... on Error { message }"
INSTALL = f"mutation($input: InstallAppInput!) {{ result: installApp(input: $input) {{ {JOB_ACCEPTED} }} }}"
CANCEL = "mutation($id: ID!) { result: cancelJob(id: $id) { __typename ... on Error { message } } }"
ACTION_ARGS = {"name": "String!", "version": "String!", "purgeData": "Boolean"}


class ApiError(Exception):
    """The API did not answer with data: down, restarting, or a GraphQL error."""


class Api:
    """A small GraphQL client over HTTP with the stack's admin token."""

    def __init__(self, port: int, token: str) -> None:
        self.http = httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def execute(self, query: str, **variables: Any) -> dict[str, Any]:
        try:
            response = self.http.post("/graphql", json={"query": query, "variables": variables})
        except httpx.HTTPError as exc:
            raise ApiError(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise ApiError(f"HTTP {response.status_code}: {response.text[:200]}")
        body = response.json()
        if body.get("errors"):
            raise ApiError(f"GraphQL errors: {json.dumps(body['errors'])[:300]}")
        data: dict[str, Any] = body["data"]
        return data

    def action(self, mutation: str, **arguments: Any) -> dict[str, Any]:
        signature = ", ".join(f"${k}: {ACTION_ARGS[k]}" for k in arguments)
        call = ", ".join(f"{k}: ${k}" for k in arguments)
        query = f"mutation({signature}) {{ result: {mutation}({call}) {{ {JOB_ACCEPTED} }} }}"
        result: dict[str, Any] = self.execute(query, **arguments)["result"]
        return result

    def close(self) -> None:
        self.http.close()


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


@dataclass
class Container:
    project: str
    service: str
    state: str
    exit_code: int
    restart_policy: str
    health: str | None

    @property
    def long_running(self) -> bool:
        return not (self.state == "exited" and self.exit_code == 0 and self.restart_policy in ONE_SHOT_POLICIES)


@dataclass
class Findings:
    lost: list[str] = field(default_factory=list)
    twice: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    disagree: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.twice or self.stuck or self.disagree)


class Chaos:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.fault_rng = random.Random(args.seed + 1)
        self.redis = PrivateRedis()
        self.docker = PrivateDocker()
        self.stack: Stack | None = None
        self.api: Api | None = None
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

    # -- the setting ------------------------------------------------------------------

    def say(self, message: str) -> None:
        line = f"[{time.monotonic() - self.started:7.1f}s] {message}"
        self.tally.timeline.append(line)
        print(line, file=sys.stderr, flush=True)

    def set_up(self) -> None:
        self.redis.start()
        self.docker.start()
        self.docker.load_images()
        base = Settings(
            data_dir=Path(tempfile.gettempdir()),
            namespace=f"chaos-{secrets.token_hex(3)}",
            redis_url=self.redis.url,
            catalogs=(SHIPPED_CATALOG,),
            workers=self.args.workers,
            compose_timeout=120,
        )
        self.stack = Stack.create(base, DOCKER_HOST=self.docker.host, APPMANAGE_REDIS_URL=self.redis.url)
        self.stack.start(workers=self.args.workers, watcher=True)
        self.api = Api(self.stack.port, self.stack.settings.admin_token)
        try:
            self.api.execute("{ health { docker redis database workers } }")
        except ApiError as exc:
            raise SystemExit(f"the API refuses the stack's admin token or does not answer: {exc}") from exc
        self.say(f"stack up: data {self.stack.settings.data_dir}, dockerd {self.docker.host}, redis {self.redis.url}")

    def tear_down(self) -> None:
        self.faulting.set()
        self.closing.set()
        for thread in self.threads:
            thread.join(timeout=180)
        if self.api is not None:
            self.api.close()
        steps: list[tuple[str, Callable[[], None]]] = [
            ("stack", self.stack.remove if self.stack is not None else lambda: None),
            ("dockerd", self.docker.remove),
            ("redis", self.redis.kill),
            ("dockerd's leftover shims", lambda: kill_leftovers(f"{self.docker.root}/")),
        ]
        for what, step in steps:
            try:
                step()
            except Exception as exc:  # one failed step must not leave the others behind
                print(f"cleaning up the {what} failed: {exc}", file=sys.stderr)

    # -- processes: the supervisor and the faults ---------------------------------------

    def supervise(self) -> None:
        """Like `appmanage run`: any process that died is started again within a second."""
        while not self.closing.wait(1.0):
            with self.processes:
                self.restart_dead()

    def restart_dead(self) -> None:
        stack = self.stack
        assert stack is not None
        for worker in list(stack.workers):
            if worker.poll() is not None:
                stack.workers.remove(worker)
                self.note_exit("worker", worker)
                stack.add_worker()
        if stack.watcher is not None and stack.watcher.poll() is not None:
            self.note_exit("watcher", stack.watcher)
            stack.start_watcher()
        if stack.api is not None and stack.api.poll() is not None:
            self.note_exit("api", stack.api)
            try:
                stack.start_api()
            except AssertionError as exc:
                self.say(f"the API did not come back yet: {str(exc)[:200]}")

    def note_exit(self, kind: str, process: subprocess.Popen[bytes]) -> None:
        if process.pid in self.killed:
            self.killed.discard(process.pid)
            return
        self.tally.exits[kind] += 1
        self.say(f"{kind} {process.pid} exited by itself with code {process.returncode}; started again")

    def inject_faults(self) -> None:
        kinds = list(self.args.faults)
        weights = [FAULT_WEIGHTS[k] for k in kinds]
        mean = self.args.fault_interval
        while not self.faulting.wait(self.fault_rng.uniform(0.5 * mean, 1.5 * mean)):
            kind = self.fault_rng.choices(kinds, weights)[0]
            try:
                getattr(self, f"fault_{kind}")()
            except Exception as exc:
                self.say(f"fault {kind} went wrong: {type(exc).__name__}: {exc}")
            self.tally.faults[kind] += 1

    def kill_process(self, kind: str, process: subprocess.Popen[bytes] | None, detail: str = "") -> None:
        if process is None or process.poll() is not None:
            return
        self.killed.add(process.pid)
        process.kill()
        process.wait()
        self.say(f"fault: SIGKILL {kind} {process.pid}{detail}")

    def fault_worker(self) -> None:
        stack = self.stack
        assert stack is not None
        with self.processes:
            alive = [w for w in stack.workers if w.poll() is None]
            busy = self.busy_workers()
            running = [w for w in alive if w.pid in busy]
            pool = running if running and self.fault_rng.random() < 0.75 else alive
            if pool:
                victim = self.fault_rng.choice(pool)
                job = busy.get(victim.pid)
                self.kill_process("worker", victim, f" (running {job})" if job else " (idle)")

    def fault_api(self) -> None:
        assert self.stack is not None
        with self.processes:
            self.kill_process("api", self.stack.api)

    def fault_watcher(self) -> None:
        assert self.stack is not None
        with self.processes:
            self.kill_process("watcher", self.stack.watcher)

    def fault_redis(self) -> None:
        down = self.fault_rng.uniform(1, 8)
        self.redis.kill()
        self.say(f"fault: Redis killed, back in {down:.1f} s, empty")
        time.sleep(down)
        self.redis.start()

    def fault_docker(self) -> None:
        down = self.fault_rng.uniform(2, 10)
        started = time.monotonic()
        try:
            self.docker.stop()
        except subprocess.TimeoutExpired:
            assert self.docker.process is not None
            self.docker.process.kill()
            self.docker.process.wait()
        self.say(f"fault: dockerd stopped in {time.monotonic() - started:.1f} s, back in {down:.1f} s")
        time.sleep(down)
        self.docker.start()
        self.say("dockerd answers again")

    def busy_workers(self) -> dict[int, str]:
        """pid of each worker running a job → that job's id and kind."""
        with self.database() as db:
            rows = db.execute("SELECT id, kind, worker FROM jobs WHERE state = 'RUNNING'").fetchall()
        busy = {}
        for job_id, kind, worker in rows:
            with suppress(ValueError, AttributeError):
                busy[int(worker.rsplit(":", 1)[1])] = f"{kind} {job_id}"
        return busy

    @contextmanager
    def database(self) -> Iterator[sqlite3.Connection]:
        assert self.stack is not None
        path = self.stack.settings.data_dir / "appmanage.db"
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            yield connection
        finally:
            connection.close()

    # -- the operations -------------------------------------------------------------------

    def run_operations(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.fire_due_cancels()
            self.operate(self.rng.choice(self.names))
            time.sleep(self.rng.uniform(0.1, 0.6))

    def operate(self, name: str) -> None:
        assert self.api is not None
        try:
            app = self.api.execute(APP_BRIEF, name=name)["app"]
        except ApiError as exc:
            self.outcome("query app", "ApiError", str(exc))
            return
        if app is None:
            if self.rng.random() < 0.9:
                self.install(name)
            else:
                self.act(name, self.rng.choice(list(MUTATION_OF_ACTION)), app)
            return
        active = app["activeJob"]
        if active is not None:
            roll = self.rng.random()
            if roll < 0.2:
                self.cancel(active["id"])
            elif roll < 0.35:
                self.act(name, self.rng.choice(list(MUTATION_OF_ACTION)), app)
            return
        allowed = [a for a in app["availableActions"] if a in MUTATION_OF_ACTION]
        if app["catalogApp"] != "hello":
            allowed = [a for a in allowed if a != "UPDATE"]
        if allowed and self.rng.random() < 0.85:
            action = self.rng.choices(allowed, [ACTION_WEIGHTS[a] for a in allowed])[0]
        else:
            action = self.rng.choice(list(MUTATION_OF_ACTION))
        self.act(name, action, app)

    def install(self, name: str) -> None:
        assert self.api is not None
        duo = self.rng.random() < self.args.duo
        catalog, version = ("duo", "1") if duo else ("hello", self.rng.choice(HELLO_VERSIONS))
        variables = {
            "catalogApp": catalog,
            "name": name,
            "version": version,
            "settings": [{"key": "HTTP_PORT", "value": str(self.ports[name])}],
        }
        self.mutate("installApp", name, lambda: self.api_or_fail().execute(INSTALL, input=variables)["result"])

    def act(self, name: str, action: str, app: dict[str, Any] | None) -> None:
        mutation = MUTATION_OF_ACTION[action]
        arguments: dict[str, Any] = {"name": name}
        if action == "UPDATE":
            current = app["version"] if app else "1"
            arguments["version"] = "2" if current == "1" else "1"
        elif action == "UNINSTALL":
            arguments["purgeData"] = self.rng.random() < 0.3
        self.mutate(mutation, name, lambda: self.api_or_fail().action(mutation, **arguments))

    def api_or_fail(self) -> Api:
        assert self.api is not None
        return self.api

    def mutate(self, mutation: str, name: str, send: Callable[[], dict[str, Any]]) -> None:
        self.tally.sent[mutation] += 1
        try:
            result = send()
        except ApiError as exc:
            self.outcome(mutation, "ApiError", str(exc))
            return
        typename = result["__typename"]
        self.outcome(mutation, typename, result.get("message", ""))
        if typename != "JobAccepted":
            return
        job = result["job"]
        self.tally.accepted[job["id"]] = Accepted(job["id"], name, job["kind"], time.monotonic() - self.started)
        if self.args.verbose:
            self.say(f"{mutation} {name}: job {job['id']} accepted")
        if self.rng.random() < 0.1:
            self.pending_cancels.append((time.monotonic() + self.rng.uniform(0, 3), job["id"]))

    def cancel(self, job_id: str) -> None:
        self.tally.sent["cancelJob"] += 1
        try:
            result = self.api_or_fail().execute(CANCEL, id=job_id)["result"]
        except ApiError as exc:
            self.outcome("cancelJob", "ApiError", str(exc))
            return
        self.outcome("cancelJob", result["__typename"], result.get("message", ""))

    def fire_due_cancels(self) -> None:
        now = time.monotonic()
        due = [job_id for at, job_id in self.pending_cancels if at <= now]
        self.pending_cancels = [(at, job_id) for at, job_id in self.pending_cancels if at > now]
        for job_id in due:
            self.cancel(job_id)

    def outcome(self, what: str, typename: str, message: str) -> None:
        key = f"{what} → {typename}"
        self.tally.outcomes[key] += 1
        self.tally.first_errors.setdefault(key, message[:200])

    # -- chaos, quiet, counts ---------------------------------------------------------------

    def run(self) -> Findings:
        supervisor = threading.Thread(target=self.supervise, name="supervisor", daemon=True)
        faults = threading.Thread(target=self.inject_faults, name="faults", daemon=True)
        self.threads = [faults, supervisor]
        supervisor.start()
        faults.start()
        self.chaos_started = time.monotonic()
        self.run_operations(self.args.minutes * 60)
        self.faulting.set()
        self.say("chaos stopped; waiting for the fault in progress, then for quiet")
        faults.join()
        self.chaos_seconds = time.monotonic() - self.chaos_started
        self.quiet_seconds = self.wait_for_quiet()
        time.sleep(3)
        return self.count()

    def all_up(self) -> bool:
        stack = self.stack
        assert stack is not None and self.redis.process is not None and self.docker.process is not None
        with self.processes:
            return (
                self.redis.process.poll() is None
                and self.docker.process.poll() is None
                and sum(w.poll() is None for w in stack.workers) == self.args.workers
                and stack.watcher is not None
                and stack.watcher.poll() is None
                and stack.api is not None
                and stack.api.poll() is None
            )

    def unfinished(self) -> list[tuple[str, str, str, str]]:
        with self.database() as db:
            rows = db.execute(
                "SELECT id, app_name, kind, state FROM jobs WHERE state IN ('QUEUED', 'RUNNING') ORDER BY created_at"
            ).fetchall()
        return [tuple(row) for row in rows]

    def wait_for_quiet(self) -> float | None:
        started = time.monotonic()
        deadline = started + self.args.quiet_timeout
        while time.monotonic() < deadline:
            if self.all_up() and not self.unfinished():
                took = time.monotonic() - started
                self.say(f"quiet after {took:.1f} s")
                return took
            time.sleep(1)
        self.say(f"no quiet after {self.args.quiet_timeout} s: unfinished {self.unfinished()}")
        return None

    def count(self) -> Findings:
        findings = Findings()
        self.count_lost_and_twice(findings)
        first = self.check_apps(findings)
        if first:
            self.say(f"{len(first)} disagreement(s); checking again in 10 s")
            time.sleep(10)
            second = self.check_apps(findings, note=False)
            findings.disagree = [d for d in second if _app_of(d) in {_app_of(f) for f in first}]
            transient = [f for f in first if _app_of(f) not in {_app_of(d) for d in second}]
            findings.notes += [f"transient disagreement (gone 10 s later): {t}" for t in transient]
        self.scan_logs(findings)
        return findings

    def count_lost_and_twice(self, findings: Findings) -> None:
        with self.database() as db:
            jobs = {
                row[0]: row
                for row in db.execute("SELECT id, app_name, kind, state, step, error, worker FROM jobs").fetchall()
            }
            lines: dict[str, list[str]] = {}
            for job_id, line in db.execute("SELECT job_id, line FROM job_log_lines ORDER BY id"):
                lines.setdefault(job_id, []).append(line)
        for job_id, accepted in self.tally.accepted.items():
            row = jobs.get(job_id)
            if row is None:
                findings.lost.append(f"{accepted.kind} {job_id} of {accepted.app}: the row is gone")
            elif row[3] not in FINISHED:
                findings.lost.append(
                    f"{accepted.kind} {job_id} of {accepted.app}: {row[3]} at step {row[4]!r} (worker {row[6]})"
                )
        for job_id, (_, app, kind, state, _, error, _) in jobs.items():
            log = lines.get(job_id, [])
            steps = Counter(line for line in log if line.startswith(STEP_PREFIX))
            repeated = {step: n for step, n in steps.items() if n > 1}
            origin = "accepted" if job_id in self.tally.accepted else "not from our mutations"
            if repeated:
                findings.twice.append(f"{kind} {job_id} of {app} ({origin}, {state}): steps {repeated}")
            lost_at = next((i for i, line in enumerate(log) if line.startswith("failed: worker lost")), None)
            if lost_at is not None and any(line.startswith(STEP_PREFIX) for line in log[lost_at + 1 :]):
                findings.notes.append(f"{kind} {job_id} of {app} went on after being declared lost: {error}")
        others = [j for j in jobs if j not in self.tally.accepted]
        if others:
            findings.notes.append(f"{len(others)} job row(s) not from our mutations (e.g. resumed desired state)")

    def check_apps(self, findings: Findings, note: bool = True) -> list[str]:
        """Stuck apps go to findings; the disagreements are returned."""
        assert self.api is not None
        apps = self.api.execute(APPS_CHECK)["apps"]
        projects = self.docker_projects()
        with self.database() as db:
            installed = {name: bool(flag) for name, flag in db.execute("SELECT name, installed FROM apps")}
        problems = []
        findings.stuck = [f"{a['name']} is {a['status']}: {a['statusReason']}" for a in apps if a["status"] in BUSY]
        for app in apps:
            if app["status"] in BUSY:
                continue
            containers = projects.get(app["name"], [])
            problem = disagreement(app, containers, installed.get(app["name"], True))
            if problem:
                problems.append(f"{app['name']}: {problem}")
        known = {a["name"] for a in apps}
        for project, containers in projects.items():
            if project not in known:
                states = ", ".join(f"{c.service} {c.state}" for c in containers)
                problems.append(f"{project}: Docker has containers ({states}) but the API knows no such app")
        if note:
            statuses = Counter(a["status"] for a in apps)
            findings.notes.append(f"apps at the end: {dict(statuses)}; compose projects in Docker: {len(projects)}")
        return problems

    def docker_projects(self) -> dict[str, list[Container]]:
        ids = subprocess.run(self.docker.docker("ps", "-aq"), capture_output=True, text=True, check=True).stdout.split()
        if not ids:
            return {}
        raw = subprocess.run(self.docker.docker("inspect", *ids), capture_output=True, text=True, check=True).stdout
        projects: dict[str, list[Container]] = {}
        for item in json.loads(raw):
            labels = item["Config"].get("Labels") or {}
            project = labels.get("com.docker.compose.project")
            if not project or labels.get("com.docker.compose.oneoff") == "True":
                continue
            state = item["State"]
            health = (state.get("Health") or {}).get("Status")
            container = Container(
                project=project,
                service=labels.get("com.docker.compose.service", item["Name"].lstrip("/")),
                state=state["Status"],
                exit_code=int(state.get("ExitCode") or 0),
                restart_policy=(item["HostConfig"].get("RestartPolicy") or {}).get("Name") or "",
                health=health,
            )
            projects.setdefault(project, []).append(container)
        return projects

    def scan_logs(self, findings: Findings) -> None:
        assert self.stack is not None
        data = self.stack.settings.data_dir
        service_log = self.stack.service_log()
        locked = service_log.count("database is locked")
        if locked:
            findings.notes.append(f"'database is locked' appears {locked} time(s) in logs/appmanage.log")
        for out in sorted(data.glob("*.out")):
            text = out.read_text(errors="replace")
            if text.count("Traceback"):
                findings.notes.append(f"{out.name}: {text.count('Traceback')} traceback(s)")

    def keep_evidence(self) -> Path | None:
        if self.stack is None:
            return None
        data = self.stack.settings.data_dir
        target = Path(tempfile.mkdtemp(prefix=f"chaos-evidence-{self.args.seed}-"))
        for path in [data / "appmanage.db", *data.glob("appmanage.db-*"), *data.glob("*.out")]:
            if path.exists():
                shutil.copy2(path, target / path.name)
        if (data / "logs").exists():
            shutil.copytree(data / "logs", target / "logs")
        (target / "timeline.txt").write_text("\n".join(self.tally.timeline) + "\n")
        with suppress(OSError):
            shutil.copy2(self.docker.root / "dockerd.log", target / "dockerd.log")
        return target


def kill_leftovers(marker: str) -> None:
    """SIGKILL processes whose command line names our private dockerd's root: containerd
    shims it sometimes leaves behind when stopped while a container is being removed."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with suppress(OSError, ProcessLookupError):
            if marker in cmdline.read_bytes().decode(errors="replace"):
                os.kill(int(cmdline.parent.name), signal.SIGKILL)


def disagreement(app: dict[str, Any], containers: list[Container], installed: bool) -> str | None:
    """How the API's status or services differ from what Docker shows, or None."""
    status = app["status"]
    api_services = sorted((s["name"], s["state"]) for s in app["services"])
    docker_services = sorted((c.service, c.state) for c in containers)
    seen = ", ".join(f"{s} {st}" for s, st in docker_services) or "no containers"
    if api_services != docker_services:
        return f"API services {api_services} but Docker has {docker_services}"
    expected = expected_status(containers)
    if status == expected or (status == "FAILED" and not installed):
        return None
    if status == "UNHEALTHY" and expected == "RUNNING":
        return None
    return f"API says {status} ({app['statusReason']}) but Docker shows {seen}, which is {expected}"


def expected_status(containers: list[Container]) -> str:
    """The design's status table, from Docker alone (no job in flight)."""
    if not containers:
        return "FAILED"
    if any(c.state in ("created", "dead") for c in containers):
        return "FAILED"
    if any(c.state == "restarting" for c in containers):
        return "RESTARTING"
    long_running = [c for c in containers if c.long_running]
    running = [c for c in long_running if c.state == "running"]
    if not running:
        return "EXITED"
    if len(running) < len(long_running):
        return "DEGRADED"
    if any(c.health == "unhealthy" for c in running):
        return "UNHEALTHY"
    return "RUNNING"


def _app_of(problem: str) -> str:
    return problem.split(":", 1)[0]


def report(chaos: Chaos, findings: Findings, total: float) -> None:
    tally = chaos.tally
    counts = {
        "jobs lost": findings.lost,
        "jobs run twice": findings.twice,
        "apps stuck busy": findings.stuck,
        "apps disagreeing with Docker": findings.disagree,
    }
    print()
    print(f"chaos run: seed {chaos.args.seed}, {chaos.args.apps} apps, {chaos.args.workers} workers")
    quiet = "never" if chaos.quiet_seconds is None else f"{chaos.quiet_seconds:.0f} s"
    print(f"duration: chaos {chaos.chaos_seconds / 60:.1f} min, quiet after {quiet}, total {total / 60:.1f} min")
    print(f"operations sent: {sum(tally.sent.values())} ({_fmt(tally.sent)})")
    print(f"jobs accepted: {len(tally.accepted)} ({_fmt(Counter(a.kind for a in tally.accepted.values()))})")
    print(f"faults injected: {sum(tally.faults.values())} ({_fmt(tally.faults)})")
    if tally.exits:
        print(f"processes that exited by themselves: {_fmt(tally.exits)}")
    print("outcomes:")
    for key, n in sorted(tally.outcomes.items()):
        example = tally.first_errors.get(key)
        print(f"  {n:5d}  {key}" + (f"  (e.g. {example})" if example else ""))
    print("counts:")
    for label, items in counts.items():
        print(f"  {label}: {len(items)}")
        for item in items:
            print(f"    - {item}")
    for note in findings.notes:
        print(f"note: {note}")


def _fmt(counter: Counter[str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counter.items())) or "none"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, default=10, help="how long the chaos lasts (default 10)")
    parser.add_argument("--apps", type=int, default=12, help="how many app names to play with (default 12)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: a random one, printed)")
    parser.add_argument("--workers", type=int, default=3, help="workers kept running (default 3)")
    parser.add_argument("--fault-interval", type=float, default=20, help="mean seconds between faults (default 20)")
    parser.add_argument(
        "--faults",
        type=lambda text: [k.strip() for k in text.split(",") if k.strip()],
        default=["worker", "redis", "docker"],
        help=f"fault kinds, comma separated, of {', '.join(FAULT_KINDS)} (default worker,redis,docker)",
    )
    parser.add_argument("--duo", type=float, default=0.2, help="share of installs that install duo (default 0.2)")
    parser.add_argument("--quiet-timeout", type=float, default=120, help="seconds to wait for quiet (default 120)")
    parser.add_argument("--keep-evidence", action="store_true", help="copy the logs and database even when all is 0")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every accepted job")
    args = parser.parse_args(argv)
    unknown = set(args.faults) - set(FAULT_KINDS)
    if unknown:
        parser.error(f"unknown fault kinds: {', '.join(sorted(unknown))}")
    if args.seed is None:
        args.seed = random.randrange(1_000_000)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def interrupted(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    chaos = Chaos(args)
    started = time.monotonic()
    try:
        chaos.set_up()
        findings = chaos.run()
        report(chaos, findings, time.monotonic() - started)
        if not findings.ok or args.keep_evidence:
            print(f"evidence kept in {chaos.keep_evidence()}")
        return 0 if findings.ok else 1
    except KeyboardInterrupt:
        print("interrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        chaos.tear_down()


if __name__ == "__main__":
    sys.exit(main())
