"""Private Redis and Docker daemons, for fault tests and the chaos run: they are killed and
restarted at will without touching the shared services."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import zlib
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.ports import free_port
from tests.support.run import RUN_ID
from tests.support.waiting import wait_for

LOCAL_IMAGES = ("appmanage-local/busybox:1", "appmanage-local/hello:1", "appmanage-local/hello:2")


def answers(command: list[str], env: dict[str, str] | None = None) -> bool:
    return subprocess.run(command, capture_output=True, env=env, timeout=30).returncode == 0


@dataclass
class PrivateRedis:
    """A Redis that keeps nothing on disk: every restart loses all keys."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        wait_for(lambda: answers(["redis-cli", "-p", str(self.port), "ping"]), 10, "the private Redis")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@dataclass
class PrivateDocker:
    """A second dockerd with its own socket, data root and address pool."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix=f"appmanage-{RUN_ID}-docker-")))
    process: subprocess.Popen[bytes] | None = None
    images: tuple[str, ...] = LOCAL_IMAGES
    launcher: tuple[str, ...] = ()  # e.g. nsenter, to run it in another network namespace
    address_pool: str = "base=10.213.0.0/16,size=24"  # two in one network namespace need two pools

    @property
    def host(self) -> str:
        return f"unix://{self.root}/docker.sock"

    def docker(self, *args: str) -> list[str]:
        return ["docker", "-H", self.host, *args]

    @property
    def bridge(self) -> str:
        """Its own bridge, so that it leaves docker0 to the machine's own dockerd."""
        return f"am{zlib.crc32(self.root.name.encode()):08x}"

    def start(self) -> None:
        subprocess.run([*self.launcher, "ip", "link", "add", self.bridge, "type", "bridge"], capture_output=True)
        flags = {
            "--host": self.host,
            "--data-root": str(self.root / "data"),
            "--exec-root": str(self.root / "exec"),
            "--pidfile": str(self.root / "docker.pid"),
            "--bridge": self.bridge,
            "--default-address-pool": self.address_pool,
        }
        command = [
            *self.launcher,
            "dockerd",
            *(part for pair in flags.items() for part in pair),
            "--iptables=false",
            "--ip-masq=false",
        ]
        docker0 = self._docker0_addresses()
        with (self.root / "dockerd.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=log)
        wait_for(lambda: answers(self.docker("info")), 60, "the private dockerd")
        self._put_back_docker0(docker0)

    def _docker0_addresses(self) -> list[str]:
        shown = subprocess.run([*self.launcher, "ip", "-o", "-4", "addr", "show", "docker0"], capture_output=True)
        return [line.split()[3] for line in shown.stdout.decode().splitlines()] if shown.returncode == 0 else []

    def _put_back_docker0(self, addresses: list[str]) -> None:
        """A dockerd that restarts with an address pool and finds its default network from
        before deletes the interface docker0 of its network namespace, whatever its --bridge
        (moby's initNetworkController): the machine's own dockerd needs it back as it was."""
        if not addresses or self._docker0_addresses():
            return
        ip = [*self.launcher, "ip"]
        subprocess.run([*ip, "link", "add", "docker0", "type", "bridge"], capture_output=True)
        for address in addresses:
            subprocess.run([*ip, "addr", "add", address, "dev", "docker0"], capture_output=True)
        subprocess.run([*ip, "link", "set", "docker0", "up"], capture_output=True)

    def load_images(self) -> None:
        saved = subprocess.Popen(["docker", "save", *self.images], stdout=subprocess.PIPE)
        subprocess.run(self.docker("load", "-q"), stdin=saved.stdout, check=True, capture_output=True)
        saved.wait()

    def stop(self) -> None:
        """SIGTERM; SIGKILL when it does not stop within a minute."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def remove(self) -> None:
        """Its containers and networks, the daemon, its data root, and any shim it left."""
        if self.process is not None and self.process.poll() is None:
            names = subprocess.run(self.docker("ps", "-aq"), capture_output=True, text=True).stdout.split()
            if names:
                subprocess.run(self.docker("rm", "-f", *names), capture_output=True)
            subprocess.run(self.docker("network", "prune", "-f"), capture_output=True)
        self.stop()
        subprocess.run(["umount", "-R", str(self.root / "data")], capture_output=True)
        subprocess.run([*self.launcher, "ip", "link", "del", self.bridge], capture_output=True)
        kill_leftovers(f"{self.root}/")
        shutil.rmtree(self.root, ignore_errors=True)


def kill_leftovers(marker: str) -> None:
    """SIGKILL processes whose command line contains `marker` (a private dockerd's root):
    containerd shims it sometimes leaves behind when stopped while removing a container."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with suppress(OSError, ProcessLookupError):
            if marker in cmdline.read_bytes().decode(errors="replace"):
                os.kill(int(cmdline.parent.name), signal.SIGKILL)
