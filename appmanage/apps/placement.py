"""Where an install goes: the host the operator names, or the best one that fits.

A host fits when it is ONLINE, not draining, meets the template's requirements, and none
of the install's ports is in use there (listening or published on that host, or given to
an app on it). Ports are a host's own: two hosts may each publish 8181, unless they share
one network namespace (two engines on one machine), where each agent reports the ports
listening in it, so a port taken through one engine is seen busy on the other.
Without a named host the least loaded fitting host wins: fewest apps, then most memory,
then its name. This module is pure; `apps/host_offers.py` gathers the offers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from appmanage.catalog.model import Requirements
from appmanage.catalog.requirements import unmet
from appmanage.errors import Conflict, NotFound, Unavailable, ValidationFailed
from appmanage.hosts.facts import HostStatus


@dataclass(frozen=True)
class HostOffer:
    """What one host offers a new install."""

    name: str
    status: HostStatus
    draining: bool
    cpu: float
    memory_gb: float
    disk_gb: float
    busy_ports: frozenset[int]  # listening or published on the host
    app_ports: Mapping[int, str] = field(default_factory=dict)  # given to apps on the host: port → app
    app_count: int = 0


def refusal(offer: HostOffer, requirements: Requirements, ports: Iterable[int]) -> str | None:
    """Why `offer` cannot take the install, in a few words; None: it fits."""
    if not offer.status.online:
        return f"OFFLINE ({offer.status.reason or 'no reason given'})"
    if offer.draining:
        return "draining (it takes no new installs)"
    missing = unmet(requirements, offer.cpu, offer.memory_gb, offer.disk_gb)
    if missing:
        return "; ".join(missing)
    return _port_clash(offer, ports)


def _port_clash(offer: HostOffer, ports: Iterable[int]) -> str | None:
    for port in ports:
        if port in offer.app_ports:
            return f"port {port} is already given to app {offer.app_ports[port]}"
        if port in offer.busy_ports:
            return f"port {port} in use"
    return None


def choose_host(
    offers: Sequence[HostOffer], subject: str, requirements: Requirements, ports: Sequence[int]
) -> HostOffer:
    """The least loaded host that fits; ValidationFailed naming each host's reason when none does."""
    if not offers:
        raise ValidationFailed("no Docker host is known: start an agent (`appmanage agent --host NAME`)", field="host")
    if len(offers) == 1:  # the one host there is: its own errors, as before hosts existed
        check_host(offers[0], subject, requirements, ports)
        return offers[0]
    reasons = {offer.name: refusal(offer, requirements, ports) for offer in offers}
    fitting = [offer for offer in offers if reasons[offer.name] is None]
    if not fitting:
        why = "; ".join(f"host {name}: {reason}" for name, reason in sorted(reasons.items()))
        raise ValidationFailed(f"no host can take this install: {why}", field="host")
    return min(fitting, key=lambda o: (o.app_count, -o.memory_gb, o.name))


def check_host(offer: HostOffer, subject: str, requirements: Requirements, ports: Sequence[int]) -> None:
    """The named host takes the install of `subject` (a catalog app), or the error that says why not."""
    if not offer.status.online:
        raise Unavailable(f"host {offer.name} is OFFLINE: {offer.status.reason}; install elsewhere or wait for it")
    if offer.draining:
        raise ValidationFailed(f"host {offer.name} is draining and takes no new installs", field="host")
    missing = unmet(requirements, offer.cpu, offer.memory_gb, offer.disk_gb)
    if missing:
        raise ValidationFailed(f"{subject} {'; '.join(missing)} (host {offer.name})")
    for port in ports:
        if port in offer.app_ports:
            raise Conflict(f"port {port} is already given to app {offer.app_ports[port]} on host {offer.name}")
        if port in offer.busy_ports:
            raise Conflict(f"port {port} is in use on host {offer.name}")


def named_host(offers: Sequence[HostOffer], name: str) -> HostOffer:
    for offer in offers:
        if offer.name == name:
            return offer
    known = ", ".join(sorted(o.name for o in offers)) or "none"
    raise NotFound(f"no Docker host is named {name} (known hosts: {known})")
