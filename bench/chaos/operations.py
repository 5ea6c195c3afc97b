"""The stream of random mutations on the run's apps, and what came of each."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench.chaos.state import (
    ACTION_WEIGHTS,
    API_ERRORS,
    APP_BRIEF,
    HELLO_VERSIONS,
    INSTALL_ON,
    MUTATION_OF_ACTION,
    Accepted,
    ChaosState,
)


class Operations(ChaosState):
    def run_operations(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.fire_due_cancels()
            self.operate(self.rng.choice(self.names))
            time.sleep(self.rng.uniform(0.1, 0.6))

    def operate(self, name: str) -> None:
        try:
            app = self.api_or_fail().execute(APP_BRIEF, name=name)["app"]
        except API_ERRORS as exc:
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
        duo = self.rng.random() < self.args.duo
        catalog, version = ("duo", "1") if duo else ("hello", self.rng.choice(HELLO_VERSIONS))
        port = str(self.ports[name])
        if not self.hosts:
            self.mutate("installApp", name, lambda: self.api_or_fail().install(catalog, name, version, HTTP_PORT=port))
            return
        host = self.rng.choice(self.hosts) if self.rng.random() < 0.8 else None  # None: placement chooses
        given = {"catalogApp": catalog, "name": name, "version": version, "host": host}
        settings = [{"key": "HTTP_PORT", "value": port}]
        self.mutate(
            "installApp",
            name,
            lambda: self.api_or_fail().execute(INSTALL_ON, input={**given, "settings": settings})["installApp"],
        )

    def act(self, name: str, action: str, app: dict[str, Any] | None) -> None:
        mutation = MUTATION_OF_ACTION[action]
        arguments: dict[str, Any] = {"name": name}
        if action == "UPDATE":
            current = app["version"] if app else "1"
            arguments["version"] = "2" if current == "1" else "1"
        elif action == "UNINSTALL":
            arguments["purgeData"] = self.rng.random() < 0.3
        self.mutate(mutation, name, lambda: self.api_or_fail().act(mutation, **arguments))

    def mutate(self, mutation: str, name: str, send: Callable[[], dict[str, Any]]) -> None:
        self.tally.sent[mutation] += 1
        try:
            result = send()
        except API_ERRORS as exc:
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
            result = self.api_or_fail().act("cancelJob", id=job_id)
        except API_ERRORS as exc:
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
