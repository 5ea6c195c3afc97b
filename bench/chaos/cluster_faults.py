"""The faults of a two-host run, and what must hold while a host is down.

agent  -- SIGKILL an agent's whole process group (agent, workers, watcher); a bare
          `appmanage agent` has no supervisor, so the run starts it again itself after a
          random 3-20 s (longer than OFFLINE_AFTER: the host goes OFFLINE);
api    -- SIGKILL one API process, started again on the same port 0.5-3 s later;
docker -- stop one host's dockerd, start it again 2-20 s later;
redis  -- kill the private Redis, start it again empty 1-8 s later;
worker -- SIGKILL one worker an agent forked (one running a job when there is one); the
          agent restarts it.

While a host is down for longer than OFFLINE_AFTER + a beat, the run probes it through
a random API: the host must read OFFLINE, its apps UNKNOWN (or busy with a queued job),
and the apps of the other host must not read UNKNOWN. A probe that finds otherwise is a
misread, listed in the report (a note, not one of the four counts)."""

from __future__ import annotations

import os
import signal
import time
from contextlib import suppress
from pathlib import Path

from appmanage.hosts.facts import OFFLINE_AFTER
from bench.chaos.cluster import HOSTS, Cluster
from bench.chaos.faults import Faults
from bench.chaos.state import API_ERRORS, BUSY

CLUSTER_FAULT_KINDS = ("agent", "api", "docker", "redis", "worker")
CLUSTER_FAULT_WEIGHTS = {"agent": 3, "api": 2, "docker": 2, "redis": 1, "worker": 3}
PROBE_AFTER = OFFLINE_AFTER.total_seconds() + 4
HOST_PROBE = """{
  hosts { name status statusReason }
  apps { name host status statusReason }
}"""


