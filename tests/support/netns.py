"""A network namespace joined to this one by a veth pair, as a second machine would be: its
own ports, and Redis and PostgreSQL (which listen on 127.0.0.1 here) reached through TCP
forwarders (socat) on the host side of the pair. Only addresses in a private /30 made here."""

from __future__ import annotations

import secrets
import subprocess
from dataclasses import dataclass, field

from sqlalchemy.engine import make_url

from tests.support.faults import answers
from tests.support.ports import free_port
from tests.support.waiting import wait_for


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@dataclass
class NetworkNamespace:
    tag: str = field(default_factory=lambda: secrets.token_hex(3))
    subnet: str = field(default_factory=lambda: f"10.219.{secrets.randbelow(256)}")  # not PrivateDocker's pool
    forwarders: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"appmanage-{self.tag}"

    @property
    def outside(self) -> str:
        """This namespace's end of the pair, as the other namespace reaches it."""
        return f"{self.subnet}.1"

    def command(self, *args: str) -> list[str]:
        """`args` run in this namespace. Not `ip netns exec`: its fresh /sys hides the cgroup
        mounts dockerd needs; nsenter changes the network namespace only."""
        return ["nsenter", f"--net=/var/run/netns/{self.name}", *args]

    def create(self) -> NetworkNamespace:
        host_end, ns_end = f"vam{self.tag}a", f"vam{self.tag}b"
        _ip("netns", "add", self.name)
        _ip("link", "add", host_end, "type", "veth", "peer", "name", ns_end)
        _ip("link", "set", ns_end, "netns", self.name)
        _ip("addr", "add", f"{self.outside}/30", "dev", host_end)
        _ip("link", "set", host_end, "up")
        _ip("netns", "exec", self.name, "ip", "addr", "add", f"{self.subnet}.2/30", "dev", ns_end)
        _ip("netns", "exec", self.name, "ip", "link", "set", ns_end, "up")
        _ip("netns", "exec", self.name, "ip", "link", "set", "lo", "up")
        return self

    def forward(self, url: str) -> str:
        """`url` (redis:// or postgresql://, on this namespace's loopback) as reached from the
        other namespace: through a forwarder on a free port of the host side of the pair."""
        target = make_url(url)
        port = free_port()
        self.forwarders.append(
            subprocess.Popen(
                [
                    "socat",
                    f"TCP-LISTEN:{port},bind={self.outside},fork,reuseaddr",
                    f"TCP:{target.host or '127.0.0.1'}:{target.port}",
                ],
                stderr=subprocess.DEVNULL,
            )
        )
        probe = self.command("bash", "-c", f"exec 3<>/dev/tcp/{self.outside}/{port}")
        wait_for(lambda: answers(probe), 10, f"the forwarder to {target.host}:{target.port}")
        return target.set(host=self.outside, port=port).render_as_string(hide_password=False)

    def remove(self) -> None:
        for forwarder in self.forwarders:
            forwarder.kill()
            forwarder.wait()
        subprocess.run(["ip", "link", "del", f"vam{self.tag}a"], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
