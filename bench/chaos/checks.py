"""After the chaos: waiting for quiet, then the four counts (jobs lost, jobs run twice,
apps stuck busy, apps disagreeing with Docker) and the evidence to keep."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.chaos.state import APPS_CHECK, BUSY, FINISHED, ONE_SHOT_POLICIES, STEP_PREFIX, ChaosState
from tests.support.faults import PrivateDocker


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


class Checks(ChaosState):
    def all_up(self) -> bool:
        if self.cluster is not None:
            with self.processes:
                return self.cluster.all_up()
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
                back = max(self.host_returns.values(), default=None)
                since = "" if back is None else f", {time.monotonic() - back:.1f} s after the last host came back"
                self.say(f"quiet after {took:.1f} s{since}")
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
        engines = self.cluster.engines if self.cluster is not None else {"": self.docker}
        on_host = {host: self.docker_projects(engine) for host, engine in engines.items()}
        with self.database() as db:
            installed = {name: bool(flag) for name, flag in db.execute("SELECT name, installed FROM apps")}
        problems = []
        findings.stuck = [f"{a['name']} is {a['status']}: {a['statusReason']}" for a in apps if a["status"] in BUSY]
        findings.stuck += [f"late job {late}" for late in self.late.values()]
        host_of = {a["name"]: (a["host"] if self.cluster is not None else "") for a in apps}
        for app in apps:
            if app["status"] in BUSY:
                continue
            containers = on_host.get(host_of[app["name"]], {}).get(app["name"], [])
            problem = disagreement(app, containers, installed.get(app["name"], True))
            if problem:
                problems.append(f"{app['name']}: {problem}")
        for host, projects in on_host.items():
            where = f" on host {host}" if host else ""
            for project, containers in projects.items():
                if host_of.get(project) != host:
                    states = ", ".join(f"{c.service} {c.state}" for c in containers)
                    owner = f"an app of host {host_of[project]}" if project in host_of else "no such app"
                    problems.append(f"{project}: Docker{where} has containers ({states}) but the API knows {owner}")
        if note:
            statuses = Counter(a["status"] for a in apps)
            count = sum(len(p) for p in on_host.values())
            findings.notes.append(f"apps at the end: {dict(statuses)}; compose projects in Docker: {count}")
        return problems

    def docker_projects(self, engine: PrivateDocker) -> dict[str, list[Container]]:
        ids = subprocess.run(engine.docker("ps", "-aq"), capture_output=True, text=True, check=True).stdout.split()
        if not ids:
            return {}
        raw = subprocess.run(engine.docker("inspect", *ids), capture_output=True, text=True, check=True).stdout
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
        if self.cluster is not None:
            for path in self.cluster.logs():
                text = path.read_text(errors="replace") if path.is_file() else ""
                for needle in ("Traceback", "database is locked"):
                    if text.count(needle):
                        findings.notes.append(
                            f"{path.parent.name}/{path.name}: {needle!r} {text.count(needle)} time(s)"
                        )
            findings.notes += [f"misread while a host was down: {m}" for m in self.misreads]
            return
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
        if self.cluster is not None:
            target = Path(tempfile.mkdtemp(prefix=f"chaos-evidence-{self.args.seed}-"))
            (target / "timeline.txt").write_text("\n".join(self.tally.timeline) + "\n")
            self.cluster.keep_evidence(target)
            return target
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