class ClusterFaults(Faults):
    def the_cluster(self) -> Cluster:
        assert self.cluster is not None
        return self.cluster

    def fault_weights(self) -> dict[str, int]:
        return CLUSTER_FAULT_WEIGHTS if self.cluster is not None else super().fault_weights()

    def supervise_cluster(self) -> None:
        """Agents and APIs that died without a fault of ours are started again (and counted)."""
        cluster = self.the_cluster()
        rounds = 0
        while not self.closing.wait(1.0):
            rounds += 1
            if rounds % 5 == 0:
                self.watch_waiting_jobs()
            with self.processes:
                for host, agent in cluster.agents.items():
                    if agent.process is None or agent.process.pid in self.killed:
                        continue  # the fault that killed it starts it again
                    if agent.process.poll() is not None:
                        self.tally.exits["agent"] += 1
                        self.say(f"agent {host} exited by itself with code {agent.process.returncode}; started again")
                        agent.start()
                for index, api in enumerate(cluster.apis):
                    if api.process.poll() is not None:
                        self.tally.exits["api"] += 1
                        self.say(f"API {index + 1} exited by itself with code {api.process.returncode}")
                        self.restart_api(index)

    def restart_api(self, index: int) -> None:
        try:
            self.the_cluster().restart_api(index)
        except AssertionError as exc:
            self.say(f"API {index + 1} did not come back yet: {str(exc)[:200]}")

    def cluster_fault_agent(self) -> None:
        host = self.fault_rng.choice(HOSTS)
        agent = self.the_cluster().agents[host]
        down = self.fault_rng.uniform(3, 20)
        with self.processes:
            if agent.process is not None:
                self.killed.add(agent.process.pid)
            agent.kill_group()
        self.say(f"fault: SIGKILL agent {host}'s process group, back in {down:.1f} s")
        self.host_down(host, down)
        with self.processes:
            agent.start()
        self.host_back(host)

    def cluster_fault_api(self) -> None:
        cluster = self.the_cluster()
        index = self.fault_rng.randrange(len(cluster.apis))
        down = self.fault_rng.uniform(0.5, 3)
        with self.processes:
            cluster.apis[index].process.kill()
            cluster.apis[index].process.wait()
            self.say(f"fault: SIGKILL API {index + 1}, back in {down:.1f} s")
            time.sleep(down)
            self.restart_api(index)

    def cluster_fault_docker(self) -> None:
        host = self.fault_rng.choice(HOSTS)
        engine = self.the_cluster().engines[host]
        down = self.fault_rng.uniform(2, 20)
        started = time.monotonic()
        engine.stop()
        self.say(f"fault: dockerd of host {host} stopped in {time.monotonic() - started:.1f} s, back in {down:.1f} s")
        self.host_down(host, down)
        engine.start()
        self.host_back(host)

    def cluster_fault_redis(self) -> None:
        down = self.fault_rng.uniform(1, 8)
        self.redis.kill()
        self.say(f"fault: Redis killed, back in {down:.1f} s, empty")
        self.redis_back = time.monotonic() + down
        time.sleep(down)
        self.redis.start()

    def cluster_fault_worker(self) -> None:
        agents = {a.process.pid for a in self.the_cluster().agents.values() if a.process is not None}
        busy = {pid: job for pid, job in self.busy_workers().items() if parent_of(pid) in agents}
        idle = [pid for pid in children_of(agents) if pid not in busy]
        pool = list(busy) if busy and self.fault_rng.random() < 0.75 else idle
        if pool:
            victim = self.fault_rng.choice(sorted(pool))
            with suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
            running = f"worker running {busy[victim]}" if victim in busy else "idle worker or watcher"
            self.say(f"fault: SIGKILL agent child {victim} ({running})")

    def watch_waiting_jobs(self) -> None:
        """A job QUEUED or RUNNING for longer than --quiet-timeout while its host was up
        (since the job was first seen, the host's last return, and Redis's) is late: stuck."""
        try:
            with self.database() as db:
                rows = db.execute(
                    "SELECT j.id, j.app_name, j.kind, j.state, a.host FROM jobs j"
                    " LEFT JOIN apps a ON a.name = j.app_name WHERE j.state IN ('QUEUED', 'RUNNING')"
                ).fetchall()
        except Exception as exc:  # the run goes on; the end's counts still hold
            self.say(f"watching waiting jobs failed: {type(exc).__name__}: {exc}")
            return
        now = time.monotonic()
        for job_id, app, kind, state, host in rows:
            since = max(self.first_seen.setdefault(job_id, now), self.host_returns.get(host, 0.0), self.redis_back)
            waited = now - since
            if host not in self.hosts_down and waited > self.args.quiet_timeout and job_id not in self.late:
                self.late[job_id] = f"{kind} {job_id} of {app} on host {host}: {state} {waited:.0f} s while all was up"
                self.say(f"late job: {self.late[job_id]}")

    def host_down(self, host: str, seconds: float) -> None:
        """Sleep `seconds`; probe the host once when it has been down long enough to be OFFLINE."""
        self.hosts_down.add(host)
        if seconds <= PROBE_AFTER + 1:
            time.sleep(seconds)
            return
        time.sleep(PROBE_AFTER)
        self.probe_offline(host)
        time.sleep(seconds - PROBE_AFTER)

    def host_back(self, host: str) -> None:
        self.hosts_down.discard(host)
        self.host_returns[host] = time.monotonic()
        self.say(f"host {host} is back (agent and engine started)")

    def probe_offline(self, host: str) -> None:
        try:
            data = self.fault_rng.choice(self.clients).execute(HOST_PROBE)
        except API_ERRORS as exc:
            self.say(f"probe of offline host {host} got no answer: {str(exc)[:200]}")
            return
        self.probes += 1
        status = {h["name"]: h for h in data["hosts"]}
        misreads = []
        if status.get(host, {}).get("status") != "OFFLINE":
            misreads.append(f"host {host} reads {status.get(host)} while down")
        for app in data["apps"]:
            if app["host"] == host and app["status"] not in BUSY | {"UNKNOWN"}:
                misreads.append(f"{app['name']} on down host {host} reads {app['status']} ({app['statusReason']})")
            elif app["host"] != host and app["status"] == "UNKNOWN" and self.the_cluster().host_online(app["host"]):
                misreads.append(f"{app['name']} on host {app['host']} (up) reads UNKNOWN ({app['statusReason']})")
        self.misreads += misreads
        self.say(f"probe of down host {host}: {len(misreads)} misread(s)" + "".join(f"\n    {m}" for m in misreads))


def parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def children_of(parents: set[int]) -> list[int]:
    """The live processes whose parent is one of `parents` (an agent's workers and watcher)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and parent_of(int(entry)) in parents:
            found.append(int(entry))
    return found
