"""The supervisor (any AppManage process that died is started again, as `appmanage run`
does) and the faults: SIGKILL a worker, the API or the watcher; Redis killed and restarted
empty; dockerd stopped and started again."""

from __future__ import annotations

import subprocess
import time
from contextlib import suppress

from bench.chaos.state import ChaosState

FAULT_KINDS = ("worker", "redis", "docker", "api", "watcher")
FAULT_WEIGHTS = {"worker": 5, "redis": 2, "docker": 2, "api": 1, "watcher": 1}


class Faults(ChaosState):
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

    def fault_weights(self) -> dict[str, int]:
        return FAULT_WEIGHTS

    def inject_faults(self) -> None:
        kinds = list(self.args.faults)
        weights = [self.fault_weights()[k] for k in kinds]
        mean = self.args.fault_interval
        prefix = "cluster_fault_" if self.cluster is not None else "fault_"
        while not self.faulting.wait(self.fault_rng.uniform(0.5 * mean, 1.5 * mean)):
            kind = self.fault_rng.choices(kinds, weights)[0]
            try:
                getattr(self, f"{prefix}{kind}")()
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
